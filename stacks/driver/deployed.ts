import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { projectCli, repoRoot, toolchainEnv } from "../toolchain";
import { boundedAll } from "./cells";
import type { StackInfo } from "./env-stacks";
import { beforeHostPasswordsMessage, sitesBeforeHostPasswords } from "./migration";
import { installHostsFromState, type CellDeployment } from "./moves";

/** What the driver reads from a stack's state, besides its outputs. */
export interface StackStateFacts {
  /** School id -> the host its install last ran on (installHostsFromState). */
  installHosts: Record<string, string>;
  /** Schools this version cannot take over yet (migration.ts). */
  sitesBeforeHostPasswords: string[];
}

/**
 * Facts from a stack's state. Exported without --show-secrets: nothing
 * secret is decrypted or read here.
 */
export async function readStackState(stackName: string, envVars: Record<string, string>): Promise<StackStateFacts> {
  const cli = await projectCli();
  const { stdout } = await promisify(execFile)(cli.command, ["stack", "export", "--stack", stackName], {
    cwd: repoRoot,
    env: { ...process.env, ...toolchainEnv(), ...envVars },
    maxBuffer: 1 << 30,
  });
  const state: unknown = JSON.parse(stdout);
  return { installHosts: installHostsFromState(state), sitesBeforeHostPasswords: sitesBeforeHostPasswords(state) };
}

/** The outputs of one stack, plain values (secrets included: they stay in this process). */
export async function readStackOutputs(stackName: string, envVars: Record<string, string>): Promise<Record<string, unknown>> {
  const stack = await LocalWorkspace.selectStack(
    { stackName, projectName: "moodle-fleet", program: async () => ({}) },
    { workDir: repoRoot, pulumiCommand: await projectCli(), envVars: { ...toolchainEnv(), ...envVars } },
  );
  return Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value]));
}

/**
 * The outputs of every configured cell whose stack holds resources, all of
 * them and not only the cells of this run: a school moved across hypervisors
 * is found only by looking at the cell it leaves. A stack that cannot be read
 * stops the run (errors are thrown): a move not seen is a site left running.
 */
export async function readCellOutputs(
  cells: ReadonlyMap<string, StackInfo>,
  read: {
    outputs(stackName: string, envVars: Record<string, string>): Promise<Record<string, unknown>>;
    state(stackName: string, envVars: Record<string, string>): Promise<StackStateFacts>;
  },
  envVars: Record<string, string>,
  parallel: number,
): Promise<CellDeployment[]> {
  const deployed = [...cells].filter(([, stack]) => stack.resourceCount !== 0);
  return boundedAll(deployed, parallel, async ([cell, stack]) => {
    try {
      const outputs = await read.outputs(stack.name, envVars);
      const { installHosts, sitesBeforeHostPasswords } = await read.state(stack.name, envVars);
      return { cell, stack: stack.name, outputs, installHosts, sitesBeforeHostPasswords };
    } catch (error) {
      throw new Error(`reading the outputs of stack ${stack.name} (cell ${cell}): ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
  });
}

/**
 * Why the run must stop, if a cell of it holds sites that the version
 * before this one has not converged (migration.ts); cells outside the run
 * are not changed by it and may be taken over later.
 */
export function unconvergedCellsMessage(deployments: readonly CellDeployment[], cells: readonly string[]): string | undefined {
  const messages = deployments
    .filter((d) => cells.includes(d.cell) && (d.sitesBeforeHostPasswords?.length ?? 0) > 0)
    .map((d) => beforeHostPasswordsMessage(d.stack ?? d.cell, d.sitesBeforeHostPasswords!));
  return messages.length > 0 ? messages.join("\n") : undefined;
}
