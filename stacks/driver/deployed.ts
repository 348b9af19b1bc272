import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { projectCli, repoRoot, toolchainEnv } from "../toolchain";
import { boundedAll } from "./cells";
import type { StackInfo } from "./env-stacks";
import { installHostsFromState, type CellDeployment } from "./moves";

/**
 * Where each site install of a stack last ran, from its state. Exported
 * without --show-secrets: nothing secret is decrypted or read here.
 */
export async function readStackInstallHosts(stackName: string, envVars: Record<string, string>): Promise<Record<string, string>> {
  const cli = await projectCli();
  const { stdout } = await promisify(execFile)(cli.command, ["stack", "export", "--stack", stackName], {
    cwd: repoRoot,
    env: { ...process.env, ...toolchainEnv(), ...envVars },
    maxBuffer: 1 << 30,
  });
  return installHostsFromState(JSON.parse(stdout));
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
    installHosts(stackName: string, envVars: Record<string, string>): Promise<Record<string, string>>;
  },
  envVars: Record<string, string>,
  parallel: number,
): Promise<CellDeployment[]> {
  const deployed = [...cells].filter(([, stack]) => stack.resourceCount !== 0);
  return boundedAll(deployed, parallel, async ([cell, stack]) => {
    try {
      return { cell, outputs: await read.outputs(stack.name, envVars), installHosts: await read.installHosts(stack.name, envVars) };
    } catch (error) {
      throw new Error(`reading the outputs of stack ${stack.name} (cell ${cell}): ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
  });
}
