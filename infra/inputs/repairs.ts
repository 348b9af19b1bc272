import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { schoolIdSchema } from "../../schools/schema";
import { sortIssues, type InputIssue } from "./issues";
import { readUtf8 } from "./read-text";
import { readTable } from "./table";

/**
 * The repair log: one row per request to re-run a school's install
 * (`fleet repair`). Committed beside the placement ledger and append-only,
 * so a repair is a reviewed change like any other: the n-th request for a
 * school makes its install's inputs differ, the preview shows that one
 * install as an update, and `up` re-runs it. The install is idempotent:
 * a finished site keeps its database and data and gets its files rewritten;
 * a broken install is archived and installed afresh.
 */
export const REPAIR_COLUMNS = ["school_id", "requested", "reason"] as const;

export interface RepairLog {
  file: string;
  /** Requests per school id. */
  counts: Map<string, number>;
  /** Line of the latest request per school id, for messages. */
  lines: Map<string, number>;
  issues: InputIssue[];
}

/** The repair log that goes with a ledger: `repairs.csv` in the ledger's folder. */
export function repairLogPath(ledgerPath: string): string {
  return join(dirname(ledgerPath), "repairs.csv");
}

export function parseRepairLog(text: string, file: string): RepairLog {
  const table = readTable(text, file, REPAIR_COLUMNS);
  const issues = [...table.issues];
  const counts = new Map<string, number>();
  const lines = new Map<string, number>();
  for (const { line, values } of table.rows) {
    const schoolId = values.school_id.trim();
    if (!schoolIdSchema.safeParse(schoolId).success) {
      issues.push({ file, line, field: "school_id", rule: "id-format", message: `not an 8-digit school number (${JSON.stringify(schoolId)})` });
      continue;
    }
    if (Number.isNaN(Date.parse(values.requested.trim()))) {
      issues.push({ file, line, field: "requested", rule: "timestamp", message: `not a date and time (${JSON.stringify(values.requested)})` });
    }
    counts.set(schoolId, (counts.get(schoolId) ?? 0) + 1);
    lines.set(schoolId, line);
  }
  return { file, counts, lines, issues: sortIssues(issues) };
}

/** Reads the repair log; a missing file is an empty log (no repair was ever asked for). */
export function loadRepairLog(path: string, shownAs = path): RepairLog {
  if (!existsSync(path)) return { file: shownAs, counts: new Map(), lines: new Map(), issues: [] };
  const { text, issues } = readUtf8(path, shownAs);
  const log = parseRepairLog(text, shownAs);
  return { ...log, issues: sortIssues([...issues, ...log.issues]) };
}

/**
 * Repairs of schools that are not placed: a school that has left (its rows
 * are history; removing a school must not need this file edited) or a typo
 * in a hand-written row, which would repair nothing. A warning either way:
 * `fleet repair` itself only takes placed schools.
 */
export function checkRepairLog(log: RepairLog, placed: ReadonlySet<string>): InputIssue[] {
  return [...log.lines]
    .filter(([id]) => !placed.has(id))
    .map(([id, line]) => ({
      file: log.file,
      line,
      field: "school_id",
      rule: "unknown-school",
      severity: "warning" as const,
      message: `school ${id} has no site in the placement ledger: this row repairs nothing`,
      fix: "delete its rows if the id is mistyped; a school that left may keep them",
    }));
}

/** One CSV field: quoted when it holds a separator, quote or line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Appends one repair request; creates the file with its header when missing. */
export function appendRepair(path: string, request: { schoolId: string; requested: Date; reason: string }): void {
  if (!existsSync(path)) writeFileSync(path, `${REPAIR_COLUMNS.join(",")}\n`, { flag: "wx" });
  appendFileSync(path, `${[request.schoolId, request.requested.toISOString(), request.reason].map(csvField).join(",")}\n`);
}
