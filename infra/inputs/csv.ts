import type { InputIssue } from "./issues";

/** One CSV record and the physical line (1-based) it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export interface CsvParseResult {
  delimiter: "," | ";";
  records: CsvRecord[];
  issues: InputIssue[];
}

const BOM = "\uFEFF";

/**
 * RFC 4180 CSV as spreadsheets export it: optional BOM, comma or semicolon
 * (German Excel writes semicolons), quoted fields with "" escapes and
 * embedded line breaks, CRLF or LF. Line numbers are physical lines, so an
 * embedded line break pushes later records down as an editor would show them.
 * Blank lines are skipped. Quotes inside an unquoted field are kept as data.
 */
export function parseCsv(text: string, file: string): CsvParseResult {
  const src = text.startsWith(BOM) ? text.slice(1) : text;
  const delimiter = detectDelimiter(src);
  const records: CsvRecord[] = [];
  const issues: InputIssue[] = [];
  const n = src.length;
  let i = 0;
  let line = 1;

  const atLineEnd = (at: number) => at >= n || src[at] === "\n" || src[at] === "\r";
  const skipLineEnd = () => {
    if (src[i] === "\r" && src[i + 1] === "\n") i += 2;
    else i += 1;
    line += 1;
  };

  while (i < n) {
    const recordLine = line;
    const fields: string[] = [];
    let sawQuote = false;
    for (;;) {
      let value = "";
      if (src[i] === '"') {
        sawQuote = true;
        const fieldLine = line;
        i += 1;
        let closed = false;
        while (i < n) {
          const c = src[i];
          if (c === '"') {
            if (src[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i += 1;
            closed = true;
            break;
          }
          if (c === "\r" || c === "\n") {
            value += "\n";
            skipLineEnd();
            continue;
          }
          value += c;
          i += 1;
        }
        if (!closed) {
          issues.push({ file, line: fieldLine, rule: "csv-quote", message: "quoted field is never closed" });
          break;
        }
        if (!atLineEnd(i) && src[i] !== delimiter) {
          issues.push({ file, line, rule: "csv-quote", message: "unexpected text after a closing quote" });
          while (!atLineEnd(i) && src[i] !== delimiter) value += src[i++];
        }
      } else {
        while (!atLineEnd(i) && src[i] !== delimiter) value += src[i++];
      }
      fields.push(value);
      if (src[i] === delimiter) {
        i += 1;
        continue;
      }
      break;
    }
    if (i < n) skipLineEnd();
    const blank = !sawQuote && fields.length === 1 && fields[0].trim() === "";
    if (!blank) records.push({ line: recordLine, fields });
  }
  return { delimiter, records, issues };
}

/** Picks the delimiter that occurs more often, outside quotes, in the first line. */
function detectDelimiter(src: string): "," | ";" {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const c of src) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === "\n" || c === "\r")) break;
    else if (!quoted && c === ",") commas += 1;
    else if (!quoted && c === ";") semicolons += 1;
  }
  return semicolons > commas ? ";" : ",";
}
