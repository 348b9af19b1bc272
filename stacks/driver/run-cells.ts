import * as path from "node:path";
import { LocalWorkspace, Stack, type EngineEvent, type OpMap, type PulumiFn, type ConfigMap } from "@pulumi/pulumi/automation";
import { projectCli, repoRoot, toolchainEnv } from "../toolchain";
import { boundedAll, cellStackName } from "./cells";
import { applyEvent, ProgressView, type CellProgress } from "./progress";
import { syncCellConfig } from "./stack-config";
import { environmentConfig } from "./env-config";

export type Operation = "preview" | "up" | "refresh" | "destroy";

export interface CellResult {
  cell: string;
  stack: string;
  ok: boolean;
  /** Steps by kind: create, update, delete, replace, same, … */
  changes: OpMap;
  seconds: number;
  error?: string;
}

export interface DriverOptions {
  env: string;
  cells: readonly string[];
  operation: Operation;
  /** Cells run at once. */
  parallel: number;
  /** The program of one cell. */
  programFor(cell: string): PulumiFn;
  /** Expected resources of one cell, for the progress view. */
  expectedResources(cell: string): number;
  /** Extra environment for the CLI (backend, passphrase). */
  envVars: Record<string, string>;
  /** Where the progress view writes. */
  out: { write(s: string): boolean; isTTY?: boolean };
  /** Directory of 0600 files named after the secret keys (the lab's). */
  secretsDir?: string;
  /** Passed to `up`/`destroy`: keep going past a failed resource. Default true. */
  continueOnError?: boolean;
}

/**
 * Runs one operation over many cell stacks with bounded concurrency. A
 * failing cell is recorded and the others still complete.
 */
export async function runCells(opts: DriverOptions): Promise<CellResult[]> {
  const cli = await projectCli();
  const envVars = { ...toolchainEnv(), ...opts.envVars };
  // The environment's own stack only holds the secrets of Pulumi.<env>.yaml.
  const envStack = { stackName: opts.env, projectName: "moodle-fleet", program: async () => ({}) };
  const envConfig: ConfigMap = await environmentConfig(
    path.join(repoRoot, `Pulumi.${opts.env}.yaml`),
    () => LocalWorkspace.createOrSelectStack(envStack, { workDir: repoRoot, pulumiCommand: cli, envVars }),
    opts.secretsDir,
  );

  const progress: CellProgress[] = opts.cells.map((cell) => ({
    cell,
    state: "waiting",
    done: 0,
    total: opts.expectedResources(cell),
    failures: 0,
  }));
  const view = new ProgressView(progress, opts.out);
  view.start();
  try {
    return await boundedAll(opts.cells, opts.parallel, async (cell) => {
      const p = progress.find((x) => x.cell === cell)!;
      p.state = "running";
      const started = Date.now();
      const stackName = cellStackName(opts.env, cell);
      try {
        const stack = await LocalWorkspace.createOrSelectStack(
          { stackName, projectName: "moodle-fleet", program: opts.programFor(cell) },
          { workDir: repoRoot, pulumiCommand: cli, envVars },
        );
        await syncCellConfig(stack, envConfig, cell, { path: cli.command, env: envVars, cwd: repoRoot });
        const changes = await runOperation(stack, opts, (e) => applyEvent(p, e));
        p.state = "done";
        return { cell, stack: stackName, ok: true, changes, seconds: (Date.now() - started) / 1000 };
      } catch (error) {
        p.state = "failed";
        const message = p.lastError ?? (error instanceof Error ? error.message.split("\n").slice(-3).join(" ") : String(error));
        return { cell, stack: stackName, ok: false, changes: {}, seconds: (Date.now() - started) / 1000, error: message };
      }
    });
  } finally {
    view.stop();
  }
}

async function runOperation(stack: Stack, opts: DriverOptions, onEvent: (e: EngineEvent) => void): Promise<OpMap> {
  const common = { onEvent, color: "never" as const, parallel: 16 };
  const continueOnError = opts.continueOnError ?? true;
  switch (opts.operation) {
    case "preview":
      return (await stack.preview(common)).changeSummary;
    case "up":
      return (await stack.up({ ...common, continueOnError })).summary.resourceChanges ?? {};
    case "refresh":
      return (await stack.refresh(common)).summary.resourceChanges ?? {};
    case "destroy":
      return (await stack.destroy({ ...common, continueOnError })).summary.resourceChanges ?? {};
  }
}

/** Combined table of every cell's changes. */
export function formatSummary(results: readonly CellResult[]): string {
  const kinds = ["create", "update", "replace", "delete", "same"] as const;
  const width = Math.max(4, ...results.map((r) => r.cell.length));
  const header = ["cell".padEnd(width), ...kinds.map((k) => k.padStart(7)), "  seconds", "  result"].join(" ");
  const rows = results.map((r) =>
    [
      r.cell.padEnd(width),
      ...kinds.map((k) => String((r.changes as Record<string, number>)[k] ?? 0).padStart(7)),
      r.seconds.toFixed(1).padStart(9),
      `  ${r.ok ? "ok" : `FAILED: ${r.error ?? ""}`}`,
    ].join(" "),
  );
  const totals = kinds.map((k) => results.reduce((n, r) => n + ((r.changes as Record<string, number>)[k] ?? 0), 0));
  const total = ["total".padEnd(width), ...totals.map((t) => String(t).padStart(7))].join(" ");
  return [header, ...rows, total].join("\n");
}

export const STATE_DIR = path.join(repoRoot, ".state");
