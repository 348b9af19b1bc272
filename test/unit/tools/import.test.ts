import * as fs from "node:fs";
import * as path from "node:path";
import ExcelJS from "exceljs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCsv } from "../../../infra/inputs/csv";
import { run } from "../../../stacks/commands/import";
import { decodeCp1252, decodeSpreadsheetText } from "../../../tools/import/decode";
import { renderSchoolList } from "../../../tools/import/merge";
import { captureIO, tempDir } from "./fixtures";

const STACK_FILE = `config:
  moodle-fleet:domain: moodle.schulen.example
  moodle-fleet:tiers:
    small: {vcpu: 4, memoryMiB: 16384, sitesPerHost: 25, diskGiBPerSite: 20, phpWorkers: 4, rootDiskGiB: 20}
    standard: {vcpu: 8, memoryMiB: 32768, sitesPerHost: 50, diskGiBPerSite: 20, phpWorkers: 8, rootDiskGiB: 20}
`;

const CURRENT = [
  "id,name,town,email,tier",
  "04101234,Friedrich-Schiller-Gymnasium,Marbach am Neckar,poststelle@04101234.schulen.example,",
  "04101246,Grundschule am Mühlbach,Ludwigsburg,poststelle@04101246.schulen.example,small",
  "04109999,Alte Schule,Ulm,poststelle@04109999.schulen.example,",
  "",
].join("\n");

/** A work directory as the repository root: Pulumi.prod.yaml and schools/schools.csv. */
function workspace() {
  const root = tempDir("import");
  fs.writeFileSync(path.join(root, "Pulumi.prod.yaml"), STACK_FILE);
  fs.mkdirSync(path.join(root, "schools"));
  const schools = path.join(root, "schools", "schools.csv");
  fs.writeFileSync(schools, CURRENT);
  return { root, schools, c: captureIO(root) };
}

/** Windows-1252 bytes of a text (only characters that code page has). */
function cp1252(text: string): Buffer {
  const high: Record<string, number> = { "€": 0x80, "„": 0x84, "“": 0x93, "”": 0x94, "–": 0x96 };
  return Buffer.from([...text].map((ch) => high[ch] ?? ch.charCodeAt(0)));
}

describe("fleet import: xlsx", () => {
  it("reads a workbook written by exceljs, pads numeric ids and merges deterministically", async () => {
    const { root, schools, c } = workspace();
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("Schulen");
    ws.addRow(["Schulliste des Kultusministeriums, Stand 13.03.2020"]);
    ws.addRow(["Dienststellennummer", "Schulname", "Ort", "E-Mail", "Tarif", "Bemerkung"]);
    ws.addRow([4101234, "Friedrich-Schiller-Gymnasium ", "Marbach am Neckar", "POSTSTELLE@04101234.schulen.example", "standard", "neu"]);
    ws.addRow(["04101246", "Grundschule am Mühlbach", "Ludwigsburg", "poststelle@04101246.schulen.example", "Small", ""]);
    ws.addRow([]);
    const linked = ws.addRow([4105143, 'Carl-Benz-Schule, "Gewerbliche Schule"', "Mannheim", null, "", null]);
    linked.getCell(4).value = { text: "poststelle@04105143.schulen.example", hyperlink: "mailto:poststelle@04105143.schulen.example" };
    const file = path.join(root, "Schulliste.xlsx");
    await wb.xlsx.writeFile(file);

    expect(await run(["Schulliste.xlsx"], c.io)).toBe(0);
    expect(c.stderr().trim().split("\n")).toEqual([
      'Schulliste.xlsx, row 3, column "Dienststellennummer": warning: school number 4101234 read as 04101234 (leading zeros restored); check that this is the school meant',
      'Schulliste.xlsx, row 6, column "Dienststellennummer": warning: school number 4105143 read as 04105143 (leading zeros restored); check that this is the school meant',
    ]);
    expect(fs.readFileSync(schools, "utf8")).toBe(
      [
        "id,name,town,email,tier",
        "04101234,Friedrich-Schiller-Gymnasium,Marbach am Neckar,poststelle@04101234.schulen.example,standard",
        "04101246,Grundschule am Mühlbach,Ludwigsburg,poststelle@04101246.schulen.example,small",
        '04105143,"Carl-Benz-Schule, ""Gewerbliche Schule""",Mannheim,poststelle@04105143.schulen.example,',
        "",
      ].join("\n"),
    );
    const out = c.stdout();
    expect(out).toContain('Schulliste.xlsx (worksheet "Schulen"): 3 schools, header in row 2');
    expect(out).toContain('columns not imported: "Bemerkung"');
    expect(out).toContain("1 added, 1 changed, 1 removed, 1 unchanged");
    expect(out).toContain('~ 04101234 Friedrich-Schiller-Gymnasium: tier "" -> "standard"');
    expect(out).toContain("+ 04105143");
    expect(out).toContain("- 04109999 Alte Schule (Ulm)");

    // The same sheet again changes nothing.
    const again = captureIO(root);
    expect(await run(["Schulliste.xlsx"], again.io)).toBe(0);
    expect(again.stdout()).toContain("0 added, 0 changed, 0 removed, 3 unchanged");
    expect(again.stdout()).toContain("already up to date");
  });

  it("lists every bad row by its spreadsheet row number and writes nothing", async () => {
    const { root, schools, c } = workspace();
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("Tabelle1");
    ws.addRow(["Dienststellennummer", "Schulname", "Ort", "E-Mail", "Stufe"]);
    ws.addRow([4101234, "Gut", "Ulm", "a@b.example", ""]); // row 2
    ws.addRow([123456789, "Zu lang", "Ulm", "a@c.example", ""]); // row 3
    ws.addRow([4101234.5, "", "Ulm", "kein-at", "gigantic"]); // row 4
    ws.addRow([4101234, "Doppelt", "Ulm", "d@e.example", ""]); // row 5
    await wb.xlsx.writeFile(path.join(root, "bad.xlsx"));
    expect(await run(["bad.xlsx"], c.io)).toBe(1);
    const err = c.stderr();
    expect(err).toContain('bad.xlsx, row 3, column "Dienststellennummer": not an 8-digit school number ("123456789")');
    expect(err).toContain('bad.xlsx, row 4, column "Dienststellennummer": not an 8-digit school number ("4101234.5")');
    expect(err).toContain('bad.xlsx, row 4, column "Schulname": must not be empty');
    expect(err).toContain('bad.xlsx, row 4, column "E-Mail": not an e-mail address ("kein-at")');
    expect(err).toContain('bad.xlsx, row 4, column "Stufe": unknown tier "gigantic" (configured: small, standard');
    expect(err).toContain('bad.xlsx, row 5, column "Dienststellennummer": duplicate school id 04101234 (also in row 2)');
    expect(err).toContain("nothing was written");
    expect(fs.readFileSync(schools, "utf8")).toBe(CURRENT);
    expect(fs.readdirSync(path.dirname(schools))).toEqual(["schools.csv"]);
  });
});

describe("fleet import: CSV", () => {
  const sheet = [
    "Dienststellennummer;Schulname;Ort;E-Mail;Tarif",
    "04101246;Grundschule am Mühlbach;Lörrach;Poststelle@04101246.Schulen.example ;small",
    '04104084;"Grund- und Werkrealschule „Im Grün“; Außenstelle";Emmendingen;poststelle@04104084.schulen.example;',
    "00001234;Schule mit Nullen;Überlingen;info@00001234.schulen.example;standard",
    "",
  ].join("\r\n");

  it("decodes Windows-1252, splits on semicolons and keeps leading zeros", async () => {
    const { root, schools, c } = workspace();
    fs.writeFileSync(path.join(root, "export.csv"), cp1252(sheet));
    expect(await run(["export.csv", "--tiers", "small,standard"], c.io)).toBe(0);
    expect(c.stdout()).toContain('export.csv (CSV, windows-1252, delimiter ";"): 3 schools');
    expect(fs.readFileSync(schools, "utf8")).toBe(
      [
        "id,name,town,email,tier",
        "00001234,Schule mit Nullen,Überlingen,info@00001234.schulen.example,standard",
        "04101246,Grundschule am Mühlbach,Lörrach,poststelle@04101246.schulen.example,small",
        "04104084,Grund- und Werkrealschule „Im Grün“; Außenstelle,Emmendingen,poststelle@04104084.schulen.example,",
        "",
      ].join("\n"),
    );
    expect(c.stdout()).toContain('~ 04101246 Grundschule am Mühlbach: town "Ludwigsburg" -> "Lörrach"');
  });

  it("reads UTF-8 with a BOM and commas the same way", async () => {
    const { root, schools, c } = workspace();
    const utf8 = [
      "Dienststellennummer,Schulname,Ort,E-Mail,Tarif",
      "04101246,Grundschule am Mühlbach,Lörrach,poststelle@04101246.schulen.example,small",
      '04104084,"Grund- und Werkrealschule „Im Grün“; Außenstelle",Emmendingen,poststelle@04104084.schulen.example,',
      "00001234,Schule mit Nullen,Überlingen,info@00001234.schulen.example,standard",
      "",
    ].join("\r\n");
    fs.writeFileSync(path.join(root, "export.csv"), `\uFEFF${utf8}`);
    expect(await run(["export.csv"], c.io)).toBe(0);
    expect(c.stdout()).toContain('(CSV, utf-8, delimiter ","): 3 schools');
    expect(fs.readFileSync(schools, "utf8")).toContain("04104084,Grund- und Werkrealschule „Im Grün“; Außenstelle,Emmendingen");
  });

  it("reports every bad row of a cp1252 file with its line and changes nothing", async () => {
    const { root, schools, c } = workspace();
    const bad = [
      "Dienststellennummer;Schulname;Ort;E-Mail;Tarif",
      "4101246;Grundschule am Mühlbach;Lörrach;poststelle@04101246.schulen.example;",
      "04101258;;Weil der Stadt;poststelle@04101258.schulen.example;",
      "04101261;Realschule;  ;kein.at.zeichen;premium",
      "04101258;Doppelt;Ulm;x@y.example;",
    ].join("\r\n");
    fs.writeFileSync(path.join(root, "bad.csv"), cp1252(bad));
    expect(await run(["bad.csv"], c.io)).toBe(1);
    const lines = c.stderr().trim().split("\n");
    // Row 2 lost its leading zero as a number cell would: padded like one, and said so.
    expect(lines).toEqual([
      'bad.csv, row 2, column "Dienststellennummer": warning: school number 4101246 read as 04101246 (leading zeros restored); check that this is the school meant',
      'bad.csv, row 3, column "Schulname": must not be empty',
      'bad.csv, row 4, column "Ort": must not be empty',
      'bad.csv, row 4, column "E-Mail": not an e-mail address ("kein.at.zeichen")',
      'bad.csv, row 4, column "Tarif": unknown tier "premium" (configured: small, standard; empty means the default tier)',
      'bad.csv, row 5, column "Dienststellennummer": duplicate school id 04101258 (also in row 3)',
      "fleet import: 5 problem(s) in 3 row(s) of bad.csv; nothing was written",
    ]);
    expect(fs.readFileSync(schools, "utf8")).toBe(CURRENT);
  });

  it("keeps known tiers when the sheet has no tier column; --dry-run writes nothing", async () => {
    const { root, schools, c } = workspace();
    const noTier = ["Dienststellennummer,Schulname,Ort,E-Mail", "04101246,Grundschule am Mühlbach,Ludwigsburg,poststelle@04101246.schulen.example", "04101300,Neue Schule,Ulm,neu@04101300.schulen.example", ""].join("\n");
    fs.writeFileSync(path.join(root, "plain.csv"), noTier);
    expect(await run(["plain.csv", "--dry-run"], c.io)).toBe(0);
    expect(c.stdout()).toContain("1 added, 0 changed, 2 removed, 1 unchanged");
    expect(c.stdout()).toContain("dry run: nothing written");
    expect(fs.readFileSync(schools, "utf8")).toBe(CURRENT);
    expect(await run(["plain.csv"], captureIO(root).io)).toBe(0);
    expect(fs.readFileSync(schools, "utf8")).toContain("04101246,Grundschule am Mühlbach,Ludwigsburg,poststelle@04101246.schulen.example,small\n");
  });

  it("uses a mapping file for other headers and names a bad mapping entry", async () => {
    const { root, schools, c } = workspace();
    fs.writeFileSync(path.join(root, "other.csv"), "Nr;Bezeichnung;Gemeinde;Mail\n04101246;Grundschule am Mühlbach;Ludwigsburg;poststelle@04101246.schulen.example\n");
    expect(await run(["other.csv"], c.io)).toBe(1);
    expect(c.stderr()).toContain("no header row found");
    fs.writeFileSync(path.join(root, "map.json"), JSON.stringify({ Nr: "id", Bezeichnung: "name", Gemeinde: "town", Mail: "email" }));
    const c2 = captureIO(root);
    expect(await run(["other.csv", "--mapping", "map.json", "--schools", "schools/out.csv"], c2.io)).toBe(0);
    expect(fs.readFileSync(path.join(root, "schools", "out.csv"), "utf8")).toBe(
      "id,name,town,email,tier\n04101246,Grundschule am Mühlbach,Ludwigsburg,poststelle@04101246.schulen.example,\n",
    );
    expect(fs.readFileSync(schools, "utf8")).toBe(CURRENT);

    fs.writeFileSync(path.join(root, "badmap.json"), JSON.stringify({ Nr: "id", Mail: "e-mail" }));
    const c3 = captureIO(root);
    expect(await run(["other.csv", "--mapping", "badmap.json"], c3.io)).toBe(1);
    expect(c3.stderr()).toMatch(/badmap\.json: Mail: /);
  });

  it("says which required column is missing", async () => {
    const { root, c } = workspace();
    fs.writeFileSync(path.join(root, "short.csv"), "Dienststellennummer,Schulname\n04101246,X\n");
    expect(await run(["short.csv"], c.io)).toBe(1);
    expect(c.stderr()).toContain('short.csv, row 1: no column for "town", "email"');
    expect(await run([], c.io)).toBe(2);
  });
});

describe("import building blocks", () => {
  it("decodes Windows-1252 and prefers UTF-8 when the bytes are valid UTF-8", () => {
    expect(decodeCp1252(Buffer.from([0x80, 0xe4, 0xf6, 0xfc, 0xdf, 0xc4, 0x84, 0x93, 0x41]))).toBe("€äöüßÄ„“A");
    expect(decodeSpreadsheetText(Buffer.from("Mühlbach", "utf8"))).toEqual({ text: "Mühlbach", encoding: "utf-8" });
    expect(decodeSpreadsheetText(Buffer.from([0x4d, 0xfc, 0x68]))).toEqual({ text: "Müh", encoding: "windows-1252" });
  });

  it("writes a school list that the project's CSV reader reads back to the same values", () => {
    const text = fc.string({ unit: "grapheme", maxLength: 20 }).map((s) => s.replace(/\r/g, ""));
    fc.assert(
      fc.property(fc.array(fc.record({ id: fc.stringMatching(/^\d{8}$/), name: text, town: text, email: text, tier: text }), { maxLength: 5 }), (rows) => {
        const csv = renderSchoolList(rows);
        expect(csv.startsWith("id,name,town,email,tier\n")).toBe(true);
        expect(csv.endsWith("\n")).toBe(true);
        const parsed = parseCsv(csv, "x.csv");
        expect(parsed.issues).toEqual([]);
        expect(parsed.records.slice(1).map((r) => r.fields)).toEqual(
          rows.filter((r) => Object.values(r).some((v) => v !== "")).map((r) => [r.id, r.name, r.town, r.email, r.tier]),
        );
      }),
      { numRuns: 200 },
    );
  });
});
