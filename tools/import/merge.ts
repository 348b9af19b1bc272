import { existsSync, readFileSync } from "node:fs";
import { formatIssue, isError } from "../../infra/inputs/issues";
import { readTable } from "../../infra/inputs/table";
import { SCHOOL_COLUMNS, type SchoolColumn } from "../../schools/schema";
import { ToolError } from "../common/cli";
import { toCsv } from "../common/csv";
import type { SchoolRecord } from "./normalize";

export interface FieldChange {
  field: SchoolColumn;
  from: string;
  to: string;
}

export interface MergeResult {
  /** The new list, sorted by id. */
  schools: SchoolRecord[];
  added: SchoolRecord[];
  changed: { id: string; name: string; changes: FieldChange[] }[];
  removed: SchoolRecord[];
  unchanged: number;
}

/** Reads the current school list without judging it beyond its shape; missing file: empty list. */
export function readCurrentList(path: string, shownAs = path): SchoolRecord[] {
  if (!existsSync(path)) return [];
  const table = readTable(readFileSync(path, "utf8"), shownAs, SCHOOL_COLUMNS);
  const errors = table.issues.filter(isError);
  if (errors.length > 0)
    throw new ToolError(`the current school list cannot be read, so no merge is possible:\n${errors.map((i) => `  ${formatIssue(i)}`).join("\n")}`);
  return table.rows.map((r) => {
    const v = r.values;
    return { id: v.id.trim(), name: v.name.trim(), town: v.town.trim(), email: v.email.trim(), tier: v.tier.trim() };
  });
}

const byId = (a: SchoolRecord, b: SchoolRecord) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The imported sheet is the complete list: schools missing from it are
 * removed. When the sheet has no tier column, tiers are ours, not the
 * ministry's: known schools keep theirs and new ones get the default (empty).
 */
export function mergeSchools(current: readonly SchoolRecord[], imported: readonly SchoolRecord[], sheetHasTier: boolean): MergeResult {
  const old = new Map(current.map((s) => [s.id, s]));
  const schools = imported.map((s) => (sheetHasTier ? { ...s } : { ...s, tier: old.get(s.id)?.tier ?? "" })).sort(byId);
  const seen = new Set(schools.map((s) => s.id));
  const result: MergeResult = { schools, added: [], changed: [], removed: [], unchanged: 0 };
  for (const school of schools) {
    const before = old.get(school.id);
    if (!before) {
      result.added.push(school);
      continue;
    }
    const changes = SCHOOL_COLUMNS.filter((f) => before[f] !== school[f]).map((field) => ({ field, from: before[field], to: school[field] }));
    if (changes.length > 0) result.changed.push({ id: school.id, name: school.name, changes });
    else result.unchanged += 1;
  }
  result.removed = current.filter((s) => !seen.has(s.id)).sort(byId);
  return result;
}

/** The school list file: header id,name,town,email,tier, RFC 4180 quoting, UTF-8 without BOM, LF. */
export function renderSchoolList(schools: readonly SchoolRecord[]): string {
  return toCsv(
    SCHOOL_COLUMNS,
    schools.map((s) => SCHOOL_COLUMNS.map((c) => s[c])),
  );
}

export function describeMerge(result: MergeResult): string[] {
  const lines: string[] = [];
  for (const s of result.added) lines.push(`  + ${s.id} ${s.name} (${s.town})${s.tier ? ` [${s.tier}]` : ""}`);
  for (const c of result.changed)
    lines.push(`  ~ ${c.id} ${c.name}: ${c.changes.map((ch) => `${ch.field} ${JSON.stringify(ch.from)} -> ${JSON.stringify(ch.to)}`).join("; ")}`);
  for (const s of result.removed) lines.push(`  - ${s.id} ${s.name} (${s.town})`);
  return lines;
}
