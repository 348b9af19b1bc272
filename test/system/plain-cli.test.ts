import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { LocalWorkspace, type EngineEvent } from "@pulumi/pulumi/automation";
import { fleetCellProgram } from "../../infra/program";
import { expectedResourceCount } from "../../infra/components/fleet";
import type { FleetPlan } from "../../infra/plan";
import { cellStackName } from "../../stacks/driver/cells";
import { projectCli, repoRoot, stateEnv, toolchainEnv } from "../../stacks/toolchain";
import { createTestFleetEnv, removeCellStackFiles, type TestFleetEnv } from "../support/fleet-env";
import { labSkipped, requireLibvirtd, virshSucceeds } from "../support/lab-services";

const HEADER = "id,name,town,email,tier\n";
const SCHOOLS =
  HEADER +
  ["04199801", "04199802", "04199803"].map((id) => `${id},Testschule ${id},Ulm,poststelle@${id}.schulen.example,`).join("\n") +
  "\n";
const LEDGER = "school_id,host\n04199801,lab01-vm01\n04199802,lab01-vm01\n04199803,lab01-vm01\n";

// The TypeScript program run by the plain CLI and the Node.js language host
// built from source: the same resources as the fleet driver's inline run,
// a real `up` of a small cell on the lab's libvirtd, and the refusal to
// declare the fleet from a stack that names no cell.
describe.skipIf(labSkipped)("the program under the plain pulumi CLI", () => {
  const env = "clitest";
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cli-"));
  const pool = { name: "moodle-clitest", path: "/var/lib/moodle-lab/clitest-pool" };
  const stack = cellStackName(env, "lab01");
  let fleet: TestFleetEnv;

  beforeAll(() => {
    requireLibvirtd();
    const baseImage = path.join(work, "base.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", baseImage, "64M"]);
    fleet = createTestFleetEnv({
      env,
      dir: work,
      baseStackFile: path.join(repoRoot, "Pulumi.lab.yaml"),
      edit: (config) => {
        const [hv] = config.hypervisors as Record<string, unknown>[];
        hv.pool = pool;
        hv.baseImage = { source: baseImage, format: "qcow2" };
        hv.addresses = { ...(hv.addresses as object), first: "10.77.0.70", last: "10.77.0.79" };
      },
      schools: SCHOOLS,
      ledger: LEDGER,
    });
  });

  afterAll(async () => {
    await fleet.driver("destroy", ["lab01"]).catch(() => undefined);
    await fleet.pulumi(["stack", "rm", "--yes", "--force", "--stack", stack]);
    await fleet.pulumi(["stack", "rm", "--yes", "--force", "--stack", env]);
    removeCellStackFiles(env);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("previews exactly the resources the driver's inline program declares", async () => {
    // The driver creates the cell stack and writes its config (cell, input files, secrets).
    const [driven] = await fleet.driver("preview", ["lab01"]);
    expect(driven.error).toBeUndefined();
    expect(driven.ok).toBe(true);

    const started = Date.now();
    const cli = await fleet.pulumi(["preview", "--stack", stack, "--json"]);
    console.log(`plain-CLI preview of ${stack}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(cli.stderr).not.toMatch(/error/i);
    expect(cli.code).toBe(0);
    const cliUrns = (JSON.parse(cli.stdout) as { steps: { urn: string }[] }).steps.map((s) => s.urn).sort();

    const inline = await LocalWorkspace.selectStack(
      { stackName: stack, projectName: "moodle-fleet", program: fleetCellProgram({ schoolsFile: fleet.schoolsFile, ledgerFile: fleet.ledgerFile }, "lab01") },
      { workDir: repoRoot, pulumiCommand: await projectCli(), envVars: { ...toolchainEnv(), ...stateEnv(fleet.state) } },
    );
    const inlineUrns: string[] = [];
    await inline.preview({ onEvent: (e: EngineEvent) => e.resourcePreEvent && inlineUrns.push(e.resourcePreEvent.metadata.urn) });

    // 3 sites on 1 host of 1 hypervisor, and the stack itself.
    expect(cliUrns.filter((u) => /\$command:remote:Command::\d{8}-install$/.test(u))).toHaveLength(3);
    const shape = { hypervisors: [{}], hosts: [{}], sites: [{}, {}, {}] } as unknown as FleetPlan;
    // Default providers are the engine's own, not the program's (the CLI's JSON leaves them out).
    const declared = (urns: string[]) => [...new Set(urns)].filter((u) => !/::default(_[0-9_]+)?$/.test(u)).sort();
    expect(cliUrns.length).toBe(1 + expectedResourceCount(shape));
    expect(declared(cliUrns)).toEqual(declared(inlineUrns));
  });

  it("creates a small cell with `pulumi up`, which the driver then finds converged", async () => {
    // No schools: the cell is its hypervisor's provider, pool and base image.
    fs.writeFileSync(fleet.schoolsFile, HEADER);
    fs.writeFileSync(fleet.ledgerFile, "school_id,host\n");
    const started = Date.now();
    const up = await fleet.pulumi(["up", "--yes", "--skip-preview", "--stack", stack]);
    console.log(`plain-CLI up of ${stack}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(virshSucceeds("pool-info", pool.name)).toBe(true);

    const [again] = await fleet.driver("preview", ["lab01"]);
    expect(again.ok).toBe(true);
    const changes = again.changes as Record<string, number>;
    expect(Object.keys(changes)).toEqual(["same"]);
    // The stack and its hypervisor's resources (component, provider, pool and its permissions, base image), no host.
    expect(changes.same).toBe(1 + expectedResourceCount({ hypervisors: [{}], hosts: [], sites: [] } as unknown as FleetPlan));

    const [destroyed] = await fleet.driver("destroy", ["lab01"]);
    expect(destroyed.ok).toBe(true);
    expect(virshSucceeds("pool-info", pool.name)).toBe(false);
  });

  it("refuses `pulumi preview` on the environment's own stack, naming the driver command", async () => {
    await fleet.pulumi(["stack", "init", env]);
    const run = await fleet.pulumi(["preview", "--stack", env, "--config-file", fleet.stackFile]);
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toContain(`names no cell`);
    expect(run.stdout + run.stderr).toContain(`\`fleet up --env ${env}\``);
  });
});
