import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { FleetOutputs } from "../../infra/outputs/schema";
import { parseArgs, processIO, requireFlag, runTool, stringFlag, UsageError, userPath, type ToolIO } from "../../tools/common/cli";
import { spreadsheetText, startsLikeFormula, toCsv } from "../../tools/common/csv";
import { ensureDir, writeFileAtomic } from "../../tools/common/files";
import { loadFleetOutputs } from "../../tools/common/outputs";
import { JOURNAL_FILE, JournalWriter, readJournal } from "../../tools/mailout/journal";
import { lockDirectory } from "../../tools/mailout/lock";
import { composeLetter, type Letter } from "../../tools/mailout/message";
import { classifySmtpError, parseRate, smtpSender, type MailSender } from "../../tools/mailout/smtp";

export const summary = "write (and send) the welcome letters with each school's site and admin password";

export const usage = `usage: fleet mailout --outputs FILE --out DIR [--from ADDR] [--support TEXT]
                    [--send --smtp smtp://HOST:PORT [--rate N/min] [--resend ID,...]]
  Writes DIR/<school id>.eml (German, then English: site URL, admin user,
  password, first steps, support) and DIR/mailmerge.csv. DIR is made 0700,
  the files 0600. Passwords are never printed.
  --outputs   stack outputs JSON (pulumi stack output --json --show-secrets)
  --from      From address (default: noreply@<domain>)
  --support   how schools reach support, shown in both languages
  --send      deliver over SMTP; DIR/${JOURNAL_FILE} records every message and a
              rerun sends only what is not yet sent (SMTP login, if needed,
              from FLEET_SMTP_USER and FLEET_SMTP_PASSWORD)
  --rate      messages per minute (default 60/min)
  --resend    send again to schools whose earlier attempt was cut off
              (their delivery is unknown: check the mail server's log first)`;

const SPEC = {
  outputs: "string",
  out: "string",
  send: "boolean",
  smtp: "string",
  from: "string",
  rate: "string",
  support: "string",
  resend: "string",
} as const;

export const MAILMERGE_FILE = "mailmerge.csv";

export interface MailoutDeps {
  /** Replaces the SMTP client (tests); default: smtpSender(--smtp, --from). */
  sender?: (url: string, from: string) => MailSender;
  sleep?: (ms: number) => Promise<void>;
}

const sleepMs = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function shown(io: ToolIO, path: string): string {
  const rel = relative(io.cwd, path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}

export async function run(argv: string[], io: ToolIO = processIO(), deps: MailoutDeps = {}): Promise<number> {
  return runTool("mailout", usage, argv, io, async () => {
    const args = parseArgs(argv, SPEC);
    if (args.positional.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positional[0])}`);
    const outputsPath = userPath(io, requireFlag(args, "outputs"));
    const dir = userPath(io, requireFlag(args, "out"));
    const send = args.flags.send === true;
    const smtpUrl = stringFlag(args, "smtp");
    if (send && smtpUrl === undefined) throw new UsageError("--send needs --smtp smtp://HOST:PORT");
    for (const name of ["smtp", "rate", "resend"]) {
      if (!send && stringFlag(args, name) !== undefined) throw new UsageError(`--${name} only applies with --send`);
    }
    const perMinute = parseRate(stringFlag(args, "rate") ?? "60/min");
    const resend = new Set((stringFlag(args, "resend") ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""));

    const outputs = loadFleetOutputs(outputsPath, shown(io, outputsPath), { needSecrets: true });
    const from = stringFlag(args, "from") ?? `noreply@${outputs.domain}`;
    const support = stringFlag(args, "support");
    // Fail on a bad --smtp or --from before anything is written.
    const sender = send ? (deps.sender ?? smtpSender)(smtpUrl as string, from) : undefined;

    try {
      ensureDir(dir, 0o700);
      const unlock = lockDirectory(dir);
      try {
        return await mailout(io, dir, outputs, { from, support, sender, perMinute, resend, sleep: deps.sleep ?? sleepMs });
      } finally {
        unlock();
      }
    } finally {
      sender?.close();
    }
  });
}

interface MailoutOptions {
  from: string;
  support?: string;
  sender?: MailSender;
  perMinute: number;
  resend: Set<string>;
  sleep: (ms: number) => Promise<void>;
}

async function mailout(io: ToolIO, dir: string, outputs: FleetOutputs, o: MailoutOptions): Promise<number> {
  const dirShown = shown(io, dir);
  const journalPath = join(dir, JOURNAL_FILE);
  const journal = readJournal(journalPath, shown(io, journalPath));
  if (journal.tornTail) io.stderr(`fleet mailout: note: the journal's last line was cut short by an interruption; it is ignored\n`);
  for (const id of o.resend) {
    const entry = journal.states.get(id);
    if (entry?.state !== "uncertain")
      throw new UsageError(`--resend ${id}: ${entry ? `that school's state is "${entry.state}"` : "no attempt to that school in the journal"}; only cut-off attempts can be resent`);
  }

  const sites = Object.values(outputs.sites).sort((a, b) => (a.schoolId < b.schoolId ? -1 : a.schoolId > b.schoolId ? 1 : 0));
  const letters: Letter[] = [];
  let kept = 0;
  for (const site of sites) {
    const emlPath = join(dir, `${site.schoolId}.eml`);
    const earlier = journal.states.get(site.schoolId);
    // A letter the journal knows is the record of what was (or may have been)
    // sent: it is never rewritten, and a retry sends the very same message.
    if (earlier && existsSync(emlPath)) {
      letters.push({ schoolId: site.schoolId, to: site.email, subject: "", messageId: earlier.messageId, raw: readFileSync(emlPath) });
      kept += 1;
      continue;
    }
    const letter = await composeLetter(site, outputs.adminPasswords[site.schoolId], { from: o.from, support: o.support, messageIdDomain: outputs.domain });
    writeFileAtomic(emlPath, letter.raw, 0o600);
    letters.push(letter);
  }
  const merge = toCsv(
    ["school_id", "name", "email", "url", "admin_user", "password"],
    sites.map((s) => [s.schoolId, s.name, s.email, s.url, s.adminUser, outputs.adminPasswords[s.schoolId]].map(spreadsheetText)),
    "\r\n",
  );
  // Passwords generated before they had to start with a letter or digit can
  // begin with - + or =; in the mail-merge file they now carry the apostrophe,
  // which is not part of the password. The letters (.eml) have them exact.
  const marked = sites.filter((s) => startsLikeFormula(outputs.adminPasswords[s.schoolId])).map((s) => s.schoolId);
  if (marked.length > 0)
    io.stderr(
      `fleet mailout: note: in ${MAILMERGE_FILE} the passwords of ${marked.join(", ")} start with an apostrophe that is not part of the password ` +
        `(it keeps spreadsheets from reading them as formulas); their .eml letters are exact\n`,
    );
  // With a BOM, so that Excel opens the UTF-8 mail-merge source with its umlauts intact.
  writeFileAtomic(join(dir, MAILMERGE_FILE), `\uFEFF${merge}`, 0o600);
  io.stdout(`${dirShown}: ${letters.length} letters (${letters.length - kept} written, ${kept} kept as sent before) and ${MAILMERGE_FILE}\n`);
  if (!o.sender) return 0;

  const writer = new JournalWriter(journalPath);
  const interval = 60_000 / o.perMinute;
  const counts = { sent: 0, before: 0, failed: 0, notTried: 0 };
  const uncertain: string[] = [];
  let lastStart: number | undefined;
  let stopped = false;
  try {
    for (const letter of letters) {
      const state = journal.states.get(letter.schoolId)?.state;
      if (state === "sent") {
        counts.before += 1;
        continue;
      }
      if (state === "uncertain" && !o.resend.has(letter.schoolId)) {
        uncertain.push(letter.schoolId);
        continue;
      }
      if (stopped) {
        counts.notTried += 1;
        continue;
      }
      if (lastStart !== undefined) {
        const wait = lastStart + interval - Date.now();
        if (wait > 0) await o.sleep(wait);
      }
      lastStart = Date.now();
      writer.append({ event: "attempt", schoolId: letter.schoolId, messageId: letter.messageId, to: letter.to });
      try {
        const result = await o.sender.send(letter);
        writer.append({ event: "sent", schoolId: letter.schoolId, messageId: letter.messageId, response: result.response });
        counts.sent += 1;
        io.stdout(`sent ${letter.schoolId} to ${letter.to}\n`);
      } catch (error) {
        const kind = classifySmtpError(error);
        const message = smtpMessage(error);
        if (kind === "uncertain") {
          uncertain.push(letter.schoolId);
          io.stderr(`fleet mailout: ${letter.schoolId}: connection lost while sending (${message}); delivery unknown\n`);
          stopped = true;
          continue;
        }
        writer.append({ event: "failed", schoolId: letter.schoolId, messageId: letter.messageId, error: message });
        counts.failed += 1;
        io.stderr(`fleet mailout: ${letter.schoolId} to ${letter.to}: refused: ${message}\n`);
        if (kind === "refused") stopped = true;
      }
    }
  } finally {
    writer.close();
  }
  io.stdout(
    `mailout: ${counts.sent} sent now, ${counts.before} sent before, ${counts.failed} refused, ${uncertain.length} unknown, ${counts.notTried} not tried\n`,
  );
  if (stopped) io.stderr("fleet mailout: stopped after an SMTP error; run the same command again to send the rest\n");
  if (uncertain.length > 0)
    io.stderr(
      `fleet mailout: delivery unknown for ${uncertain.join(", ")} (a run was cut off while sending); ` +
        `check the mail server's log, then use --resend ${uncertain.join(",")} for those not delivered\n`,
    );
  return stopped || counts.failed > 0 || uncertain.length > 0 ? 1 : 0;
}

/** The server's reply or the client's error, without anything from the message itself. */
function smtpMessage(error: unknown): string {
  const e = error as { response?: unknown; message?: unknown; code?: unknown };
  if (typeof e.response === "string" && e.response !== "") return e.response;
  const text = typeof e.message === "string" ? e.message : String(error);
  return typeof e.code === "string" ? `${e.code}: ${text}` : text;
}

/** Picked up by the fleet dispatcher (stacks/cli.ts). */
export const command = {
  name: "mailout",
  summary,
  usage: usage.replace(/^usage: fleet mailout /, ""),
  run: (args: string[], io: ToolIO) => run(args, io),
};

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`fleet mailout: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
