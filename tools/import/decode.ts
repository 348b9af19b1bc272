/**
 * Bytes 0x80..0x9F of Windows-1252; every other byte is the Latin-1 code
 * point. The five bytes Windows leaves undefined (0x81, 0x8D, 0x8F, 0x90,
 * 0x9D) decode to the C1 control of the same number, as browsers do; the
 * school list rejects control characters, so they surface as errors.
 */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
];

export function decodeCp1252(bytes: Uint8Array): string {
  let out = "";
  for (let k = 0; k < bytes.length; k += 1) {
    const b = bytes[k];
    out += String.fromCharCode(b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] : b);
  }
  return out;
}

export type TextEncoding = "utf-8" | "windows-1252";

/**
 * Decodes a spreadsheet export: valid UTF-8 (with or without BOM) is UTF-8,
 * anything else is taken as Windows-1252, which is what Excel's plain "CSV"
 * writes on a German Windows. A BOM is dropped.
 */
export function decodeSpreadsheetText(bytes: Uint8Array): { text: string; encoding: TextEncoding } {
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    return { text, encoding: "utf-8" };
  } catch {
    return { text: decodeCp1252(bytes), encoding: "windows-1252" };
  }
}
