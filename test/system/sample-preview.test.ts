import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { LocalWorkspace, type EngineEvent } from "@pulumi/pulumi/automation";
import { fleetCellProgram } from "../../infra/program";
import { cellStackName } from "../../stacks/driver/cells";
import { projectCli, repoRoot, stateEnv, toolchainEnv } from "../../stacks/toolchain";
import { createTestFleetEnv, removeCellStackFiles, selfSignedWildcard, type TestFleetEnv } from "../support/fleet-env";
import { countByType } from "../support/mock-counts";
import { labSkipped, requireLibvirtd } from "../support/lab-services";

// The sample fleet (schools/schools.csv on Pulumi.prod.yaml's hypervisors),
// previewed by the real engine with all three plugins, each hypervisor's
// provider pointed at the lab's libvirtd: per cell, the resources by type
// must be those the program declares under mocks, and nothing may fail.
describe.skipIf(labSkipped)("the sample fleet, previewed by the real engine", () => {
  const env = "sample";
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-sample-"));
  let fleet: TestFleetEnv;
  let cells: string[];

  beforeAll(() => {
    requireLibvirtd();
    // Pulumi.prod.yaml leaves the certificate to the operator; the sample gets a throw-away one.
    const tls = selfSignedWildcard("moodle.schulen.example", work);
    fleet = createTestFleetEnv({
      env,
      dir: work,
      baseStackFile: path.join(repoRoot, "Pulumi.prod.yaml"),
      edit: (config) => {
        for (const hv of config.hypervisors as Record<string, any>[]) {
          hv.uri = "qemu:///system";
          hv.pool = { name: `moodle-sample-${hv.name}`, path: `/var/lib/moodle-lab/sample-${hv.name}` };
        }
        cells = (config.hypervisors as { name: string }[]).map((h) => h.name);
        config.tls = { certificate: tls.certificate };
      },
      secrets: { tlsPrivateKey: tls.privateKey },
      schools: fs.readFileSync(path.join(repoRoot, "schools/schools.csv"), "utf8"),
      ledger: fs.readFileSync(path.join(repoRoot, "schools/placement.csv"), "utf8"),
    });
  });

  afterAll(async () => {
    for (const cell of cells ?? []) await fleet.pulumi(["stack", "rm", "--yes", "--force", "--stack", cellStackName(env, cell)]);
    removeCellStackFiles(env);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("declares per cell the resources the mocks count, and nothing fails", async () => {
    // The driver's preview creates each cell stack with its config and secrets.
    const started = Date.now();
    const driven = await fleet.driver("preview", cells);
    const seconds = (Date.now() - started) / 1000;
    expect(driven.map((r) => [r.cell, r.ok, r.error])).toEqual(cells.map((c) => [c, true, undefined]));
    const creates = driven.reduce((n, r) => n + ((r.changes as Record<string, number>).create ?? 0), 0);
    console.log(`real preview of the sample fleet (${cells.length} cells, parallel 2): ${seconds.toFixed(1)} s, ${creates} resources to create`);

    let sites = 0;
    for (const cell of cells) {
      const stack = await LocalWorkspace.selectStack(
        { stackName: cellStackName(env, cell), projectName: "moodle-fleet", program: fleetCellProgram({ schoolsFile: fleet.schoolsFile, ledgerFile: fleet.ledgerFile }, cell) },
        { workDir: repoRoot, pulumiCommand: await projectCli(), envVars: { ...toolchainEnv(), ...stateEnv(fleet.state) } },
      );
      const types: string[] = [];
      const errors: string[] = [];
      await stack.preview({
        onEvent: (e: EngineEvent) => {
          const m = e.resourcePreEvent?.metadata;
          // Default providers are the engine's, not the program's; the stack is the root.
          if (m && m.type !== "pulumi:pulumi:Stack" && !/::default(_[0-9_]+)?$/.test(m.urn)) types.push(m.type);
          if (e.diagnosticEvent?.severity === "error") errors.push(e.diagnosticEvent.message);
        },
      });
      expect(errors).toEqual([]);
      const mocked = JSON.parse(
        execFileSync(
          process.execPath,
          ["--import", "tsx", path.join(repoRoot, "test/support/mock-counts.ts"), JSON.stringify({ stackFile: fleet.stackFile, schoolsFile: fleet.schoolsFile, ledgerFile: fleet.ledgerFile, cell })],
          { cwd: repoRoot, encoding: "utf8" },
        ),
      ) as Record<string, number>;
      expect(countByType(types)).toEqual(mocked);
      // One install per site; the hosts' bootstrap and file system growth are the other remote commands.
      sites += (mocked["command:remote:Command"] ?? 0) - 2 * (mocked["moodle-fleet:infra:MoodleHost"] ?? 0);
    }
    // Every school of the sample list has its site in exactly one cell.
    expect(sites).toBe(fs.readFileSync(fleet.schoolsFile, "utf8").trim().split("\n").length - 1);
  });
});
