import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { schoolIdSchema } from "../../schools/schema";
import { sortIssues, type InputIssue } from "./issues";
import { readUtf8 } from "./read-text";
import { readTable } from "./table";
import { ruleOf } from "./zod-issues";

/**
 * Site UIDs: the Linux user and group id of each school's site account,
 * fixed per school (`uids.csv` beside the ledger). Assigned by `fleet plan
 * --write` when a school is first placed, never by install order, so a site
 * restored or moved to another host owns its files under the same number.
 * Rows are never removed: a school that leaves keeps its number (its
 * archive on the host is still owned by it), so a number is never given to
 * another school, and a school that comes back gets its own number again.
 */
export const UID_COLUMNS = ["school_id", "uid"] as const;

/**
 * The range site UIDs come from: inside Debian's range for ordinary
 * accounts (1000-59999), far above where useradd allocates on a VM that has
 * a handful of other accounts (from 1000 up), and below systemd's dynamic
 * users (61184-65519) and nobody (65534). 40,000 numbers: every school a
 * fleet ever had, since numbers are never reused.
 */
export const SITE_UID_FIRST = 20000;
export const SITE_UID_LAST = 59999;

export const uidRowSchema = z
  .object({
    school_id: schoolIdSchema,
    uid: z
      .string()
      .trim()
      .refine((v) => /^[0-9]{1,6}$/.test(v) && Number(v) >= SITE_UID_FIRST && Number(v) <= SITE_UID_LAST, {
        params: { rule: "uid-range" },
        error: (i) => `not a site UID from ${SITE_UID_FIRST} to ${SITE_UID_LAST} (${JSON.stringify(i.input)})`,
      })
      .transform(Number),
  })
  .transform((r) => ({ schoolId: r.school_id, uid: r.uid }));

export type UidEntry = z.output<typeof uidRowSchema> & { line?: number };

export interface UidRecord {
  file: string;
  /** Well-formed rows by school id. */
  bySchool: Map<string, UidEntry>;
  /** Every well-formed row in file order, including duplicates (kept so nothing is lost on rewrite). */
  entries: UidEntry[];
  issues: InputIssue[];
}

/** The UID record that goes with a ledger: `uids.csv` in the ledger's folder. */
export function uidRecordPath(ledgerPath: string): string {
  return join(dirname(ledgerPath), "uids.csv");
}

export function parseUidRecord(text: string, file: string): UidRecord {
  const table = readTable(text, file, UID_COLUMNS);
  const issues = [...table.issues];
  const bySchool = new Map<string, UidEntry>();
  const byUid = new Map<number, UidEntry>();
  const entries: UidEntry[] = [];
  for (const { line, values } of table.rows) {
    const parsed = uidRowSchema.safeParse(values);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        issues.push({ file, line, field: String(issue.path[0]), rule: ruleOf(issue), message: issue.message });
      continue;
    }
    const entry = { ...parsed.data, line };
    entries.push(entry);
    const sameSchool = bySchool.get(entry.schoolId);
    const sameUid = byUid.get(entry.uid);
    if (sameSchool) {
      issues.push({ file, line, field: "school_id", rule: "duplicate-school", message: `school ${entry.schoolId} has a UID twice (also line ${sameSchool.line})`, fix: "keep the row whose UID owns the site's files" });
      continue;
    }
    if (sameUid) {
      issues.push({ file, line, field: "uid", rule: "duplicate-uid", message: `UID ${entry.uid} is also school ${sameUid.schoolId}'s (line ${sameUid.line})`, fix: "give one of them a new number above every other" });
      continue;
    }
    bySchool.set(entry.schoolId, entry);
    byUid.set(entry.uid, entry);
  }
  return { file, bySchool, entries, issues: sortIssues(issues) };
}

/** Reads the UID record; a missing file is empty (`fleet plan --write` fills it). */
export function loadUidRecord(path: string, shownAs = path): UidRecord {
  if (!existsSync(path)) return { file: shownAs, bySchool: new Map(), entries: [], issues: [] };
  const { text, issues } = readUtf8(path, shownAs);
  const record = parseUidRecord(text, shownAs);
  return { ...record, issues: sortIssues([...issues, ...record.issues]) };
}

export function serializeUidRecord(entries: readonly UidEntry[]): string {
  return [UID_COLUMNS.join(","), ...entries.map((e) => `${e.schoolId},${e.uid}`)].join("\n") + "\n";
}
