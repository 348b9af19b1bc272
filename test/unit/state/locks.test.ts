import { describe, it, expect } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { lockStacks, fleetLockKey, pulumiLockPrefix, breakFleetLocks, isZombie, LOCAL, type LockEnvironment } from "../../../stacks/state/locks";
import { openStateStore } from "../../../stacks/state/store";

function env(over: Partial<LockEnvironment> = {}): LockEnvironment {
  return { hostname: "ops1", username: "alice", pid: 100, now: () => new Date("2026-11-27T10:00:00Z"), alive: () => true, ...over };
}

describe("fleet run locks on the file backend", () => {
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "fleet-locks-"));

  it("takes every stack's lock, and a second run gets none and learns who holds them", async () => {
    const store = openStateStore(`file://${dir()}`)!;
    const first = await lockStacks(store, ["prod-hv02", "prod-hv01"], "fleet up --env prod", { env: "prod", local: env() });
    expect(first.ok).toBe(true);
    const second = await lockStacks(store, ["prod-hv01", "prod-hv03"], "fleet up --env prod", { env: "prod", local: env({ pid: 200, username: "bob" }) });
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.locked.map((l) => l.stack)).toEqual(["prod-hv01"]);
    expect(second.message).toContain("stack prod-hv01 is locked by another fleet run: `fleet up --env prod` by alice@ops1 (pid 100) since 2026-11-27T10:00:00.000Z");
    expect(second.message).toContain("fleet state unlock --env prod --cells hv01");
    // All or nothing: the refused run left no lock behind on hv03.
    expect(await store.list(fleetLockKey("prod-hv03"))).toEqual([]);
    if (first.ok) await first.held.release();
    expect(await store.list(".fleet/")).toEqual([]);
    expect((await lockStacks(store, ["prod-hv01"], "x", { local: env({ pid: 200 }) })).ok).toBe(true);
  });

  it("of many runs racing for one stack, exactly one wins", async () => {
    const store = openStateStore(`file://${dir()}`)!;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, k) => lockStacks(store, ["lab-a", "lab-b"], "fleet up", { local: env({ pid: 1000 + k }) })),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
  });

  it("takes over a lock of this host whose process is gone, but not one of another host", async () => {
    const store = openStateStore(`file://${dir()}`)!;
    expect((await lockStacks(store, ["s"], "fleet up", { local: env({ pid: 1 }) })).ok).toBe(true);
    const afterCrash = await lockStacks(store, ["s"], "fleet up", { local: env({ pid: 2, alive: (pid) => pid !== 1 }) });
    expect(afterCrash.ok).toBe(true);
    if (afterCrash.ok) expect(afterCrash.notes[0]).toMatch(/took over the lock of .*pid 1\).*no longer runs/);
    const otherHost = await lockStacks(store, ["s"], "fleet up", { local: env({ hostname: "ops2", pid: 3, alive: () => false }) });
    expect(otherHost.ok).toBe(false);
  });

  it("reports a Pulumi lock with Pulumi's own holder record", async () => {
    const d = dir();
    const store = openStateStore(`file://${d}`)!;
    const lockFile = path.join(d, ...pulumiLockPrefix("prod-hv01").split("/"), "0d6c.json");
    fs.mkdirSync(path.dirname(lockFile), { recursive: true });
    fs.writeFileSync(lockFile, JSON.stringify({ pid: 77, username: "carol", hostname: "ops3", timestamp: "2026-11-27T09:00:00Z" }));
    const r = await lockStacks(store, ["prod-hv01"], "fleet up", { local: env() });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/prod-hv01 is locked by a Pulumi operation: by carol@ops3 \(pid 77\)[\s\S]*pulumi cancel/);
  });

  it("removes a Pulumi lock of this host whose CLI was killed, with its sidecar, and reports one whose CLI still runs", async () => {
    const d = dir();
    const store = openStateStore(`file://${d}`)!;
    const lockFile = path.join(d, ...pulumiLockPrefix("prod-hv01").split("/"), "e5b6.json");
    fs.mkdirSync(path.dirname(lockFile), { recursive: true });
    const holder = JSON.stringify({ pid: 10981, username: "alice", hostname: "ops1", timestamp: "2026-11-27T17:45:30Z" });
    fs.writeFileSync(lockFile, holder);
    // The file backend's metadata sidecar: never a lock of its own.
    fs.writeFileSync(`${lockFile}.attrs`, '{"user.cache_control":""}');
    const running = await lockStacks(store, ["prod-hv01"], "fleet up", { local: env({ alive: () => true }) });
    expect(running.ok).toBe(false);
    if (!running.ok) expect(running.locked).toHaveLength(1);
    expect(fs.existsSync(lockFile)).toBe(true);

    const afterKill = await lockStacks(store, ["prod-hv01"], "fleet up", { local: env({ alive: (pid) => pid !== 10981 }) });
    expect(afterKill.ok).toBe(true);
    if (afterKill.ok) expect(afterKill.notes).toEqual([expect.stringMatching(/prod-hv01: removed the lock of an interrupted Pulumi operation by alice@ops1 \(pid 10981\)/)]);
    expect(fs.existsSync(lockFile)).toBe(false);
    expect(fs.existsSync(`${lockFile}.attrs`)).toBe(false);
  });

  it("unlock removes whatever fleet lock is held", async () => {
    const store = openStateStore(`file://${dir()}`)!;
    await lockStacks(store, ["prod-hv01"], "fleet up", { local: env() });
    const removed = await breakFleetLocks(store, ["prod-hv01", "prod-hv02"]);
    expect(removed.map((r) => [r.stack, r.holder?.username])).toEqual([["prod-hv01", "alice"]]);
    expect(await store.list(".fleet/")).toEqual([]);
  });
});

describe("whether a lock's process still runs, on this host", () => {
  it("takes a killed process nobody has reaped yet for gone, and a running one for alive", async () => {
    // The background `sleep 0` ends at once; its parent then becomes `sleep 5`, which never reaps it.
    const parent = spawn("bash", ["-c", "sleep 0 & echo $!; exec sleep 5 >/dev/null"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once("data", (d) => resolve(String(d)))));
      for (let i = 0; i < 100 && !isZombie(pid); i++) await new Promise((r) => setTimeout(r, 20));
      expect(isZombie(pid)).toBe(true);
      expect(() => process.kill(pid, 0)).not.toThrow(); // it still takes signals
      expect(LOCAL.alive(pid)).toBe(false);
      expect(LOCAL.alive(parent.pid!)).toBe(true);
      expect(isZombie(parent.pid!)).toBe(false);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});
