import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "../../../..");
const FIXTURE = join(ROOT, "test/fixtures/fleet");

describe("fleet repair", () => {
  let dir: string;
  const fleet = (...args: string[]) => {
    const run = spawnSync(join(ROOT, "bin/fleet"), args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  };
  const inputs = () => ["--schools", "schools.csv", "--ledger", "placement.csv", "--config", join(FIXTURE, "Pulumi.test.yaml")];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fleet-repair-"));
    for (const f of ["schools.csv", "placement.csv"]) copyFileSync(join(FIXTURE, f), join(dir, f));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("logs a request beside the ledger that validate accepts and the plan counts", () => {
    const [, first] = readFileSync(join(dir, "placement.csv"), "utf8").split("\n");
    const id = first.split(",")[0];
    const run = fleet("repair", id, "--reason", "config.php lost, \"again\"", ...inputs());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`repair of ${id} requested`);
    const log = readFileSync(join(dir, "repairs.csv"), "utf8").split("\n");
    expect(log[0]).toBe("school_id,requested,reason");
    expect(log[1]).toMatch(new RegExp(`^${id},\\d{4}-\\d\\d-\\d\\dT[^,]+Z,"config.php lost, ""again"""$`));
    expect(fleet("validate", ...inputs()).code).toBe(0);
  });

  it("refuses an unplaced school, a missing reason and a bad id, writing nothing", () => {
    expect(fleet("repair", "09999999", "--reason", "x", ...inputs()).code).toBe(1);
    expect(fleet("repair", "04100001", ...inputs()).code).toBe(2);
    expect(fleet("repair", "41", "--reason", "x", ...inputs()).code).toBe(2);
    expect(existsSync(join(dir, "repairs.csv"))).toBe(false);
  });

  it("makes validate warn, naming file, line and field, of a request for a school that has no site", () => {
    // A typo, or a school that left: the row repairs nothing, and removing a school must not need it edited.
    writeFileSync(join(dir, "repairs.csv"), "school_id,requested,reason\n09999999,2026-11-27T10:00:00Z,typo\n");
    const run = fleet("validate", ...inputs());
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/repairs\.csv:2: warning: field "school_id": school 09999999 has no site in the placement ledger/);
  });
});
