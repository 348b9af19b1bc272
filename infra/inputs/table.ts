import { parseCsv } from "./csv";
import type { InputIssue } from "./issues";

/** A data row keyed by column name, with the line it starts on. */
export interface TableRow<C extends string> {
  line: number;
  values: Record<C, string>;
}

export interface TableResult<C extends string> {
  rows: TableRow<C>[];
  /** False when the header is unusable; `rows` is then empty. */
  headerOk: boolean;
  issues: InputIssue[];
}

/**
 * Reads a CSV whose header must name exactly `columns` (any order; names are
 * trimmed and compared case-insensitively, since spreadsheets like "ID").
 * Rows whose field count differs from the header's are reported and dropped:
 * their values cannot be attributed to columns.
 */
export function readTable<C extends string>(text: string, file: string, columns: readonly C[]): TableResult<C> {
  const { records, issues } = parseCsv(text, file);
  const expected = columns.join(",");
  if (records.length === 0) {
    issues.push({ file, rule: "columns", message: `file is empty; expected a header line "${expected}"` });
    return { rows: [], headerOk: false, issues };
  }
  const [header, ...data] = records;
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const headerIssue = (message: string) =>
    issues.push({ file, line: header.line, rule: "columns", message: `${message} (expected columns: ${expected})` });

  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) headerIssue(`duplicate column "${name}"`);
    else if (!(columns as readonly string[]).includes(name)) headerIssue(`unknown column "${name}"`);
    seen.add(name);
  }
  const missing = columns.filter((c) => !seen.has(c));
  if (missing.length > 0) headerIssue(`missing column${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")}`);
  // An unknown extra column is still an error, but the rows can be checked
  // anyway; a missing or doubled one makes the values ambiguous.
  const headerOk = missing.length === 0 && seen.size === names.length;
  if (!headerOk) return { rows: [], headerOk, issues };

  const rows: TableRow<C>[] = [];
  for (const record of data) {
    if (record.fields.length !== names.length) {
      issues.push({
        file,
        line: record.line,
        rule: "field-count",
        message: `${record.fields.length} fields, but the header has ${names.length} (unquoted delimiter in a value?)`,
      });
      continue;
    }
    const values = {} as Record<C, string>;
    names.forEach((name, k) => {
      if ((columns as readonly string[]).includes(name)) values[name as C] = record.fields[k];
    });
    rows.push({ line: record.line, values });
  }
  return { rows, headerOk, issues };
}
