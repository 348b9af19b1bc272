import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main, type CommandIO } from "../../../../stacks/cli";
import { driverCommand, type DriverDeps } from "../../../../stacks/driver/fleet-command";
import type { CellResult, DriverOptions, Operation } from "../../../../stacks/driver/run-cells";
import { plannedSteps, type StepEvent } from "../../../../stacks/driver/steps";
import type { StackInfo } from "../../../../stacks/driver/env-stacks";
import { events, siteResources } from "./urns";

const FIXTURES = path.resolve(__dirname, "../../../fixtures/fleet");

/** A repository root holding Pulumi.test.yaml (hypervisors hv01, hv02) and the fixture school list. */
function workspace() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-driver-"));
  fs.copyFileSync(path.join(FIXTURES, "Pulumi.test.yaml"), path.join(root, "Pulumi.test.yaml"));
  let stdout = "";
  let stderr = "";
  const io = (stdin?: NodeJS.ReadableStream): CommandIO => ({
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    cwd: root,
    root,
    stdin,
  });
  const inputs = ["--schools", path.join(FIXTURES, "schools.csv"), "--ledger", path.join(FIXTURES, "placement.csv")];
  return { root, io, inputs, out: () => stdout, err: () => stderr };
}

/** A driver whose cells "run" by returning the given engine steps per operation. */
function fakeDriver(plans: Partial<Record<Operation, Record<string, StepEvent[]>>>, stacks: StackInfo[] = []) {
  const calls: Operation[] = [];
  const deps: DriverDeps = {
    async runCells(opts: DriverOptions): Promise<CellResult[]> {
      calls.push(opts.operation);
      return opts.cells.map((cell) => ({
        cell,
        stack: `${opts.env}-${cell}`,
        ok: true,
        changes: {},
        seconds: 0,
        steps: plannedSteps(plans[opts.operation]?.[cell] ?? []),
      }));
    },
    listStacks: async () => stacks,
    backendEnv: () => ({}),
    knownEnvs: () => ["test"],
    progress: { write: () => true },
  };
  return { deps, calls };
}

const removeSchool = { hv01: events(siteResources("test-hv01", "04101234"), "delete") };
const addSchool = { hv01: events(siteResources("test-hv01", "04101300"), "create") };

describe("--env", () => {
  it("is required by every driver command and by nothing defaults to prod", async () => {
    for (const op of ["preview", "up", "refresh", "destroy"] as const) {
      const w = workspace();
      const { deps, calls } = fakeDriver({});
      expect(await main([op, ...w.inputs], w.io(), [driverCommand(op, "", deps)]), op).toBe(2);
      expect(w.err()).toContain(`fleet ${op}: --env is required`);
      expect(calls).toEqual([]);
    }
  });

  it("takes each operation's own flags only", async () => {
    const w = workspace();
    const { deps } = fakeDriver({});
    expect(await main(["preview", "--env", "test", "--allow-delete", "3"], w.io(), [driverCommand("preview", "", deps)])).toBe(2);
    expect(await main(["up", "--env", "test", "--yes-destroy", "test"], w.io(), [driverCommand("up", "", deps)])).toBe(2);
    expect(await main(["up", "--env", "test", "--allow-delete", "some"], w.io(), [driverCommand("up", "", deps)])).toBe(2);
    expect(w.err()).toContain("--allow-delete takes the number of sites");
  });
});

describe("fleet up", () => {
  it("refuses a plan that deletes a site, listing the school, and changes nothing", async () => {
    const w = workspace();
    const { deps, calls } = fakeDriver({ preview: removeSchool });
    expect(await driverCommand("up", "", deps).run(["--env", "test", ...w.inputs], w.io())).toBe(1);
    expect(calls).toEqual(["preview"]);
    expect(w.err()).toContain('the plan for "test" destroys data that --allow-delete 0 does not cover');
    expect(w.err()).toMatch(/04101234 {2}\(cell hv01\)/);
  });

  it("applies it when --allow-delete covers the count", async () => {
    const w = workspace();
    const { deps, calls } = fakeDriver({ preview: removeSchool, up: removeSchool });
    expect(await driverCommand("up", "", deps).run(["--env", "test", "--allow-delete", "1", ...w.inputs], w.io())).toBe(0);
    expect(calls).toEqual(["preview", "up"]);
  });

  it("applies a plan that only adds, without any flag", async () => {
    const w = workspace();
    const { deps, calls } = fakeDriver({ preview: addSchool, up: addSchool });
    expect(await driverCommand("up", "", deps).run(["--env", "test", ...w.inputs], w.io())).toBe(0);
    expect(calls).toEqual(["preview", "up"]);
  });

  it("stops on a stack of a hypervisor no longer configured that holds resources", async () => {
    const w = workspace();
    const { deps, calls } = fakeDriver({ preview: addSchool }, [{ name: "test-hv01", resourceCount: 9 }, { name: "test-hv09", resourceCount: 12 }]);
    expect(await driverCommand("up", "", deps).run(["--env", "test", ...w.inputs], w.io())).toBe(1);
    expect(calls).toEqual([]);
    expect(w.err()).toContain("test-hv09 (12 resources)");
  });
});

describe("fleet preview", () => {
  it("writes the Markdown summary and exits 4 when data would be lost, 3 on other changes, 0 on none", async () => {
    const w = workspace();
    const md = path.join(w.root, "summary.md");
    const run = async (plan: Record<string, StepEvent[]>) =>
      driverCommand("preview", "", fakeDriver({ preview: plan }).deps).run(["--env", "test", "--summary-md", "summary.md", ...w.inputs], w.io());
    expect(await run(removeSchool)).toBe(4);
    expect(fs.readFileSync(md, "utf8")).toContain("**School 04101234** (hv01)");
    expect(await run(addSchool)).toBe(3);
    expect(fs.readFileSync(md, "utf8")).toContain("Changes, no data loss.");
    expect(await run({})).toBe(0);
  });

  it("stops on a stray stack, and only notes an empty one", async () => {
    const w = workspace();
    const stray = fakeDriver({}, [{ name: "test-hv09", resourceCount: 3 }]);
    expect(await driverCommand("preview", "", stray.deps).run(["--env", "test", ...w.inputs], w.io())).toBe(1);
    const empty = fakeDriver({}, [{ name: "test-hv09", resourceCount: 0 }]);
    expect(await driverCommand("preview", "", empty.deps).run(["--env", "test", ...w.inputs], w.io())).toBe(0);
    expect(w.err()).toContain("note: stack test-hv09 belongs to no configured hypervisor and is empty");
  });
});

describe("fleet destroy", () => {
  it("runs after the environment's name is typed, and not after anything else", async () => {
    const yes = workspace();
    const ok = fakeDriver({});
    expect(await driverCommand("destroy", "", ok.deps).run(["--env", "test", ...yes.inputs], yes.io(Readable.from(["test\n"])))).toBe(0);
    expect(ok.calls).toEqual(["destroy"]);

    const no = workspace();
    const refused = fakeDriver({});
    expect(await driverCommand("destroy", "", refused.deps).run(["--env", "test", ...no.inputs], no.io(Readable.from(["prod\n"])))).toBe(1);
    expect(refused.calls).toEqual([]);
    expect(no.err()).toContain("nothing was destroyed");
  });

  it("runs with --yes-destroy naming the environment, without reading stdin", async () => {
    const w = workspace();
    const { deps, calls } = fakeDriver({});
    expect(await driverCommand("destroy", "", deps).run(["--env", "test", "--yes-destroy", "test", ...w.inputs], w.io())).toBe(0);
    expect(calls).toEqual(["destroy"]);
    const other = fakeDriver({});
    expect(await main(["destroy", "--env", "test", "--yes-destroy", "prod", ...w.inputs], w.io(), [driverCommand("destroy", "", other.deps)])).toBe(2);
    expect(other.calls).toEqual([]);
  });
});
