/** Quotes a field as RFC 4180 asks: only when it holds a quote, delimiter or line break. */
export function csvField(value: string, delimiter = ","): string {
  if (value.includes('"') || value.includes(delimiter) || /[\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/** One CSV document: header and rows, each line ended by `eol` (also the last). */
export function toCsv(header: readonly string[], rows: readonly (readonly string[])[], eol = "\n"): string {
  return [header, ...rows].map((r) => r.map((f) => csvField(f)).join(",") + eol).join("");
}
