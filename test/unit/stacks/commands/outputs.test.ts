import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { main, type CommandIO } from "../../../../stacks/cli";
import { outputsCommand, type OutputsDeps } from "../../../../stacks/commands/outputs";
import type { StackInfo } from "../../../../stacks/driver/env-stacks";
import { cellOutputs } from "../../support/builders";

const FIXTURES = path.resolve(__dirname, "../../../fixtures/fleet");

function setup(stacks: StackInfo[], outputs: Record<string, Record<string, unknown> | Error>) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-outputs-"));
  fs.copyFileSync(path.join(FIXTURES, "Pulumi.test.yaml"), path.join(root, "Pulumi.test.yaml"));
  let stdout = "";
  let stderr = "";
  const io: CommandIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: root, root };
  const read: string[] = [];
  const deps: OutputsDeps = {
    listStacks: async () => stacks,
    async readOutputs(name) {
      read.push(name);
      const o = outputs[name];
      if (o instanceof Error) throw o;
      return o ?? {};
    },
    backendEnv: () => ({}),
    knownEnvs: () => ["test"],
  };
  return { root, io, deps, read, out: () => stdout, err: () => stderr, command: outputsCommand(deps) };
}

const deployed = [
  { name: "test", resourceCount: 0 },
  { name: "test-hv01", resourceCount: 20 },
  { name: "test-hv02", resourceCount: 15 },
];
const both = { "test-hv01": cellOutputs("hv01", ["04101234"]), "test-hv02": cellOutputs("hv02", ["04101246"]) };

describe("fleet outputs", () => {
  it("merges every configured cell into one file, 0600", async () => {
    const s = setup(deployed, both);
    expect(await s.command.run(["--env", "test", "--out", "o.json", "--show-secrets"], s.io)).toBe(0);
    const file = path.join(s.root, "o.json");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const merged = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(Object.keys(merged.sites)).toEqual(["04101234", "04101246"]);
    expect(s.read).toEqual(["test-hv01", "test-hv02"]);
  });

  it("leaves out a cell that was never deployed, and says so", async () => {
    const s = setup([{ name: "test-hv01", resourceCount: 20 }, { name: "test-hv02", resourceCount: 0 }], both);
    expect(await s.command.run(["--env", "test", "--out", "o.json"], s.io)).toBe(0);
    expect(s.err()).toContain("note: cell hv02 is not deployed (stack test-hv02 is empty)");
    expect(s.read).toEqual(["test-hv01"]);
  });

  it("fails on any error reading a stack instead of taking it for never deployed", async () => {
    const s = setup(deployed, { ...both, "test-hv02": new Error("error: could not decrypt configuration value") });
    await expect(s.command.run(["--env", "test", "--out", "o.json"], s.io)).rejects.toThrow(/could not decrypt/);
    expect(fs.existsSync(path.join(s.root, "o.json"))).toBe(false);
    const listing = setup([], {});
    listing.deps.listStacks = async () => {
      throw new Error("error: failed to load checkpoint");
    };
    await expect(outputsCommand(listing.deps).run(["--env", "test"], listing.io)).rejects.toThrow(/failed to load checkpoint/);
  });

  it("fails on a stack of a hypervisor no longer configured that holds resources", async () => {
    const s = setup([...deployed, { name: "test-hv03", resourceCount: 42 }], both);
    expect(await s.command.run(["--env", "test", "--out", "o.json"], s.io)).toBe(1);
    expect(s.err()).toContain("test-hv03 (42 resources)");
    expect(fs.existsSync(path.join(s.root, "o.json"))).toBe(false);
  });

  it("fails on a stack that holds resources but no outputs", async () => {
    const s = setup(deployed, { "test-hv01": cellOutputs("hv01", ["04101234"]) });
    expect(await s.command.run(["--env", "test", "--out", "o.json"], s.io)).toBe(1);
    expect(s.err()).toContain("stack test-hv02 holds 15 resources but no outputs");
  });

  it("requires --env and rejects the input-file flags with a reason", async () => {
    const s = setup(deployed, both);
    expect(await main(["outputs", "--out", "o.json"], s.io, [s.command])).toBe(2);
    expect(s.err()).toContain("--env is required");
    expect(await main(["outputs", "--env", "test", "--schools", "schools/lab/schools.csv"], s.io, [s.command])).toBe(2);
    expect(s.err()).toContain("--schools does not apply: fleet outputs reads the deployed stacks of --env");
  });
});
