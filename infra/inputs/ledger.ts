import { existsSync } from "node:fs";
import { writeFilesAtomic } from "./atomic";
import { schoolIdSchema } from "../../schools/schema";
import { parseHostName } from "./host-name";
import { sortIssues, type InputIssue } from "./issues";
import { readUtf8 } from "./read-text";
import { readTable } from "./table";

export const LEDGER_COLUMNS = ["school_id", "host"] as const;

/** One placement: school -> host VM. `line` is set when read from a file. */
export interface LedgerEntry {
  schoolId: string;
  host: string;
  line?: number;
}

export interface Ledger {
  /** File the entries came from, as shown in messages. */
  file: string;
  /** Well-formed rows in file order; rows with a bad id or host name are left out. */
  entries: LedgerEntry[];
  /** Syntax problems only; see checkLedger for problems relative to list and config. */
  issues: InputIssue[];
}

/**
 * Parses the placement ledger (`school_id,host`). Only the form of each row
 * is checked here; whether schools and hypervisors exist is checkLedger's job.
 */
export function parseLedger(text: string, file: string): Ledger {
  const table = readTable(text, file, LEDGER_COLUMNS);
  const issues = [...table.issues];
  const entries: LedgerEntry[] = [];
  for (const { line, values } of table.rows) {
    const schoolId = values.school_id.trim();
    const host = values.host.trim();
    let ok = true;
    if (!schoolIdSchema.safeParse(schoolId).success) {
      issues.push({ file, line, field: "school_id", rule: "id-format", message: `not an 8-digit school number (${JSON.stringify(schoolId)})` });
      ok = false;
    }
    if (!parseHostName(host)) {
      issues.push({
        file,
        line,
        field: "host",
        rule: "host-name",
        message: `not a host name of the form <hypervisor>-vm<NN>, e.g. hv01-vm03 (${JSON.stringify(host)})`,
      });
      ok = false;
    }
    if (ok) entries.push({ schoolId, host, line });
  }
  return { file, entries, issues: sortIssues(issues) };
}

/**
 * Reads the ledger. A missing file is an empty ledger: a new fleet starts
 * without one and `fleet plan --write` creates it.
 */
export function loadLedger(path: string, shownAs = path): Ledger {
  if (!existsSync(path)) return { file: shownAs, entries: [], issues: [] };
  const { text, issues } = readUtf8(path, shownAs);
  const ledger = parseLedger(text, shownAs);
  return { ...ledger, issues: sortIssues([...issues, ...ledger.issues]) };
}

export function serializeLedger(entries: readonly LedgerEntry[]): string {
  return [LEDGER_COLUMNS.join(","), ...entries.map((e) => `${e.schoolId},${e.host}`)].join("\n") + "\n";
}

/**
 * Replaces the ledger file atomically: readers (and a crash mid-write) see
 * either the old or the new ledger, never half of one.
 */
export function writeLedger(path: string, entries: readonly LedgerEntry[]): void {
  writeFilesAtomic([{ path, text: serializeLedger(entries) }]);
}
