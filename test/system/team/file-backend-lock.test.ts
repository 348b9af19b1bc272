import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createTeamEnv, type TeamEnv } from "./team-env";
import { concurrentUps } from "./lock-scenario";

// The same two concurrent `fleet up` on the file backend (the lab's).
describe("fleet locks on the file backend", () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-file-state-"));
  let t: TeamEnv;
  const fleetLocks = async () => {
    const dir = path.join(stateDir, ".fleet", "locks", "moodle-fleet");
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  };

  beforeAll(() => {
    t = createTeamEnv({ env: "teamfile", backendUrl: `file://${stateDir}` });
  });

  afterAll(async () => {
    try {
      if (t) await t.fleet(["destroy", "--env", t.env, "--yes-destroy", t.env]);
    } finally {
      t?.cleanup();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("stops a second `fleet up` at once and leaves the state whole", async () => {
    await concurrentUps(t, fleetLocks);
    // Whole: each cell's checkpoint parses and holds no pending operation.
    for (const cell of ["hva", "hvb"]) {
      const exp = await t.pulumi(["stack", "export", "-s", `teamfile-${cell}`]);
      expect(exp.code, exp.stderr).toBe(0);
      const d = JSON.parse(exp.stdout).deployment;
      expect(d.pending_operations ?? []).toEqual([]);
      expect(d.resources).toHaveLength(8) // the stack, the random provider, three per site;
    }
  });
});
