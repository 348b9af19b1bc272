import * as fs from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { ToolError } from "../common/cli";
import { syncDir } from "../common/files";

export const JOURNAL_FILE = "journal.jsonl";

/**
 * One line of the send journal. `attempt` is written (and flushed) before a
 * message goes to the SMTP server, `sent` once the server accepted it,
 * `failed` when the server refused it. An `attempt` with neither after it
 * means the run stopped while the server had the message: it may or may not
 * have been delivered, so it is not sent again unless the operator says so.
 */
export const journalEntrySchema = z.object({
  at: z.string(),
  event: z.enum(["attempt", "sent", "failed"]),
  schoolId: z.string(),
  messageId: z.string(),
  to: z.string().optional(),
  response: z.string().optional(),
  error: z.string().optional(),
});
export type JournalEntry = z.infer<typeof journalEntrySchema>;

export type SchoolSendState = "sent" | "failed" | "uncertain";

export interface JournalState {
  /** Last state per school id. */
  states: Map<string, { state: SchoolSendState; messageId: string }>;
  /** Set when the last line was cut short by an interruption and ignored. */
  tornTail: boolean;
}

export function readJournal(path: string, shownAs = path): JournalState {
  const states: JournalState["states"] = new Map();
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { states, tornTail: false };
    throw error;
  }
  const lines = text.split("\n");
  // Every complete entry ends with "\n"; whatever follows the last one was cut short.
  const tail = lines.pop() ?? "";
  lines.forEach((line, k) => {
    if (line.trim() === "") return;
    let entry: JournalEntry;
    try {
      entry = journalEntrySchema.parse(JSON.parse(line));
    } catch {
      throw new ToolError(`${shownAs}:${k + 1}: not a journal entry; the journal is append-only, do not edit it`);
    }
    const state: SchoolSendState = entry.event === "attempt" ? "uncertain" : entry.event;
    states.set(entry.schoolId, { state, messageId: entry.messageId });
  });
  return { states, tornTail: tail.trim() !== "" };
}

/** Append-only writer: each entry is one line, flushed to disk before `append` returns. */
export class JournalWriter {
  private fd: number;

  constructor(path: string) {
    const existed = fs.existsSync(path);
    this.fd = fs.openSync(path, "a", 0o600);
    fs.fchmodSync(this.fd, 0o600);
    // A last line cut short by an interruption was never a complete entry:
    // it is cut off so that the next entry starts on a line of its own.
    const text = fs.readFileSync(path);
    const end = text.lastIndexOf(0x0a) + 1;
    if (end < text.length) {
      fs.ftruncateSync(this.fd, end);
      fs.fsyncSync(this.fd);
    }
    if (!existed) syncDir(dirname(path));
  }

  append(entry: Omit<JournalEntry, "at">): void {
    const line = `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`;
    fs.writeSync(this.fd, line);
    fs.fsyncSync(this.fd);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
