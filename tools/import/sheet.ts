import { readFileSync } from "node:fs";
import { extname } from "node:path";
import ExcelJS from "exceljs";
import { parseCsv } from "../../infra/inputs/csv";
import { formatIssue } from "../../infra/inputs/issues";
import { ToolError } from "../common/cli";
import { decodeSpreadsheetText, type TextEncoding } from "./decode";

/** One cell as read: its text, and the number when the spreadsheet stored one. */
export interface Cell {
  text: string;
  number?: number;
}

/** A non-empty row with its spreadsheet row number (CSV: its line). */
export interface SheetRow {
  row: number;
  cells: Cell[];
}

export interface Sheet {
  kind: "xlsx" | "csv";
  /** CSV only: how the bytes were decoded and which delimiter was found. */
  encoding?: TextEncoding;
  delimiter?: string;
  /** xlsx only: the worksheet read. */
  worksheet?: string;
  rows: SheetRow[];
}

export function sheetKind(path: string, bytes: Uint8Array): "xlsx" | "csv" {
  const ext = extname(path).toLowerCase();
  const zip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (ext === ".xls" || (bytes.length >= 8 && bytes[0] === 0xd0 && bytes[1] === 0xcf && bytes[2] === 0x11 && bytes[3] === 0xe0))
    throw new ToolError(`${path}: an old binary Excel file (.xls); save it as .xlsx or as "CSV UTF-8" first`);
  if (ext === ".xlsx" || ext === ".xlsm" || zip) return "xlsx";
  return "csv";
}

/** Reads the first worksheet of an xlsx file, or the one named, or a CSV file. */
export async function readSheet(path: string, shownAs = path, worksheetName?: string): Promise<Sheet> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ToolError(`${shownAs}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const kind = sheetKind(shownAs, bytes);
  if (kind === "xlsx") return readXlsx(bytes, shownAs, worksheetName);
  if (worksheetName !== undefined) throw new ToolError(`${shownAs}: --sheet applies to xlsx files only`);
  return readCsvSheet(bytes, shownAs);
}

function readCsvSheet(bytes: Uint8Array, shownAs: string): Sheet {
  const { text, encoding } = decodeSpreadsheetText(bytes);
  const parsed = parseCsv(text, shownAs);
  if (parsed.issues.length > 0) throw new ToolError(`unreadable CSV:\n${parsed.issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`);
  const rows = parsed.records.map((r) => ({ row: r.line, cells: r.fields.map((text) => ({ text })) }));
  return { kind: "csv", encoding, delimiter: parsed.delimiter, rows };
}

async function readXlsx(bytes: Buffer, shownAs: string, worksheetName?: string): Promise<Sheet> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  } catch (error) {
    throw new ToolError(`${shownAs}: not a readable xlsx workbook (${(error as Error).message})`);
  }
  const sheets = workbook.worksheets;
  const worksheet = worksheetName === undefined ? sheets[0] : sheets.find((s) => s.name === worksheetName);
  if (!worksheet) {
    const names = sheets.map((s) => JSON.stringify(s.name)).join(", ") || "none";
    throw new ToolError(
      worksheetName === undefined ? `${shownAs}: the workbook has no worksheet` : `${shownAs}: no worksheet ${JSON.stringify(worksheetName)} (worksheets: ${names})`,
    );
  }
  const rows: SheetRow[] = [];
  worksheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: Cell[] = [];
    for (let col = 1; col <= row.cellCount; col += 1) cells.push(cellOf(row.getCell(col).value));
    if (cells.some((c) => c.text.trim() !== "")) rows.push({ row: rowNumber, cells });
  });
  return { kind: "xlsx", worksheet: worksheet.name, rows };
}

/** The text a person sees in a cell, for every kind of value exceljs returns. */
export function cellOf(value: ExcelJS.CellValue | undefined): Cell {
  if (value === null || value === undefined) return { text: "" };
  if (typeof value === "number") return { text: String(value), number: value };
  if (typeof value === "string") return { text: value };
  if (typeof value === "boolean") return { text: value ? "TRUE" : "FALSE" };
  if (value instanceof Date) return { text: value.toISOString().slice(0, 10) };
  if ("richText" in value) return { text: value.richText.map((r) => r.text).join("") };
  if ("hyperlink" in value) {
    // A mail address typed into Excel becomes a mailto: link; its text is the address.
    const t = value.text as unknown;
    if (typeof t === "string") return { text: t };
    if (t && typeof t === "object" && "richText" in t) return cellOf(t as ExcelJS.CellRichTextValue);
    return { text: String(value.hyperlink).replace(/^mailto:/i, "") };
  }
  if ("error" in value) return { text: String(value.error) };
  if ("formula" in value || "sharedFormula" in value) {
    const result = (value as ExcelJS.CellFormulaValue).result;
    if (result === undefined) return { text: "" };
    if (typeof result === "object" && result !== null && !(result instanceof Date) && "error" in result) return { text: String(result.error) };
    return cellOf(result as ExcelJS.CellValue);
  }
  return { text: String(value) };
}
