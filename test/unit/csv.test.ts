import { describe, expect, it } from "vitest";
import { parseCsv } from "../../infra/inputs/csv";

const lines = (text: string) => parseCsv(text, "f.csv").records.map((r) => [r.line, r.fields]);

describe("parseCsv", () => {
  it("reads a plain comma file", () => {
    expect(lines("a,b\n1,2\n")).toEqual([
      [1, ["a", "b"]],
      [2, ["1", "2"]],
    ]);
  });

  it("drops a UTF-8 BOM", () => {
    const result = parseCsv("\uFEFFid,name\n1,x\n", "f.csv");
    expect(result.records[0].fields).toEqual(["id", "name"]);
  });

  it("detects semicolons from the header line", () => {
    const result = parseCsv("id;name\n1;Schule, am Berg\n", "f.csv");
    expect(result.delimiter).toBe(";");
    expect(result.records[1].fields).toEqual(["1", "Schule, am Berg"]);
  });

  it("ignores delimiters inside quoted header names when detecting", () => {
    expect(parseCsv('"a;b",c,d\n', "f.csv").delimiter).toBe(",");
  });

  it("unescapes doubled quotes and keeps delimiters in quoted fields", () => {
    expect(lines('id,name\n1,"Schule ""Am Berg"", Ulm"\n')[1]).toEqual([2, ["1", 'Schule "Am Berg", Ulm']]);
  });

  it("handles CRLF line ends", () => {
    expect(lines("a,b\r\n1,2\r\n3,4")).toEqual([
      [1, ["a", "b"]],
      [2, ["1", "2"]],
      [3, ["3", "4"]],
    ]);
  });

  it("counts embedded line breaks so later records keep their physical line", () => {
    const text = 'id,name\r\n1,"Grund-\r\nschule\r\nam Bach"\r\n2,x\n3,y\n';
    expect(lines(text)).toEqual([
      [1, ["id", "name"]],
      [2, ["1", "Grund-\nschule\nam Bach"]],
      [5, ["2", "x"]],
      [6, ["3", "y"]],
    ]);
  });

  it("skips blank lines but counts them", () => {
    expect(lines("a\n\n\n1\n  \n2")).toEqual([
      [1, ["a"]],
      [4, ["1"]],
      [6, ["2"]],
    ]);
  });

  it("keeps empty trailing fields", () => {
    expect(lines("a,b,c\n1,,\n")[1]).toEqual([2, ["1", "", ""]]);
  });

  it("keeps a quoted empty line as a record", () => {
    expect(lines('a\n""\n')).toEqual([
      [1, ["a"]],
      [2, [""]],
    ]);
  });

  it("keeps quotes inside unquoted fields as data", () => {
    expect(lines('a,b\n1,Schule "Am Berg"\n')[1]).toEqual([2, ["1", 'Schule "Am Berg"']]);
  });

  it("reports an unterminated quote at the line it opens", () => {
    const result = parseCsv('a,b\n1,2\n3,"open\nmore\n', "f.csv");
    expect(result.issues).toEqual([expect.objectContaining({ file: "f.csv", line: 3, rule: "csv-quote" })]);
  });

  it("reports text after a closing quote", () => {
    const result = parseCsv('a,b\n1,"x"y\n', "f.csv");
    expect(result.issues).toEqual([expect.objectContaining({ line: 2, rule: "csv-quote" })]);
    expect(result.records[1].fields).toEqual(["1", "xy"]);
  });

  it("reads an empty file as no records", () => {
    expect(parseCsv("", "f.csv").records).toEqual([]);
    expect(parseCsv("\uFEFF", "f.csv").records).toEqual([]);
  });
});
