import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { runCells, type CellResult } from "../../stacks/driver/run-cells";
import { projectCli, repoRoot, stateEnv, toolchainEnv } from "../../stacks/toolchain";
import { labSkipped, requireLibvirtd, virshSucceeds, virsh } from "../support/lab-services";

// The cell driver over real stacks: two cells at once, one failing on
// purpose; the other completes, the failure is reported, config is synced.
describe.skipIf(labSkipped)("the fleet driver on real cell stacks", () => {
  const env = "drivertest";
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-driver-"));
  const stackFile = path.join(work, `Pulumi.${env}.yaml`);
  const secretsDir = path.join(work, "secrets");
  const state = { stateDir: path.join(repoRoot, ".state", "driver"), passphraseFile: path.join(repoRoot, ".state", "driver.passphrase") };
  const pools = { good: `${env}-${process.pid}-good`, bad: `${env}-${process.pid}-bad` };
  let results: CellResult[];

  const program = {
    module: path.join(__dirname, "../support/driver-test-program.ts"),
    exportName: "driverTestProgram",
    args: { work, poolPrefix: `${env}-${process.pid}` },
  };

  beforeAll(async () => {
    requireLibvirtd();
    fs.writeFileSync(stackFile, "config:\n  moodle-fleet:domain: driver.example\n  moodle-fleet:tiers:\n    small: {vcpu: 1}\n");
    fs.mkdirSync(secretsDir, { mode: 0o700 });
    fs.writeFileSync(path.join(secretsDir, "dnsTsigSecret"), "c2VjcmV0LXRzaWc=", { mode: 0o600 });
    results = await runCells({
      env,
      cells: ["good", "bad"],
      operation: "up",
      parallel: 2,
      program,
      expectedResources: () => 4,
      envVars: stateEnv(state),
      stackFile,
      secretsDir,
      out: { write: () => true },
    });
  });

  afterAll(async () => {
    await runCells({
      env, cells: ["good", "bad"], operation: "destroy", parallel: 2, program, expectedResources: () => 4,
      envVars: stateEnv(state), stackFile, secretsDir, out: { write: () => true },
    }).catch(() => undefined);
    for (const p of Object.values(pools)) if (virshSucceeds("pool-info", p)) virshSucceeds("pool-undefine", p);
    for (const cell of ["good", "bad"]) fs.rmSync(path.join(repoRoot, `Pulumi.${env}-${cell}.yaml`), { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("completes the good cell while the bad one fails", () => {
    const good = results.find((r) => r.cell === "good")!;
    const bad = results.find((r) => r.cell === "bad")!;
    expect(good.ok, good.error).toBe(true);
    expect(good.stack).toBe(`${env}-good`);
    expect(good.changes.create).toBe(4); // stack, provider, pool, password
    expect(virsh("pool-info", pools.good)).toMatch(/State:\s+running/);
    expect(bad.ok).toBe(false);
    expect(bad.error).toBeTruthy();
  });

  it("gives each cell the environment's config, its name, and the secrets as secrets", async () => {
    const ws = await LocalWorkspace.create({ workDir: repoRoot, pulumiCommand: await projectCli(), envVars: { ...toolchainEnv(), ...stateEnv(state) } });
    const config = await ws.getAllConfig(`${env}-good`);
    expect(config["moodle-fleet:cell"]).toEqual({ value: '["good"]', secret: false });
    expect(config["moodle-fleet:domain"]).toEqual({ value: "driver.example", secret: false });
    expect(config["moodle-fleet:dnsTsigSecret"]).toEqual({ value: "c2VjcmV0LXRzaWc=", secret: true });
    const file = fs.readFileSync(path.join(repoRoot, `Pulumi.${env}-good.yaml`), "utf8");
    expect(file).not.toContain("c2VjcmV0LXRzaWc=");
    expect(file).toMatch(/secure:/);
  });

  it("a second run of the good cell changes nothing", async () => {
    const again = await runCells({
      env, cells: ["good"], operation: "up", parallel: 1, program, expectedResources: () => 4,
      envVars: stateEnv(state), stackFile, secretsDir, out: { write: () => true },
    });
    expect(again[0].ok).toBe(true);
    expect(Object.keys(again[0].changes).filter((k) => k !== "same")).toEqual([]);
  });

  it("runs cells one after another in one process, but never after a cell that failed there", async () => {
    const runsLog = path.join(work, "runs.log");
    const workers = async (cells: string[]) => {
      fs.rmSync(runsLog, { force: true });
      const results = await runCells({
        env, cells, operation: "up", parallel: 1, program, expectedResources: () => 4,
        envVars: stateEnv(state), stackFile, secretsDir, out: { write: () => true },
      });
      expect(results.map((r) => [r.cell, r.ok])).toEqual(cells.map((c) => [c, c === "good"]));
      return new Map(fs.readFileSync(runsLog, "utf8").trim().split("\n").map((l) => l.split(" ") as [string, string]));
    };
    const goodFirst = await workers(["good", "bad"]);
    expect(goodFirst.get("bad")).toBe(goodFirst.get("good"));
    const badFirst = await workers(["bad", "good"]);
    expect(badFirst.get("good")).not.toBe(badFirst.get("bad"));
  });
});
