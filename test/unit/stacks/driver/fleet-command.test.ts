import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main, type CommandIO } from "../../../../stacks/cli";
import { driverCommand, unfinishedMoves, type DriverDeps } from "../../../../stacks/driver/fleet-command";
import type { CellResult, DriverOptions, Operation } from "../../../../stacks/driver/run-cells";
import { plannedSteps, type StepEvent } from "../../../../stacks/driver/steps";
import type { StackInfo } from "../../../../stacks/driver/env-stacks";
import { events, siteResources } from "./urns";
import { cellOutputs } from "../../support/builders";

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

describe("moves (a school placed on another host)", () => {
  const hv01Stack: StackInfo[] = [{ name: "test-hv01", resourceCount: 20 }, { name: "test-hv02", resourceCount: 20 }];
  const install = (stack: string, school: string) => siteResources(stack, school).filter((r) => /-(install|dns)$/.test(r.urn));

  /** The deployed stacks: the fixture's placement, except the schools given with their deployed host. */
  function deployed(moved: Record<string, string>) {
    const hv01 = cellOutputs("hv01", ["04101234", "04101258", "04101273"]);
    const hv02 = cellOutputs("hv02", ["04101246", "04101261"]);
    for (const [school, host] of Object.entries(moved)) {
      const [from, to] = host.startsWith("hv01") ? [hv02, hv01] : [hv01, hv02];
      to.sites[school] = { ...(from.sites[school] ?? to.sites[school]), schoolId: school, host };
      if (from !== to) delete from.sites[school];
    }
    return async (stack: string) => (stack === "test-hv01" ? hv01 : hv02) as unknown as Record<string, unknown>;
  }

  function driver(plans: Parameters<typeof fakeDriver>[0], moved: Record<string, string>, installHosts: Record<string, string> = {}) {
    const { deps, calls } = fakeDriver(plans, hv01Stack);
    const options: DriverOptions[] = [];
    const runCells = deps.runCells;
    return {
      deps: {
        ...deps,
        readOutputs: deployed(moved),
        readState: async (stack: string) => ({ installHosts: stack === "test-hv01" ? installHosts : {}, sitesBeforeHostPasswords: [] }),
        runCells: (o: DriverOptions) => (options.push(o), runCells(o)),
      },
      calls,
      options,
    };
  }

  // The fixture places 04101234 on hv01-vm01; its stack says hv01-vm02: a move within cell hv01.
  const inCell = { hv01: [...events(install("test-hv01", "04101234"), "update")] };
  const line = "MOVE 04101234 hv01-vm02 -> hv01-vm01: the site on the new host starts empty; the old site is archived on the old host";

  it("preview names the move on the console and in the summary, and exits 4", async () => {
    const w = workspace();
    const { deps } = driver({ preview: inCell }, { "04101234": "hv01-vm02" });
    expect(await driverCommand("preview", "", deps).run(["--env", "test", "--summary-md", "summary.md", ...w.inputs], w.io())).toBe(4);
    expect(w.out()).toContain(`${line}\n`);
    expect(fs.readFileSync(path.join(w.root, "summary.md"), "utf8")).toContain(`- ${line}`);
  });

  it("up refuses a move no --allow-move names, and changes nothing", async () => {
    const w = workspace();
    const { deps, calls } = driver({ preview: inCell, up: inCell }, { "04101234": "hv01-vm02" });
    expect(await driverCommand("up", "", deps).run(["--env", "test", ...w.inputs], w.io())).toBe(1);
    expect(calls).toEqual(["preview"]);
    expect(w.err()).toContain(line);
    expect(w.err()).toContain("rerun with --allow-move 04101234");
  });

  it("up with --allow-move replaces the moved install, so its old site is archived", async () => {
    const w = workspace();
    const { deps, calls, options } = driver({ preview: inCell, up: inCell }, { "04101234": "hv01-vm02" });
    expect(await driverCommand("up", "", deps).run(["--env", "test", "--allow-move", "04101234", ...w.inputs], w.io())).toBe(0);
    expect(calls).toEqual(["preview", "up"]);
    const installUrn = siteResources("test-hv01", "04101234").find((r) => r.urn.endsWith("::04101234-install"))!.urn;
    expect(options[1].replace).toEqual({ hv01: [installUrn] });
    expect(options[0].replace).toBeUndefined();
    expect(w.err()).toContain(`allowed by --allow-move 04101234: ${line}`);
  });

  it("still sees a move whose install failed on its new host, though the outputs already name that host", async () => {
    // The outputs agree with the ledger (hv01-vm01); the state's install still waits for hv01-vm02's bootstrap.
    const w = workspace();
    const { deps, calls, options } = driver({ preview: inCell, up: inCell }, {}, { "04101234": "hv01-vm02" });
    expect(await driverCommand("up", "", deps).run(["--env", "test", ...w.inputs], w.io())).toBe(1);
    expect(w.err()).toContain(line);
    expect(await driverCommand("up", "", deps).run(["--env", "test", "--allow-move", "04101234", ...w.inputs], w.io())).toBe(0);
    expect(calls).toEqual(["preview", "preview", "up"]);
    expect(Object.keys(options[2].replace ?? {})).toEqual(["hv01"]);
  });

  it("takes a move across cells as a move: --allow-move, not --allow-delete, and nothing replaced", async () => {
    // The fixture places 04101246 on hv02-vm01; cell hv01's stack still holds it.
    const across = { hv01: events(siteResources("test-hv01", "04101246"), "delete"), hv02: events(siteResources("test-hv02", "04101246"), "create") };
    const refused = workspace();
    const a = driver({ preview: across, up: across }, { "04101246": "hv01-vm01" });
    expect(await driverCommand("up", "", a.deps).run(["--env", "test", ...refused.inputs], refused.io())).toBe(1);
    expect(refused.err()).toContain("MOVE 04101246 hv01-vm01 -> hv02-vm01");
    expect(refused.err()).not.toContain("--allow-delete 0 does not cover");

    const w = workspace();
    const b = driver({ preview: across, up: across }, { "04101246": "hv01-vm01" });
    expect(await driverCommand("up", "", b.deps).run(["--env", "test", "--allow-move", "04101246", ...w.inputs], w.io())).toBe(0);
    expect(b.calls).toEqual(["preview", "up"]);
    expect(b.options[1].replace).toEqual({});
    expect(w.err()).not.toContain("deletion(s) allowed");

    const partial = workspace();
    const c = driver({ preview: across }, { "04101246": "hv01-vm01" });
    expect(await driverCommand("up", "", c.deps).run(["--env", "test", "--cells", "hv02", "--allow-move", "04101246", ...partial.inputs], partial.io())).toBe(1);
    expect(partial.err()).toContain("run both cells together (--cells hv01,hv02)");
  });

  it("takes --allow-move more than once, and refuses one naming a school that does not move", async () => {
    const w = workspace();
    const { deps, calls } = driver({ preview: inCell, up: inCell }, { "04101234": "hv01-vm02" });
    const args = ["--env", "test", "--allow-move", "04101234", "--allow-move=04101258", ...w.inputs];
    expect(await driverCommand("up", "", deps).run(args, w.io())).toBe(1);
    expect(calls).toEqual(["preview"]);
    expect(w.err()).toContain("--allow-move 04101258: school 04101258 does not move in this plan.");
    expect(await main(["up", "--env", "test", "--allow-move", "x", ...w.inputs], w.io(), [driverCommand("up", "", deps)])).toBe(2);
    expect(await main(["preview", "--env", "test", "--allow-move", "04101234", ...w.inputs], w.io(), [driverCommand("preview", "", deps)])).toBe(2);
  });

  it("stops before anything runs when a cell's outputs cannot be read", async () => {
    const w = workspace();
    const { deps, calls } = fakeDriver({ preview: inCell }, hv01Stack);
    const failing = { ...deps, readOutputs: async () => Promise.reject(new Error("error: could not decrypt")), readState: async () => ({ installHosts: {}, sitesBeforeHostPasswords: [] }) };
    expect(await driverCommand("preview", "", failing).run(["--env", "test", ...w.inputs], w.io())).toBe(1);
    expect(calls).toEqual([]);
    expect(w.err()).toContain("reading the outputs of stack test-hv01 (cell hv01): error: could not decrypt");
  });

  it("stops before anything runs when a cell of the run holds sites an older version left unconverged; other cells still run", async () => {
    const w = workspace();
    const { deps, calls } = driver({ preview: inCell }, {});
    const old = {
      ...deps,
      readState: async (stack: string) => ({ installHosts: {}, sitesBeforeHostPasswords: stack === "test-hv01" ? ["04101234", "04101258"] : [] }),
    };
    for (const op of ["preview", "up"] as const) {
      expect(await driverCommand(op, "", old).run(["--env", "test", ...w.inputs], w.io()), op).toBe(1);
      expect(calls).toEqual([]);
    }
    expect(w.err()).toContain(
      "fleet preview: stack test-hv01: 2 site(s) were last applied by a version from before the hosts kept their sites' passwords (04101234, 04101258)",
    );
    expect(w.err()).toContain("with commit a5fdc37");
    expect(w.err()).toMatch(/then this version; nothing was changed\n/);
    expect(await driverCommand("preview", "", old).run(["--env", "test", "--cells", "hv02", ...w.inputs], w.io())).toBe(0);
    expect(calls).toEqual(["preview"]);
  });
});

describe("unfinishedMoves", () => {
  const move = { school: "04101234", from: { host: "hv01-vm02", cell: "hv01" }, to: { host: "hv01-vm01", cell: "hv01" } };
  const installUrn = siteResources("test-hv01", "04101234").find((r) => r.urn.endsWith("::04101234-install"))!.urn;
  const result = (ok: boolean, ...ops: string[]): CellResult => ({
    cell: "hv01",
    stack: "test-hv01",
    ok,
    changes: {},
    seconds: 1,
    steps: plannedSteps(ops.map((op) => ({ op, urn: installUrn, type: "command:remote:Command" }))),
  });

  it("is silent when the cell replaced the install, and warns when the cell failed or replaced nothing", () => {
    const replace = { hv01: [installUrn] };
    expect(unfinishedMoves("test", [move], replace, [result(true, "create-replacement", "replace", "delete-replaced")])).toEqual([]);
    const [failed] = unfinishedMoves("test", [move], replace, [result(false, "create-replacement")]);
    expect(failed).toContain("the move of 04101234 from hv01-vm02 to hv01-vm01 may not have completed (cell hv01 failed)");
    expect(failed).toContain("`fleet up --env test --allow-move 04101234`");
    expect(unfinishedMoves("test", [move], replace, [result(true, "update")])).toHaveLength(1);
  });
});
