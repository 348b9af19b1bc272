import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import { DIY_ORG, PROJECT } from "./backend";
import type { StateStore } from "./store";

/**
 * Who holds a lock. The fleet's own locks and Pulumi's share these fields
 * (Pulumi writes pid, username, hostname, timestamp); the fleet adds what it
 * is doing and an id, so that it only ever deletes its own lock.
 */
export interface LockHolder {
  pid: number;
  username: string;
  hostname: string;
  timestamp: string;
  operation?: string;
  id?: string;
}

export interface LockedStack {
  stack: string;
  /** `fleet`: another fleet run; `pulumi`: a Pulumi operation (the driver's own or a plain `pulumi up`). */
  by: "fleet" | "pulumi";
  holder?: LockHolder;
  key: string;
}

export interface HeldLocks {
  stacks: readonly string[];
  release(): Promise<void>;
}

export type LockOutcome = { ok: true; held: HeldLocks; notes: string[] } | { ok: false; locked: LockedStack[]; message: string };

/**
 * The fleet's run lock of a stack. It lives outside Pulumi's `.pulumi/`
 * tree: Pulumi refuses to run on a stack with any lock but its own in
 * `.pulumi/locks`, so a fleet lock there would stop the fleet's own updates.
 */
export function fleetLockKey(stack: string): string {
  return `.fleet/locks/${PROJECT}/${stack}.json`;
}

/** Where a DIY backend keeps Pulumi's locks of a stack (project-scoped stacks). */
export function pulumiLockPrefix(stack: string): string {
  return `.pulumi/locks/${DIY_ORG}/${PROJECT}/${stack}/`;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === "number" ? h : undefined;
  } catch {
    return undefined;
  }
}

export interface LockEnvironment {
  hostname: string;
  username: string;
  pid: number;
  now(): Date;
  /** Whether a process of this host still runs. */
  alive(pid: number): boolean;
}

export const LOCAL: LockEnvironment = {
  hostname: os.hostname(),
  username: (() => {
    try {
      return os.userInfo().username;
    } catch {
      return String(process.getuid?.() ?? "unknown");
    }
  })(),
  pid: process.pid,
  now: () => new Date(),
  alive(pid) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
    return !isZombie(pid);
  },
};

/**
 * A killed process that nobody has reaped yet still takes signals, but it
 * runs nothing and holds no lock: a CLI killed with its driver is such a
 * zombie until init reaps it (Linux: state Z in /proc/PID/stat).
 */
export function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command name, which is in parentheses and may hold any character.
    return stat[stat.lastIndexOf(")") + 2] === "Z";
  } catch {
    return false;
  }
}

/**
 * Takes the fleet lock of every stack, or none: when any stack is locked
 * (by another fleet run, or by a Pulumi operation), the locks taken so far
 * are released and the outcome names each locked stack and its holder.
 * A fleet or Pulumi lock left by a process of this host that no longer runs
 * is stale and taken over; one from another host is reported, since only
 * its owner can tell whether that run still goes on.
 */
export async function lockStacks(
  store: StateStore,
  stacks: readonly string[],
  operation: string,
  opts: { env?: string; local?: LockEnvironment } = {},
): Promise<LockOutcome> {
  const local = opts.local ?? LOCAL;
  const mine: LockHolder = {
    pid: local.pid,
    username: local.username,
    hostname: local.hostname,
    timestamp: local.now().toISOString(),
    operation,
    id: crypto.randomUUID(),
  };
  const content = JSON.stringify(mine);
  const taken: string[] = [];
  const locked: LockedStack[] = [];
  const notes: string[] = [];
  const release = async () => {
    for (const stack of taken.splice(0).reverse()) await store.removeIf(fleetLockKey(stack), content);
  };
  try {
    for (const stack of [...stacks].sort()) {
      const pulumiLocks: typeof locked = [];
      for (const l of await store.list(pulumiLockPrefix(stack))) {
        const holder = parseHolder(l.data);
        if (holder && holder.hostname === local.hostname && !local.alive(holder.pid)) {
          // Pulumi's lock outlives a killed CLI; on this host a dead pid
          // proves the operation is over, and what it left half done is
          // pending operations in the state, which the driver resolves next.
          await store.removeIf(l.key, l.data);
          notes.push(`stack ${stack}: removed the lock of an interrupted Pulumi operation ${describeHolder(holder)}`);
          continue;
        }
        pulumiLocks.push({ stack, by: "pulumi", holder, key: l.key });
      }
      locked.push(...pulumiLocks);
      if (pulumiLocks.length > 0) continue;

      const key = fleetLockKey(stack);
      if (locked.length > 0) {
        // Refused already: only look, so that a losing run never holds a stack the winner still needs.
        const [held] = (await store.list(key)).filter((o) => o.key === key);
        if (held) locked.push({ stack, by: "fleet", holder: parseHolder(held.data), key });
        continue;
      }
      if (await store.createExclusive(key, content)) {
        taken.push(stack);
        continue;
      }
      const [existing] = (await store.list(key)).filter((o) => o.key === key);
      const holder = existing && parseHolder(existing.data);
      if (existing && holder && holder.hostname === local.hostname && !local.alive(holder.pid)) {
        await store.removeIf(key, existing.data);
        if (await store.createExclusive(key, content)) {
          notes.push(`stack ${stack}: took over the lock of ${describeHolder(holder)}, which no longer runs`);
          taken.push(stack);
          continue;
        }
      }
      locked.push({ stack, by: "fleet", holder, key });
    }
  } catch (error) {
    await release();
    throw error;
  }
  if (locked.length > 0) {
    await release();
    return { ok: false, locked, message: lockedMessage(locked, opts.env) };
  }
  return { ok: true, held: { stacks: [...taken], release }, notes };
}

export function describeHolder(h: LockHolder | undefined): string {
  if (!h) return "an unreadable lock";
  return `${h.operation ? `\`${h.operation}\` ` : ""}by ${h.username}@${h.hostname} (pid ${h.pid}) since ${h.timestamp}`;
}

/** One line per locked stack, with what the operator can do. */
export function lockedMessage(locked: readonly LockedStack[], env?: string): string {
  const lines = locked.map((l) =>
    l.by === "fleet"
      ? `stack ${l.stack} is locked by another fleet run: ${describeHolder(l.holder)}`
      : `stack ${l.stack} is locked by a Pulumi operation: ${describeHolder(l.holder)}`,
  );
  const byFleet = locked.filter((l) => l.by === "fleet").map((l) => l.stack);
  const hints = ["Nothing was changed. Wait for that run to end."];
  if (byFleet.length > 0) {
    const which = env !== undefined && byFleet.every((s) => s.startsWith(`${env}-`))
      ? `--env ${env} --cells ${byFleet.map((s) => s.slice(env.length + 1)).join(",")}`
      : `--stacks ${byFleet.join(",")}`;
    hints.push(`If its process is gone for good (check on its host), remove the lock with \`fleet state unlock ${which}\`.`);
  }
  if (locked.some((l) => l.by === "pulumi")) {
    hints.push("A Pulumi lock of this host whose process is gone is removed by the next run; one of another host goes with `pulumi cancel -s <stack>` once its process is gone.");
  }
  return [...lines, ...hints].join("\n");
}

/** Removes the fleet locks of the given stacks whoever holds them (`fleet state unlock`). */
export async function breakFleetLocks(store: StateStore, stacks: readonly string[]): Promise<{ stack: string; holder?: LockHolder }[]> {
  const removed: { stack: string; holder?: LockHolder }[] = [];
  for (const stack of stacks) {
    const key = fleetLockKey(stack);
    for (const o of (await store.list(key)).filter((x) => x.key === key)) {
      await store.removeIf(key, o.data);
      removed.push({ stack, holder: parseHolder(o.data) });
    }
  }
  return removed;
}
