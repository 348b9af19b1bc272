import { readFileSync } from "node:fs";
import type { InputIssue } from "./issues";

/**
 * Reads a file as UTF-8. Excel's plain "CSV" saves Windows-1252; decoding
 * that silently would put mangled umlauts into school names, so invalid
 * bytes are reported (on the first line that has one) instead.
 */
export function readUtf8(path: string, shownAs = path): { text: string; issues: InputIssue[] } {
  const bytes = readFileSync(path);
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), issues: [] };
  } catch {
    const text = new TextDecoder("utf-8").decode(bytes);
    const line = text.slice(0, text.indexOf("\uFFFD")).split("\n").length;
    return {
      text,
      issues: [
        {
          file: shownAs,
          line,
          rule: "encoding",
          message: "not valid UTF-8; save the sheet as \"CSV UTF-8\"",
        },
      ],
    };
  }
}
