import { describe, expect, it } from "vitest";
import { parseCsv } from "../../../../infra/inputs/csv";
import { spreadsheetText, startsLikeFormula, toCsv } from "../../../../tools/common/csv";

describe("spreadsheetText", () => {
  it("neutralises every value a spreadsheet would read as a formula", () => {
    for (const v of ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]) {
      expect(startsLikeFormula(v), JSON.stringify(v)).toBe(true);
      expect(spreadsheetText(v)).toBe(`'${v}`);
    }
  });

  it("leaves everything else as it is", () => {
    for (const v of ["Gymnasium", "04101234", "a=b", "x-y", "", " =not first", "'quoted"]) expect(spreadsheetText(v)).toBe(v);
  });

  it("survives the CSV round trip with the apostrophe in front", () => {
    const text = toCsv(["name"], [[spreadsheetText('=cmd|"/c calc"!A1')]], "\r\n");
    expect(parseCsv(text, "t.csv").records[1].fields).toEqual(["'=cmd|\"/c calc\"!A1"]);
  });
});
