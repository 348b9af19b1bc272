import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseCsv } from "../../../../infra/inputs/csv";
import { run } from "../../../../stacks/commands/mailout";
import { captureIO, sampleOutputs, tempDir, writeJson } from "../fixtures";

describe("fleet mailout: mailmerge.csv", () => {
  it("neutralises cells a spreadsheet would run as formulas, and says which passwords carry the apostrophe", async () => {
    const work = tempDir("mailmerge");
    const outputs = sampleOutputs();
    outputs.sites["04101234"].name = '=HYPERLINK("http://evil.example","Zugang")';
    outputs.sites["04101246"].name = "@SUM(1+1)";
    outputs.adminPasswords["04101258"] = "-Legacy1Password+";
    const file = writeJson(path.join(work, "outputs.json"), outputs);
    const c = captureIO(work);
    expect(await run(["--outputs", file, "--out", "letters"], c.io)).toBe(0);

    const text = fs.readFileSync(path.join(work, "letters", "mailmerge.csv"), "utf8").replace(/^\uFEFF/, "");
    const rows = parseCsv(text, "mailmerge.csv").records.map((r) => r.fields);
    const byId = new Map(rows.slice(1).map((r) => [r[0], r]));
    expect(byId.get("04101234")![1]).toBe(`'=HYPERLINK("http://evil.example","Zugang")`);
    expect(byId.get("04101246")![1]).toBe("'@SUM(1+1)");
    expect(byId.get("04101258")![5]).toBe("'-Legacy1Password+");
    expect(byId.get("04101261")![5]).toBe(outputs.adminPasswords["04101261"]);
    for (const r of rows) for (const cell of r) expect(/^[=+\-@\t\r]/.test(cell), cell).toBe(false);

    // The letter itself has the password exactly; the note names the school, never the password.
    expect(fs.readFileSync(path.join(work, "letters", "04101258.eml"), "utf8")).toContain("-Legacy1Password+");
    expect(c.stderr()).toContain("the passwords of 04101258 start with an apostrophe");
    expect(c.stderr() + c.stdout()).not.toContain("Legacy1Password");
  });
});
