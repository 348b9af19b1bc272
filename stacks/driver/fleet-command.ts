import * as fs from "node:fs";
import * as path from "node:path";
import type { Command, CommandIO } from "../cli";
import { INPUT_FLAGS, inputFiles, parseFlags, UsageError } from "../cli";
import { loadFleetInputs } from "../../infra/inputs";
import { formatIssue } from "../../infra/inputs/issues";
import { buildFleetPlan, selectHypervisors } from "../../infra/plan";
import { expectedResourceCount } from "../../infra/components/fleet";
import { selectCells } from "./cells";
import { formatSummary, runCells, type Operation } from "./run-cells";
import { ensurePassphraseFile, STATE_DIR } from "../toolchain";

export const DRIVER_FLAGS = { ...INPUT_FLAGS, env: "string", cells: "string", parallel: "string", "secrets-dir": "string" } as const;
export const DRIVER_USAGE = "[--env NAME] [--cells hv01,hv02] [--parallel N] [--schools FILE] [--ledger FILE] [--secrets-dir DIR]";

/**
 * Backend and passphrase for an environment: what the operator exported, or
 * for the lab a file backend and passphrase file under the ignored .state/.
 */
export function backendEnv(env: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!process.env.PULUMI_BACKEND_URL) {
    if (env !== "lab") throw new UsageError(`set PULUMI_BACKEND_URL to the state backend of "${env}"`);
    const stateDir = path.join(STATE_DIR, "lab");
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    out.PULUMI_BACKEND_URL = `file://${stateDir}`;
  }
  if (!process.env.PULUMI_CONFIG_PASSPHRASE && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    if (env !== "lab") throw new UsageError(`set PULUMI_CONFIG_PASSPHRASE_FILE for the secrets of "${env}"`);
    out.PULUMI_CONFIG_PASSPHRASE_FILE = ensurePassphraseFile(path.join(STATE_DIR, "lab.passphrase"));
  }
  return out;
}

/** `fleet preview|up|refresh|destroy`: one operation over the cell stacks of an environment. */
export function driverCommand(operation: Operation, summary: string): Command {
  return {
    name: operation,
    summary,
    usage: DRIVER_USAGE,
    async run(args: string[], io: CommandIO): Promise<number> {
      const flags = parseFlags(args, DRIVER_FLAGS);
      const env = flags.env ?? "prod";
      const parallel = Number(flags.parallel ?? "2");
      if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError("--parallel must be a positive integer");
      const files = inputFiles({ ...flags, stack: flags.stack ?? env }, io);
      const inputs = loadFleetInputs(files);
      const errors = inputs.issues.filter((i) => i.severity !== "warning");
      if (!inputs.config || errors.length > 0) {
        for (const issue of errors) io.stderr(`${formatIssue(issue)}\n`);
        return 1;
      }
      const plan = buildFleetPlan({
        schools: inputs.schoolList.schools,
        config: inputs.config,
        ledger: inputs.ledger.entries,
        files: { schools: files.schools.shownAs, ledger: files.ledger.shownAs },
      });
      const cells = selectCells(
        plan.hypervisors.map((h) => h.name),
        flags.cells?.split(",").map((c) => c.trim()),
      );
      const results = await runCells({
        env,
        cells,
        operation,
        parallel,
        program: {
          module: path.join(__dirname, "../../infra/program.ts"),
          exportName: "fleetCellProgram",
          args: { schoolsFile: files.schools.path, ledgerFile: files.ledger.path },
        },
        expectedResources: (cell) => expectedResourceCount(selectHypervisors(plan, [cell])),
        envVars: backendEnv(env),
        secretsDir: flags["secrets-dir"] && path.resolve(io.cwd, flags["secrets-dir"]),
        out: process.stderr,
      });
      io.stdout(`${formatSummary(results)}\n`);
      return results.every((r) => r.ok) ? 0 : 1;
    },
  };
}
