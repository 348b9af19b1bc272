import * as path from "node:path";
import { fork, type ChildProcess } from "node:child_process";
import { LocalWorkspace, type OpMap, type ConfigMap } from "@pulumi/pulumi/automation";
import { projectCli, repoRoot, toolchainEnv } from "../toolchain";
import { boundedAll, cellStackName } from "./cells";
import { applyEvent, cellError, ProgressView, type CellProgress } from "./progress";
import { environmentConfig } from "./env-config";
import type { CellJob, Operation, ProgramRef, WorkerMessage } from "./cell-worker";
import { plannedSteps, type PlannedStep, type StepEvent } from "./steps";
import type { PlannedLibvirt } from "../state/strays";
import { formatStepDurations, mergeDurations, type KindDurations } from "./step-durations";
import { startSshAgent } from "../ssh/agent";
import type { SecretKey } from "../../infra/config";

export type { Operation, ProgramRef } from "./cell-worker";

/** The fleet's cell program (infra/program.ts) for the given school list and ledger. */
export function fleetCellProgramRef(inputs: { schoolsFile: string; ledgerFile: string }): ProgramRef {
  return { module: path.join(repoRoot, "infra/program.ts"), exportName: "fleetCellProgram", args: inputs };
}

export interface CellResult {
  cell: string;
  stack: string;
  ok: boolean;
  /** Steps by kind: create, update, delete, replace, same, … */
  changes: OpMap;
  seconds: number;
  error?: string;
  /** Every resource the operation creates, updates, replaces or deletes (from the engine's step events). */
  steps?: PlannedStep[];
  /** What the cell's process told the operator on the way (e.g. how it resolved an interrupted run). */
  notes?: string[];
  /**
   * Seconds of every step the operation ran, by kind of resource
   * (stacks/driver/step-durations.ts): absent for a preview, which runs none.
   */
  stepDurations?: KindDurations[];
}

export interface DriverOptions {
  env: string;
  cells: readonly string[];
  operation: Operation;
  /** Cells run at once, each in a process of its own. */
  parallel: number;
  /** The program of a cell, as a module the cell's process loads. */
  program: ProgramRef;
  /** Expected resources of one cell, for the progress view. */
  expectedResources(cell: string): number;
  /** Extra environment for the CLI (backend, passphrase). */
  envVars: Record<string, string>;
  /** The environment's config; Pulumi.<env>.yaml in the repository by default. */
  stackFile?: string;
  /** Directory of 0600 files named after the secret keys (the lab's). */
  secretsDir?: string;
  /** Where the progress view writes. */
  out: { write(s: string): boolean; isTTY?: boolean };
  /** Passed to `up`/`destroy`: keep going past a failed resource. Default true. */
  continueOnError?: boolean;
  /** Per cell, URNs `up` replaces (installs of sites moved within the cell: stacks/driver/moves.ts). */
  replace?: Readonly<Record<string, readonly string[]>>;
  /** Per cell, its hypervisor's URI, pool and VMs: an `up` first removes what failed creates left of them. */
  planned?: Readonly<Record<string, PlannedLibvirt>>;
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
    opts.stackFile ?? path.join(repoRoot, `Pulumi.${opts.env}.yaml`),
    () => LocalWorkspace.createOrSelectStack(envStack, { workDir: repoRoot, pulumiCommand: cli, envVars }),
    opts.secretsDir,
  );

  // Remote commands authenticate through this run's agent: the fleet's key
  // is no resource input, so no state holds it. A preview runs no command.
  const sshKey = envConfig[`moodle-fleet:${"sshPrivateKey" satisfies SecretKey}`]?.value;
  const agent = opts.operation !== "preview" && sshKey ? await startSshAgent(sshKey) : undefined;
  const cellEnvVars = agent ? { ...envVars, SSH_AUTH_SOCK: agent.socket } : envVars;

  const progress: CellProgress[] = opts.cells.map((cell) => ({
    cell,
    state: "waiting",
    done: 0,
    total: opts.expectedResources(cell),
    failures: 0,
  }));
  const view = new ProgressView(progress, opts.out, opts.parallel);
  const workers = new WorkerPool();
  view.start();
  try {
    return await boundedAll(opts.cells, opts.parallel, async (cell) => {
      const p = progress.find((x) => x.cell === cell)!;
      const started = Date.now();
      p.state = "running";
      p.startedAt = started;
      const stackName = cellStackName(opts.env, cell);
      const job: CellJob = {
        cell,
        stackName,
        operation: opts.operation,
        program: opts.program,
        envConfig,
        envVars: cellEnvVars,
        workDir: repoRoot,
        continueOnError: opts.continueOnError ?? true,
        replace: opts.operation === "up" ? [...(opts.replace?.[cell] ?? [])] : [],
        ...(opts.planned?.[cell] && { planned: opts.planned[cell] }),
      };
      const outcome = await workers.run(job, p);
      p.state = outcome.ok ? "done" : "failed";
      p.endedAt = Date.now();
      return { cell, stack: stackName, seconds: (Date.now() - started) / 1000, ...outcome };
    });
  } finally {
    view.stop();
    workers.close();
    await agent?.stop();
  }
}

type WorkerOutcome = { ok: boolean; changes: OpMap; error?: string; steps: PlannedStep[]; notes: string[]; stepDurations?: KindDurations[] };

/**
 * The cell worker processes of one run: at most one per parallel slot.
 * A worker whose cell succeeded takes the next; one whose cell failed is
 * let go, so that nothing a failed program left behind (a pending promise,
 * a half-closed connection) reaches another cell.
 */
class WorkerPool {
  /**
   * A worker's heap grows by a cell's garbage until V8 needs the room: one
   * that ran five 200-school cells in a row held 300 to 530 MiB, and 280
   * when its heap was capped at 160 MiB. A worker past this bound after a
   * cell is let go, which keeps a process well under the 1.5 GiB any
   * process of a run may use.
   */
  static readonly REUSE_BELOW_BYTES = 640 * 1024 * 1024;
  private readonly idle: ChildProcess[] = [];

  run(job: CellJob, p: CellProgress): Promise<WorkerOutcome> {
    const child = this.takeIdle() ?? forkWorker();
    return new Promise((resolve) => {
      let stderr = "";
      const onStderr = (d: Buffer) => (stderr = (stderr + d).slice(-4000));
      const steps: StepEvent[] = [];
      const notes: string[] = [];
      let stepDurations: KindDurations[] | undefined;
      const finish = (outcome: Omit<WorkerOutcome, "steps" | "notes">, reusable = false) => {
        child.off("message", onMessage);
        child.off("exit", onExit);
        child.stderr!.off("data", onStderr);
        if (reusable && child.connected) this.idle.push(child);
        else if (child.connected) child.disconnect();
        resolve({ ...outcome, steps: plannedSteps(steps), notes, ...(stepDurations && { stepDurations }) });
      };
      const onMessage = (m: WorkerMessage) => {
        if (m.type === "note") {
          notes.push(m.message);
        } else if (m.type === "durations") {
          stepDurations = m.durations;
        } else if (m.type === "event") {
          applyEvent(p, m);
        } else if (m.type === "step") {
          steps.push(m.step);
        } else if (m.type === "result") {
          finish({ ok: true, changes: m.changes }, m.rssBytes < WorkerPool.REUSE_BELOW_BYTES);
        } else {
          finish({ ok: false, changes: {}, error: cellError(p) ?? m.message });
        }
      };
      // Only before an outcome: finish() stops listening.
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        finish({ ok: false, changes: {}, error: `cell process ended (${signal ?? code}): ${stderr.trim().split("\n").pop() ?? ""}` });
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.stderr!.on("data", onStderr);
      child.send(job);
    });
  }

  /** An idle worker that is still there (one may have died while it waited). */
  private takeIdle(): ChildProcess | undefined {
    for (let child = this.idle.pop(); child; child = this.idle.pop()) {
      if (child.connected && child.exitCode === null && child.signalCode === null) return child;
    }
    return undefined;
  }

  /** Idle workers end once disconnected. */
  close(): void {
    for (const child of this.idle.splice(0)) if (child.connected) child.disconnect();
  }
}

function forkWorker(): ChildProcess {
  return fork(path.join(__dirname, "cell-worker.ts"), [], {
    cwd: repoRoot,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
}

/**
 * Combined table of every cell's changes; after an operation that ran steps
 * (not a preview), how long each kind of step took across the cells.
 */
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
  const table = [header, ...rows, total].join("\n");
  const ran = results.filter((r) => r.stepDurations !== undefined);
  return ran.length === 0 ? table : `${table}\n\n${formatStepDurations(mergeDurations(ran.map((r) => r.stepDurations)))}`;
}
