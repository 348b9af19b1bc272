import * as fs from "node:fs";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { projectCli, repoRoot, toolchainEnv } from "../toolchain";
import { cellStackName } from "./cells";

/** A stack as the backend lists it. */
export interface StackInfo {
  name: string;
  /** Undefined when the backend does not say. */
  resourceCount?: number;
}

export interface EnvStacks {
  /** Stacks of configured cells, by cell. */
  cells: Map<string, StackInfo>;
  /** `<env>-*` stacks of hypervisors the config no longer has, still holding resources (or not saying). */
  strays: StackInfo[];
  /** Such stacks that are empty: harmless, reported only. */
  emptyStrays: StackInfo[];
}

/**
 * Sorts the backend's stacks into an environment's cells and strays. A stack
 * belongs to `env` when it is named `<env>-<cell>`, unless a longer
 * environment claims it (env `prod` and env `prod-eu` both exist: `prod-eu-hv01`
 * is `prod-eu`'s). The environment's own stack (`<env>`, shared secrets) is
 * not a cell.
 */
export function sortEnvStacks(env: string, cells: readonly string[], stacks: readonly StackInfo[], otherEnvs: readonly string[] = []): EnvStacks {
  const longer = otherEnvs.filter((e) => e !== env && e.startsWith(`${env}-`));
  const out: EnvStacks = { cells: new Map(), strays: [], emptyStrays: [] };
  for (const stack of stacks) {
    // Cloud backends list `org/project/name`; the file backend the bare name.
    const name = stack.name.split("/").pop()!;
    if (!name.startsWith(`${env}-`)) continue;
    if (longer.some((e) => name === e || name.startsWith(`${e}-`))) continue;
    const info = { ...stack, name };
    const cell = cells.find((c) => cellStackName(env, c) === name);
    if (cell !== undefined) out.cells.set(cell, info);
    else if (stack.resourceCount === 0) out.emptyStrays.push(info);
    else out.strays.push(info);
  }
  return out;
}

/** Why strays stop a run, and what the operator can do about them. */
export function strayMessage(env: string, strays: readonly StackInfo[], configured: readonly string[]): string {
  const list = strays.map((s) => `${s.name} (${s.resourceCount === undefined ? "resource count unknown" : `${s.resourceCount} resources`})`).join(", ");
  return (
    `stack(s) of environment "${env}" for hypervisors not in Pulumi.${env}.yaml still hold resources: ${list}. ` +
    `Their sites keep running unmanaged and stay out of the outputs and the mail-out. ` +
    `Put the hypervisor back into the config (configured: ${configured.join(", ") || "none"}) and move or destroy its sites through the fleet, ` +
    `or destroy the stack itself with \`pulumi destroy -s <stack>\` once its sites are archived ` +
    `(a stack that never ran \`up\` goes with \`pulumi stack rm <stack>\`).`
  );
}

/** Environments with a stack file in the repository: Pulumi.<env>.yaml. */
export function knownEnvs(dir = repoRoot): string[] {
  return fs
    .readdirSync(dir)
    .map((f) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(f)?.[1])
    .filter((e): e is string => e !== undefined)
    // A cell stack's own file (Pulumi.<env>-<cell>.yaml, written by the driver) names its cell;
    // taken for an environment, it would claim that very cell's stack from its environment.
    .filter((e) => !/^\s*moodle-fleet:cell:/m.test(fs.readFileSync(`${dir}/Pulumi.${e}.yaml`, "utf8")));
}

/** Every stack of the project on the environment's backend. Errors are thrown, never read as "no stacks". */
export async function listProjectStacks(envVars: Record<string, string>): Promise<StackInfo[]> {
  const ws = await LocalWorkspace.create({ workDir: repoRoot, pulumiCommand: await projectCli(), envVars: { ...toolchainEnv(), ...envVars } });
  return (await ws.listStacks()).map((s) => ({ name: s.name, resourceCount: s.resourceCount }));
}
