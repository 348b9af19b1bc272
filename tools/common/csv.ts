/** Quotes a field as RFC 4180 asks: only when it holds a quote, delimiter or line break. */
export function csvField(value: string, delimiter = ","): string {
  if (value.includes('"') || value.includes(delimiter) || /[\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/** One CSV document: header and rows, each line ended by `eol` (also the last). */
export function toCsv(header: readonly string[], rows: readonly (readonly string[])[], eol = "\n"): string {
  return [header, ...rows].map((r) => r.map((f) => csvField(f)).join(",") + eol).join("");
}

/** First characters that make Excel or LibreOffice read a cell as a formula (or split it, CR and tab). */
const FORMULA_START = /^[=+\-@\t\r]/;

export function startsLikeFormula(value: string): boolean {
  return FORMULA_START.test(value);
}

/**
 * A value for a CSV that people open in a spreadsheet: one that would be
 * read as a formula (`=HYPERLINK(…)`, `@SUM(…)`, `-2+3`) gets a leading
 * apostrophe, which spreadsheets show as text. School names and addresses
 * come from a sheet outside our control, so every cell is treated so.
 */
export function spreadsheetText(value: string): string {
  return startsLikeFormula(value) ? `'${value}` : value;
}
