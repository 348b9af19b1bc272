import type { z } from "zod";
import { schoolEmailSchema, schoolIdSchema, schoolTextSchema, type SchoolColumn } from "../../schools/schema";
import { headerKey, type HeaderMapping } from "./mapping";
import type { Cell, Sheet, SheetRow } from "./sheet";

/** A school as it goes into the list: every value a trimmed string, tier possibly empty. */
export type SchoolRecord = Record<SchoolColumn, string>;

export interface ImportedRow {
  /** Spreadsheet row number (CSV: line). */
  row: number;
  school: SchoolRecord;
}

export interface RowProblem {
  row?: number;
  /** The spreadsheet's own header, so the operator finds the cell. */
  column?: string;
  message: string;
}

export interface ImportResult {
  rows: ImportedRow[];
  problems: RowProblem[];
  /** Rows imported with a change a person should check: ids padded back to 8 digits. */
  warnings: RowProblem[];
  /** Spreadsheet row of the header. */
  headerRow?: number;
  /** Which spreadsheet header fed which school column. */
  columns: Partial<Record<SchoolColumn, string>>;
  /** Headers the mapping does not know; their values are not imported. */
  ignored: string[];
}

const REQUIRED: readonly SchoolColumn[] = ["id", "name", "town", "email"];
/** Rows searched for the header: ministry sheets often start with a title. */
const HEADER_SEARCH_ROWS = 20;

export interface NormalizeOptions {
  /** Allowed tier names; undefined: any tier name is accepted. */
  tiers?: readonly string[];
}

/**
 * Maps a sheet's columns to the school list's, normalises the values and
 * checks every row. All problems are collected; rows with problems are not
 * returned.
 */
export function normalizeSheet(sheet: Sheet, mapping: HeaderMapping, options: NormalizeOptions = {}): ImportResult {
  const problems: RowProblem[] = [];
  const mappedCount = (r: SheetRow) => new Set(r.cells.map((c) => mapping.get(headerKey(c.text))).filter((v) => v !== undefined)).size;
  const candidates = sheet.rows.slice(0, HEADER_SEARCH_ROWS);
  const header = candidates.find((r) => r.cells.some((c) => mapping.get(headerKey(c.text)) === "id")) ?? candidates.find((r) => mappedCount(r) >= 2);
  if (!header) {
    const known = [...new Set(mapping.values())].join(", ");
    problems.push({ message: `no header row found in the first ${HEADER_SEARCH_ROWS} rows: no cell names a known column (${known}); give a --mapping for this sheet's headers` });
    return { rows: [], problems, warnings: [], columns: {}, ignored: [] };
  }

  const columnIndex = new Map<SchoolColumn, number>();
  const columns: Partial<Record<SchoolColumn, string>> = {};
  const ignored: string[] = [];
  header.cells.forEach((cell, index) => {
    const name = cell.text.trim();
    if (name === "") return;
    const column = mapping.get(headerKey(name));
    if (column === undefined) {
      ignored.push(name);
      return;
    }
    const before = columns[column];
    if (before !== undefined) {
      problems.push({ row: header.row, column: name, message: `maps to "${column}" like column ${JSON.stringify(before)}; remove one of them or fix the mapping` });
      return;
    }
    columns[column] = name;
    columnIndex.set(column, index);
  });
  const missing = REQUIRED.filter((c) => !columnIndex.has(c));
  if (missing.length > 0)
    problems.push({ row: header.row, message: `no column for ${missing.map((m) => `"${m}"`).join(", ")} (found: ${header.cells.map((c) => JSON.stringify(c.text.trim())).filter((t) => t !== '""').join(", ")}); give a --mapping` });
  if (problems.length > 0) return { rows: [], problems, warnings: [], headerRow: header.row, columns, ignored };

  const rows: ImportedRow[] = [];
  const warnings: RowProblem[] = [];
  const firstRowOfId = new Map<string, number>();
  const dataRows = sheet.rows.filter((r) => r.row > header.row);
  for (const sheetRow of dataRows) {
    const cell = (column: SchoolColumn): Cell | undefined => {
      const index = columnIndex.get(column);
      return index === undefined ? undefined : sheetRow.cells[index];
    };
    // A row blank in every mapped column is spacing, not a school.
    if ([...columnIndex.values()].every((k) => (sheetRow.cells[k]?.text ?? "").trim() === "")) continue;

    const rowProblems: RowProblem[] = [];
    const report = (column: SchoolColumn, message: string) => rowProblems.push({ row: sheetRow.row, column: columns[column], message });
    const check = (column: SchoolColumn, schema: z.ZodType<string, string>, value: string): string => {
      const result = schema.safeParse(value);
      if (result.success) return result.data;
      // The first broken rule says enough; later ones repeat it in other words.
      report(column, result.error.issues[0].message);
      return value;
    };

    const id = idText(cell("id"));
    const school: SchoolRecord = {
      id: check("id", schoolIdSchema, id.text),
      name: check("name", schoolTextSchema, cell("name")?.text ?? ""),
      town: check("town", schoolTextSchema, cell("town")?.text ?? ""),
      email: check("email", schoolEmailSchema, cell("email")?.text ?? ""),
      tier: (cell("tier")?.text ?? "").trim().toLowerCase(),
    };
    if (school.tier !== "" && options.tiers && !options.tiers.includes(school.tier))
      report("tier", `unknown tier ${JSON.stringify(school.tier)} (configured: ${options.tiers.join(", ")}; empty means the default tier)`);
    else if (school.tier !== "" && !/^[a-z][a-z0-9-]{0,30}$/.test(school.tier))
      report("tier", `not a tier name (${JSON.stringify(school.tier)})`);

    if (!rowProblems.some((p) => p.column === columns.id)) {
      const first = firstRowOfId.get(school.id);
      if (first !== undefined) report("id", `duplicate school id ${school.id} (also in row ${first})`);
      else firstRowOfId.set(school.id, sheetRow.row);
    }
    if (rowProblems.length > 0) problems.push(...rowProblems);
    else {
      rows.push({ row: sheetRow.row, school });
      if (id.paddedFrom !== undefined)
        warnings.push({
          row: sheetRow.row,
          column: columns.id,
          message: `school number ${id.paddedFrom} read as ${school.id} (leading zeros restored); check that this is the school meant`,
        });
    }
  }
  return { rows, problems, warnings, headerRow: header.row, columns, ignored };
}

/**
 * The id as text. A column of school numbers that a spreadsheet took for
 * numbers has lost its leading zeros: in an xlsx file the cell holds the
 * number, in a CSV exported from such a sheet the shortened digits. Both are
 * the same loss, so a whole number below 10^8 is padded back to 8 digits
 * either way, and the row is reported so a person can check it.
 */
function idText(cell: Cell | undefined): { text: string; paddedFrom?: string } {
  if (!cell) return { text: "" };
  const n = cell.number;
  const digits =
    n !== undefined ? (Number.isInteger(n) && n >= 0 && n < 1e8 ? String(n) : undefined) : /^\s*(\d{1,8})\s*$/.exec(cell.text)?.[1];
  if (digits === undefined) return { text: cell.text };
  const text = digits.padStart(8, "0");
  return text === digits ? { text } : { text, paddedFrom: digits };
}

export function formatProblem(file: string, p: RowProblem): string {
  const where = p.row === undefined ? file : `${file}, row ${p.row}`;
  const column = p.column === undefined ? "" : `, column ${JSON.stringify(p.column)}`;
  return `${where}${column}: ${p.message}`;
}
