import { expect } from "vitest";
import * as os from "node:os";
import type { TeamEnv } from "./team-env";

/**
 * Two `fleet up` on one environment at once. The second starts once the
 * first holds its locks (`heldLocks` polls the backend) and must stop at
 * once, naming a locked stack and its holder; the first completes; after
 * both, the state is whole (a further up changes nothing, no lock is left).
 */
export async function concurrentUps(t: TeamEnv, heldLocks: () => Promise<string[]>): Promise<void> {
  const first = t.fleet(["up", "--env", t.env]).then((r) => ({ ...r, endedAt: Date.now() }));
  const deadline = Date.now() + 120_000;
  let held: string[] = [];
  while (Date.now() < deadline && held.length === 0) {
    held = await heldLocks();
    if (held.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(held.length, "the first run never took its locks").toBeGreaterThan(0);

  const second = await t.fleet(["up", "--env", t.env]);
  const secondEndedAt = Date.now();
  const one = await first;

  expect(second.code).toBe(1);
  expect(second.stderr).toMatch(new RegExp(`stack ${t.env}-hva is locked by another fleet run: \`fleet up --env ${t.env}\` by \\S+@${os.hostname()} \\(pid \\d+\\)`));
  expect(second.stderr).toContain("Nothing was changed");
  // It stopped before planning: no cell table, no preview.
  expect(second.stdout).not.toMatch(/create/);
  expect(one.code, one.stderr).toBe(0);
  // "At once": it was refused while the first run was still working.
  expect(secondEndedAt).toBeLessThan(one.endedAt);

  expect(await heldLocks()).toEqual([]);
  const again = await t.fleet(["up", "--env", t.env]);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toMatch(/^total\s+0\s+0\s+0\s+0\s+\d+/m);
}
