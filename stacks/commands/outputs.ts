import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { parseFlags, UsageError, type Command } from "../cli";
import { projectCli, repoRoot, toolchainEnv } from "../toolchain";
import { backendEnv } from "../driver/fleet-command";
import { cellStackName, selectCells } from "../driver/cells";
import { mergeOutputs } from "../driver/merge-outputs";
import { loadStackConfig } from "../../infra/config";
import { writeFileAtomic } from "../../tools/common/files";

const FLAGS = { env: "string", cells: "string", out: "string", "show-secrets": "boolean" } as const;

/** `fleet outputs`: every cell's outputs merged into the shape of one stack. */
export const command: Command = {
  name: "outputs",
  summary: "merge the cell stacks' outputs into one fleet inventory (JSON)",
  usage: "[--env NAME] [--cells hv01,hv02] [--out FILE [--show-secrets]]",
  async run(args, io) {
    const flags = parseFlags(args, FLAGS);
    const env = flags.env ?? "prod";
    if (flags["show-secrets"] && !flags.out) throw new UsageError("--show-secrets writes only to a file (--out), never to the terminal");
    const stackFile = loadStackConfig(path.join(io.root, `Pulumi.${env}.yaml`));
    if (!stackFile.config) throw new UsageError(`Pulumi.${env}.yaml is not a valid fleet config: run \`npx fleet validate --stack ${env}\``);
    const cells = selectCells(
      stackFile.config.hypervisors.map((h) => h.name),
      flags.cells?.split(","),
    );
    const cli = await projectCli();
    const envVars = { ...toolchainEnv(), ...backendEnv(env) };
    const all = [];
    for (const cell of cells) {
      const stack = await LocalWorkspace.selectStack(
        { stackName: cellStackName(env, cell), projectName: "moodle-fleet", program: async () => ({}) },
        { workDir: repoRoot, pulumiCommand: cli, envVars },
      ).catch(() => undefined);
      if (!stack) continue; // never deployed
      const outputs = Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value]));
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
