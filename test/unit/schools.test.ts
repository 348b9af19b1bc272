import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue } from "../../infra/inputs/issues";
import { loadSchoolList, parseSchoolList } from "../../infra/inputs/schools";

const tiers = { names: ["small", "standard"], defaultTier: "standard" };
const HEADER = "id,name,town,email,tier\n";
const parse = (body: string, header = HEADER) => parseSchoolList(header + body, "schools.csv", tiers);
const rules = (body: string) => parse(body).issues.map((i) => [i.line, i.field, i.rule]);

describe("school list", () => {
  it("reads valid rows, applies the default tier and lower-cases e-mail", () => {
    const result = parse("04101234, Friedrich-Schiller-Gymnasium ,Marbach,PostStelle@04101234.Schulen.Example,\n04101246,Grundschule am Mühlbach,Ludwigsburg,a@b.example,small\n");
    expect(result.issues).toEqual([]);
    expect(result.schools).toEqual([
      { id: "04101234", name: "Friedrich-Schiller-Gymnasium", town: "Marbach", email: "poststelle@04101234.schulen.example", tier: "standard" },
      { id: "04101246", name: "Grundschule am Mühlbach", town: "Ludwigsburg", email: "a@b.example", tier: "small" },
    ]);
  });

  it("treats names as data: quotes, $(...), backticks, any Unicode", () => {
    const name = 'Schule "$(rm -rf /)" `id` ; DROP TABLE -- Ærø 学校 🏫';
    const result = parse(`04101234,"${name.replace(/"/g, '""')}",Ulm,a@b.example,\n`);
    expect(result.issues).toEqual([]);
    expect(result.schools[0].name).toBe(name);
  });

  it("turns line breaks inside a name into a space", () => {
    const result = parse('04101234,"Grundschule\r\n  am Bach",Ulm,a@b.example,\n');
    expect(result.schools[0].name).toBe("Grundschule am Bach");
  });

  it("accepts semicolons, a BOM and reordered columns", () => {
    const result = parseSchoolList("\uFEFFtier;email;town;name;id\n;a@b.example;Ulm;Schule, am Berg;04101234\n", "s.csv", tiers);
    expect(result.issues).toEqual([]);
    expect(result.schools[0]).toMatchObject({ id: "04101234", name: "Schule, am Berg" });
  });

  it("rejects ids that are not 8 digits, keeping leading zeros", () => {
    expect(rules("4101234,S,T,a@b.example,\n041012345,S,T,a@b.example,\n0410123a,S,T,a@b.example,\n")).toEqual([
      [2, "id", "id-format"],
      [3, "id", "id-format"],
      [4, "id", "id-format"],
    ]);
  });

  it("checks that the id is a DNS label, as its own rule", () => {
    expect(rules("-1234567,S,T,a@b.example,\n")).toEqual([
      [2, "id", "id-format"],
      [2, "id", "dns-label"],
    ]);
  });

  it("rejects empty and overlong names and towns", () => {
    const long = "x".repeat(201);
    expect(rules(`04101234,  ,${long},a@b.example,\n04101235,ok,"",a@b.example,\n`)).toEqual([
      [2, "name", "required"],
      [2, "town", "max-length"],
      [3, "town", "required"],
    ]);
  });

  it("accepts exactly 200 characters, counting code points", () => {
    expect(rules(`04101234,${"ß".repeat(200)},${"🏫".repeat(200)},a@b.example,\n`)).toEqual([]);
    expect(rules(`04101234,${"🏫".repeat(201)},T,a@b.example,\n`)).toEqual([[2, "name", "max-length"]]);
  });

  it("rejects control characters", () => {
    expect(rules("04101234,Schule\u0007,T,a@b.example,\n")).toEqual([[2, "name", "control-char"]]);
  });

  it("rejects implausible e-mail addresses", () => {
    const bad = ["foo@", "@x.example", "a b@x.example", "a@x", "a@-x.example", "a..b@x.example", ""];
    const result = parse(bad.map((e, k) => `0410123${k},S,T,"${e}",\n`).join(""));
    expect(result.issues.map((i) => [i.field, i.rule])).toEqual(bad.map(() => ["email", "email"]));
  });

  it("formats errors with file, line, field and value", () => {
    const lines = Array.from({ length: 15 }, (_, k) => `041012${String(k).padStart(2, "0")},S,T,a@b.example,\n`).join("");
    const result = parse(`${lines}04101299,S,T,foo@,\n`);
    expect(result.issues.map(formatIssue)).toEqual(['schools.csv:17: field "email": not an e-mail address ("foo@")']);
  });

  it("rejects unknown tiers and names the configured ones", () => {
    const result = parse("04101234,S,T,a@b.example,xl\n");
    expect(result.issues).toEqual([
      expect.objectContaining({ line: 2, field: "tier", rule: "tier", message: 'unknown tier "xl" (configured: small, standard)' }),
    ]);
  });

  it("skips the tier rule without a config, but checks everything else", () => {
    const result = parseSchoolList(`${HEADER}04101234,S,T,a@b.example,xl\n04101235,S,T,bad,\n`, "s.csv");
    expect(result.issues.map((i) => i.rule)).toEqual(["email"]);
    expect(result.schools[0].tier).toBe("xl");
  });

  it("names both lines of a duplicate id", () => {
    const result = parse("04101234,A,T,a@b.example,\n04101235,B,T,a@b.example,\n04101234,C,T,a@b.example,\n");
    expect(result.issues.map(formatIssue)).toEqual(['schools.csv:4: field "id": duplicate school id 04101234 (also on line 2)']);
    expect(result.schools.map((s) => s.name)).toEqual(["A", "B"]);
  });

  it("reports line numbers after embedded line breaks", () => {
    const result = parse('04101234,"Grund-\nschule",T,a@b.example,\n04101235,B,T,x@,\n');
    expect(result.issues.map((i) => i.line)).toEqual([4]);
  });

  it("reports every error of the file at once", () => {
    const result = parse("1,,T,a@b.example,\n04101235,B,,foo@,xl\n04101235,B,T,a@b.example,\n");
    expect(result.issues.map((i) => [i.line, i.field, i.rule])).toEqual([
      [2, "id", "id-format"],
      [2, "name", "required"],
      [3, "town", "required"],
      [3, "email", "email"],
      [3, "tier", "tier"],
      [4, "id", "duplicate-id"],
    ]);
  });

  it("keeps the id of a row with other errors, so it is not 'unknown' elsewhere", () => {
    const result = parse("04101234,B,T,foo@,\n");
    expect(result.schools).toEqual([]);
    expect(result.idLines.get("04101234")).toBe(2);
  });

  describe("header", () => {
    const headerRules = (header: string) =>
      parseSchoolList(`${header}\n04101234,S,T,a@b.example,\n`, "s.csv", tiers).issues.map((i) => [i.line, i.rule, i.message]);

    it("names missing columns", () => {
      expect(headerRules("id,name,email")).toEqual([[1, "columns", expect.stringMatching(/^missing columns "town", "tier"/)]]);
    });

    it("names unknown and duplicate columns", () => {
      expect(headerRules("id,name,town,email,tier,phone,email")).toEqual([
        [1, "columns", expect.stringMatching(/^unknown column "phone"/)],
        [1, "columns", expect.stringMatching(/^duplicate column "email"/)],
      ]);
    });

    it("still checks rows when only an extra column is wrong", () => {
      const result = parseSchoolList("id,name,town,email,tier,note\n04101234,S,T,foo@,,x\n", "s.csv", tiers);
      expect(result.issues.map((i) => i.rule)).toEqual(["columns", "email"]);
    });

    it("reports an empty file", () => {
      const issues = parseSchoolList("", "s.csv", tiers).issues;
      expect(issues.map((i) => [i.rule, i.line])).toEqual([["columns", undefined]]);
    });
  });

  it("reports rows with the wrong number of fields", () => {
    expect(rules("04101234,Schule, am Berg,T,a@b.example,\n")).toEqual([[2, undefined, "field-count"]]);
  });

  it("reports a file that is not UTF-8", () => {
    const dir = mkdtempSync(join(tmpdir(), "schools-"));
    const path = join(dir, "s.csv");
    writeFileSync(path, Buffer.concat([Buffer.from(HEADER + "04101234,Grundschule am M"), Buffer.from([0xfc]), Buffer.from("hlbach,T,a@b.example,\n")]));
    const result = loadSchoolList(path, tiers, "s.csv");
    expect(result.issues).toEqual([expect.objectContaining({ file: "s.csv", line: 2, rule: "encoding" })]);
  });
});
