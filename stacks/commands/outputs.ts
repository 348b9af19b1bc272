import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { parseFlags, UsageError, type Command, type CommandIO } from "../cli";
import { projectCli, repoRoot, toolchainEnv } from "../toolchain";
import { backendEnv, requireEnv } from "../driver/fleet-command";
import { selectCells } from "../driver/cells";
import { mergeOutputs } from "../driver/merge-outputs";
import { knownEnvs, listProjectStacks, sortEnvStacks, strayMessage, type StackInfo } from "../driver/env-stacks";
import { loadStackConfig } from "../../infra/config";
import { writeFileAtomic } from "../../tools/common/files";

const FLAGS = { env: "string", cells: "string", out: "string", "show-secrets": "boolean" } as const;

/** Flags of the commands that read the input files: said plainly, since scripts have passed them here. */
const INPUT_ONLY = ["schools", "ledger", "stack", "config", "secrets-dir"];

/** What `fleet outputs` reaches outside the process; replaced in tests. */
export interface OutputsDeps {
  listStacks(envVars: Record<string, string>): Promise<StackInfo[]>;
  /** The outputs of one stack, plain values. */
  readOutputs(stackName: string, envVars: Record<string, string>): Promise<Record<string, unknown>>;
  backendEnv(env: string): Record<string, string>;
  knownEnvs(): string[];
}

async function readStackOutputs(stackName: string, envVars: Record<string, string>): Promise<Record<string, unknown>> {
  const stack = await LocalWorkspace.selectStack(
    { stackName, projectName: "moodle-fleet", program: async () => ({}) },
    { workDir: repoRoot, pulumiCommand: await projectCli(), envVars: { ...toolchainEnv(), ...envVars } },
  );
  return Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value]));
}

const DEFAULT_DEPS: OutputsDeps = { listStacks: listProjectStacks, readOutputs: readStackOutputs, backendEnv, knownEnvs: () => knownEnvs() };

export const usage = [
  "--env NAME [--cells hv01,hv02] [--out FILE [--show-secrets]]",
  "  Reads the outputs of every cell stack <env>-<hypervisor> of the hypervisors in",
  "  Pulumi.<env>.yaml and merges them into the shape of one stack's outputs (the input",
  "  of mailout, targets and status). Takes no school list or ledger: it reads what",
  "  is deployed, not what is planned. A cell whose stack does not exist yet or is empty",
  "  is left out (noted on stderr). It fails (exit 1, nothing written) when a stack",
  "  cannot be read, a stack holds resources but no outputs, or a stack <env>-* of a",
  "  hypervisor no longer configured still holds resources.",
].join("\n");

/** `fleet outputs`: every cell's outputs merged into the shape of one stack. */
export function outputsCommand(deps: Partial<OutputsDeps> = {}): Command {
  const d: OutputsDeps = { ...DEFAULT_DEPS, ...deps };
  return {
    name: "outputs",
    summary: "merge the cell stacks' outputs into one fleet inventory (JSON)",
    usage,
    async run(args: string[], io: CommandIO) {
      const given = INPUT_ONLY.find((f) => args.some((a) => a === `--${f}` || a.startsWith(`--${f}=`)));
      if (given) throw new UsageError(`--${given} does not apply: fleet outputs reads the deployed stacks of --env, not the input files`);
      const flags = parseFlags(args, FLAGS);
      const env = requireEnv(flags.env);
      if (flags["show-secrets"] && !flags.out) throw new UsageError("--show-secrets writes only to a file (--out), never to the terminal");
      const stackFile = loadStackConfig(path.join(io.root, `Pulumi.${env}.yaml`));
      if (!stackFile.config) throw new UsageError(`Pulumi.${env}.yaml is not a valid fleet config: run \`npx fleet validate --stack ${env}\``);
      const configured = stackFile.config.hypervisors.map((h) => h.name);
      const cells = selectCells(configured, flags.cells?.split(",").map((c) => c.trim()));
      const envVars = d.backendEnv(env);

      // Every failure to list or read a stack stops here: a mail-out made
      // from part of the fleet would leave schools without their letter.
      const sorted = sortEnvStacks(env, configured, await d.listStacks(envVars), d.knownEnvs());
      if (sorted.strays.length > 0) {
        io.stderr(`fleet outputs: ${strayMessage(env, sorted.strays, configured)}\n`);
        return 1;
      }
      const all = [];
      for (const cell of cells) {
        const stack = sorted.cells.get(cell);
        if (!stack || stack.resourceCount === 0) {
          io.stderr(`fleet outputs: note: cell ${cell} is not deployed (${stack ? `stack ${stack.name} is empty` : "no stack"}); it is left out\n`);
          continue;
        }
        const outputs = await d.readOutputs(stack.name, envVars);
        if (Object.keys(outputs).length === 0 && stack.resourceCount === undefined) {
          io.stderr(`fleet outputs: note: stack ${stack.name} has no outputs and its backend does not count resources; cell ${cell} is left out\n`);
          continue;
        }
        if (Object.keys(outputs).length === 0) {
          io.stderr(
            `fleet outputs: stack ${stack.name} holds ${stack.resourceCount} resources but no outputs ` +
              `(did its last \`fleet up\` fail early?); run \`fleet up --env ${env} --cells ${cell}\` first. Nothing was written.\n`,
          );
          return 1;
        }
        all.push({ cell, outputs });
      }
      const merged = mergeOutputs(all);
      if (flags.out) {
        const shown = flags["show-secrets"] ? merged : { ...merged, adminPasswords: {} };
        const file = path.resolve(io.cwd, flags.out);
        writeFileAtomic(file, JSON.stringify(shown, null, 2) + "\n", 0o600);
        io.stderr(`wrote ${Object.keys(merged.sites).length} sites to ${flags.out}${flags["show-secrets"] ? " (with passwords, mode 0600)" : ""}\n`);
      } else {
        io.stdout(JSON.stringify({ ...merged, adminPasswords: "[secret: use --out FILE --show-secrets]" }, null, 2) + "\n");
      }
      return 0;
    },
  };
}

export const command: Command = outputsCommand();
