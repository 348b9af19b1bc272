import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { startTestPostgres, type TestPostgres } from "../../support/postgres";
import { createTeamEnv, type TeamEnv } from "./team-env";
import { concurrentUps } from "./lock-scenario";

// Shared state on PostgreSQL, as README "Team use" sets it up: a cluster of
// the test's own (initdb, TLS, a `fleet` role with a password), the
// backend URL without the password, which reaches the CLI only through a
// 0600 passfile. Two cells of a VM-less program run through the real driver.
describe("the fleet on Pulumi's PostgreSQL backend", () => {
  let pg: TestPostgres;
  let t: TeamEnv;
  const stackKeys = () => pg.adminSql("SELECT key FROM pulumi_state ORDER BY key;").trim().split("\n").filter(Boolean);
  const fleetLocks = async () => stackKeys().filter((k) => k.startsWith("pulumi/.fleet/locks/"));

  beforeAll(async () => {
    pg = await startTestPostgres();
    t = createTeamEnv({ env: "teampg", backendUrl: pg.backendUrl, extraVars: { PGPASSFILE: pg.passfile } });
  });

  afterAll(async () => {
    try {
      if (t) for (const s of ["teampg-hva", "teampg-hvb", "teampg"]) await t.pulumi(["stack", "rm", "--force", "--yes", "-s", s]);
    } finally {
      t?.cleanup();
      pg?.stop();
    }
  });

  it("keeps no password in the URL and logs in with the passfile over verified TLS", async () => {
    expect(new URL(pg.backendUrl).password).toBe("");
    expect(pg.backendUrl).toContain("sslmode=verify-full");
    const ls = await t.pulumi(["stack", "ls", "--json"]);
    expect(ls.code, ls.stderr).toBe(0);
    const noPassword = createTeamEnv({ env: "teampgx", backendUrl: pg.backendUrl, extraVars: { PGPASSFILE: path.join(pg.dir, "missing") } });
    try {
      const refused = await noPassword.fleet(["up", "--env", "teampgx"]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/no password for the state database/);
    } finally {
      noPassword.cleanup();
    }
  });

  it("brings up two cells", async () => {
    const up = await t.fleet(["up", "--env", t.env]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^hva\s+7\s+0\s+0\s+0\s+0\s/m);
    expect(up.stdout).toMatch(/^hvb\s+7\s+0\s+0\s+0\s+0\s/m);
    expect(stackKeys()).toEqual(expect.arrayContaining(["pulumi/.pulumi/stacks/moodle-fleet/teampg-hva.json", "pulumi/.pulumi/stacks/moodle-fleet/teampg-hvb.json"]));
    expect(await fleetLocks()).toEqual([]);
  });

  it("a second up changes nothing, also from a clone without the cell stacks' config files", async () => {
    // Another operator's checkout: the ignored Pulumi.<env>-<cell>.yaml files are not there.
    for (const cell of ["hva", "hvb"]) fs.rmSync(path.join(__dirname, "../../..", `Pulumi.${t.env}-${cell}.yaml`));
    const again = await t.fleet(["up", "--env", t.env]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^total\s+0\s+0\s+0\s+0\s+14/m);
  });

  it("merges both cells' outputs", async () => {
    const out = path.join(t.root, "outputs.json");
    const r = await t.fleet(["outputs", "--env", t.env, "--out", out, "--show-secrets"]);
    expect(r.code, r.stderr).toBe(0);
    const merged = JSON.parse(fs.readFileSync(out, "utf8"));
    expect(Object.keys(merged.sites).sort()).toEqual(["04180001", "04180002", "04180003", "04180004"]);
    expect(Object.keys(merged.hypervisors).sort()).toEqual(["hva", "hvb"]);
    expect(Object.values(merged.adminPasswords).every((p) => typeof p === "string" && p.length === 20)).toBe(true);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
  });

  it("stops a second `fleet up` at once while the first holds the cells", async () => {
    await concurrentUps(t, fleetLocks);
  });

  it("destroys both cells", async () => {
    const r = await t.fleet(["destroy", "--env", t.env, "--yes-destroy", t.env]);
    expect(r.code, r.stderr).toBe(0);
    const ls = JSON.parse((await t.pulumi(["stack", "ls", "--json"])).stdout) as { name: string; resourceCount?: number }[];
    for (const s of ls.filter((x) => x.name.startsWith("teampg-"))) expect(s.resourceCount ?? 0).toBe(0);
  });
});
