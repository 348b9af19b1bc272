import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { appendRepair, checkRepairLog, loadRepairLog, parseRepairLog, repairLogPath } from "../../../infra/inputs/repairs";
import { withRepairRequests } from "../../../infra/components/moodle-site";

describe("the repair log", () => {
  it("counts requests per school and names file, line and field of a bad row", () => {
    const log = parseRepairLog(
      [
        "school_id,requested,reason",
        "04100001,2026-11-27T10:00:00Z,site down",
        "0410001,2026-11-27T10:00:00Z,typo",
        "04100001,yesterday,again",
      ].join("\n"),
      "schools/repairs.csv",
    );
    expect(log.counts.get("04100001")).toBe(2);
    expect(log.issues.map((i) => [i.line, i.field, i.rule])).toEqual([
      [3, "school_id", "id-format"],
      [4, "requested", "timestamp"],
    ]);
    // A school that left keeps its history: named, but no error (removing a school needs no edit here).
    expect(checkRepairLog(log, new Set(["04100002"]))).toEqual([
      expect.objectContaining({ file: "schools/repairs.csv", line: 4, field: "school_id", rule: "unknown-school", severity: "warning" }),
    ]);
  });

  it("appends rows that read back, quoting a reason with commas and quotes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "repairs-"));
    const file = repairLogPath(path.join(dir, "placement.csv"));
    expect(loadRepairLog(file).counts.size).toBe(0);
    appendRepair(file, { schoolId: "04100001", requested: new Date("2026-11-27T10:00:00Z"), reason: `db gone, "dropped"` });
    appendRepair(file, { schoolId: "04100001", requested: new Date("2026-11-27T11:00:00Z"), reason: "again" });
    const log = loadRepairLog(file);
    expect(log.issues).toEqual([]);
    expect(log.counts.get("04100001")).toBe(2);
    expect(fs.readFileSync(file, "utf8").split("\n")[1]).toBe(`04100001,2026-11-27T10:00:00.000Z,"db gone, ""dropped"""`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("changes a site's install script only when it was asked for, after the interpreter line", () => {
    const script = "#!/bin/bash\necho install\n";
    expect(withRepairRequests(script, 0)).toBe(script);
    const repaired = withRepairRequests(script, 2);
    expect(repaired).not.toBe(withRepairRequests(script, 1));
    expect(repaired.split("\n").slice(0, 2)).toEqual(["#!/bin/bash", "# repair request 2 (fleet repair)"]);
  });
});
