import { describe, expect, it } from "vitest";
import { DEFAULT_MAPPING } from "../../../../tools/import/mapping";
import { normalizeSheet } from "../../../../tools/import/normalize";
import type { Cell, Sheet } from "../../../../tools/import/sheet";

const header = ["Dienststellennummer", "Schulname", "Ort", "E-Mail"].map((text) => ({ text }));
const row = (n: number, id: Cell, name = `Schule ${n}`) => ({
  row: n,
  cells: [id, { text: name }, { text: "Ulm" }, { text: `poststelle@s${n}.schulen.example` }],
});

describe("school numbers that lost their leading zeros", () => {
  const xlsx: Sheet = { kind: "xlsx", worksheet: "T", rows: [{ row: 1, cells: header }, row(2, { text: "4101234", number: 4101234 }), row(3, { text: "04101246" })] };
  const csv: Sheet = { kind: "csv", rows: [{ row: 1, cells: header }, row(2, { text: "4101234" }), row(3, { text: "04101246" })] };

  it("are padded to 8 digits alike from xlsx number cells and from CSV text, each padded row a warning", () => {
    for (const sheet of [xlsx, csv]) {
      const result = normalizeSheet(sheet, DEFAULT_MAPPING);
      expect(result.problems, sheet.kind).toEqual([]);
      expect(result.rows.map((r) => r.school.id)).toEqual(["04101234", "04101246"]);
      expect(result.warnings).toEqual([
        { row: 2, column: "Dienststellennummer", message: "school number 4101234 read as 04101234 (leading zeros restored); check that this is the school meant" },
      ]);
    }
  });

  it("pad down to a single digit, but not past 8 digits or fractions", () => {
    const sheet: Sheet = {
      kind: "csv",
      rows: [{ row: 1, cells: header }, row(2, { text: " 7 " }), row(3, { text: "123456789" }), row(4, { text: "4101234.0" }), row(5, { text: "41O1234" })],
    };
    const result = normalizeSheet(sheet, DEFAULT_MAPPING);
    expect(result.rows.map((r) => r.school.id)).toEqual(["00000007"]);
    expect(result.problems.map((p) => p.row)).toEqual([3, 4, 5]);
    expect(result.warnings.map((w) => w.row)).toEqual([2]);
  });

  it("are checked for duplicates after padding", () => {
    const sheet: Sheet = { kind: "csv", rows: [{ row: 1, cells: header }, row(2, { text: "04101234" }), row(3, { text: "4101234" })] };
    const result = normalizeSheet(sheet, DEFAULT_MAPPING);
    expect(result.problems.map((p) => p.message)).toEqual(["duplicate school id 04101234 (also in row 2)"]);
  });
});
