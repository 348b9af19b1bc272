// Cells' stack operations, one at a time, in a process of the driver's:
// cells running at once never share a process (the Node SDK keeps
// per-process state while a program runs), a crash takes only that cell,
// and memory is bounded per process. The driver hands a process its next
// cell only after one that succeeded, so the modules (a second per cell)
// are loaded once per slot, not once per cell. Driven over IPC by
// run-cells.ts; secrets arrive over IPC, never in argv or the environment.
import { LocalWorkspace, type ConfigMap, type EngineEvent, type OpMap, type PulumiFn, type Stack, type UpdateSummary } from "@pulumi/pulumi/automation";
import { projectCli } from "../toolchain";
import * as path from "node:path";
import { syncCellConfig, type CellInputs } from "./stack-config";
import { progressEvent, type ProgressEvent } from "./progress";
import { stepEvent, type StepEvent } from "./steps";
import { StepClock, stepMark, type KindDurations } from "./step-durations";
import { PendingOperationError, resolveStackPending } from "../state/pending";
import type { PlannedLibvirt } from "../state/strays";

export type Operation = "preview" | "up" | "refresh" | "destroy";

/** A program the worker can load: `require(module)[exportName](args, cell)` returns the cell's program. */
export interface ProgramRef {
  module: string;
  exportName: string;
  args: unknown;
}

export interface CellJob {
  cell: string;
  stackName: string;
  operation: Operation;
  program: ProgramRef;
  envConfig: ConfigMap;
  envVars: Record<string, string>;
  workDir: string;
  continueOnError: boolean;
  /** URNs `up` replaces: the installs of sites moved to another host of this cell. */
  replace?: string[];
  /** The cell's pool and VMs, of which a failed create may have left objects (stacks/state/strays.ts). */
  planned?: PlannedLibvirt;
}

export type WorkerMessage =
  | ({ type: "event" } & ProgressEvent)
  | { type: "step"; step: StepEvent }
  | { type: "note"; message: string }
  | { type: "durations"; durations: KindDurations[] }
  /** `rssBytes`: the worker's resident memory after the job, which decides whether it takes another. */
  | { type: "result"; changes: OpMap; rssBytes: number }
  | { type: "error"; message: string };

async function runJob(job: CellJob, send: (m: WorkerMessage) => void, clock?: StepClock): Promise<OpMap> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factory = require(job.program.module)[job.program.exportName] as (args: unknown, cell: string) => PulumiFn;
  const cli = await projectCli();
  const stack: Stack = await LocalWorkspace.createOrSelectStack(
    { stackName: job.stackName, projectName: "moodle-fleet", program: factory(job.program.args, job.cell) },
    { workDir: job.workDir, pulumiCommand: cli, envVars: job.envVars },
  );
  await syncCellConfig(stack, job.envConfig, job.cell, { path: cli.command, env: job.envVars, cwd: job.workDir }, cellInputs(job));
  if (job.operation !== "preview") {
    // What a killed run left behind is resolved before anything else
    // changes the stack (a preview only reads it).
    const planned = job.operation === "up" ? job.planned : undefined;
    const notes = await resolveStackPending(job.stackName, job.envVars, { planned });
    for (const message of notes) send({ type: "note", message });
  }
  let reported: OpMap | undefined;
  answerFromEngineEvents(stack, () => reported);
  const onEvent = (e: EngineEvent) => {
    if (e.summaryEvent) reported = e.summaryEvent.resourceChanges;
    const summary = progressEvent(e);
    if (summary) send({ type: "event", ...summary });
    const step = stepEvent(e);
    if (step) send({ type: "step", step });
    const mark = clock && stepMark(e, Date.now());
    if (mark) clock?.observe(mark);
  };
  const common = { onEvent, color: "never" as const, parallel: 16 };
  switch (job.operation) {
    case "preview":
      return (await stack.preview(common)).changeSummary;
    case "up": {
      // A site moved to another host of the cell: its install's `connection`
      // changed, which pulumi-command 1.2.1 takes as an in-place update (the
      // empty site would be installed on the new host and the old one left
      // running). Replacing the install instead runs, per
      // provider/pkg/provider/remote/commandController.go in pulumi-command
      // 1.2.1: Command.Create with the new inputs (`CommandOutputs{CommandInputs:
      // req.Inputs}`, so the new connection and the install script), then
      // Command.Delete with `req.State`, the old state's inputs: the old
      // connection and the old delete script, which archives the old site on
      // its old host before removing it (CommandOutputs.run dials
      // `c.Connection`, commandOutputs.go). Create runs first: the install has
      // no deleteBeforeReplace, so the old site is archived only once the new
      // one exists.
      const replace = job.replace && job.replace.length > 0 ? { replace: job.replace } : {};
      return (await stack.up({ ...common, ...replace, continueOnError: job.continueOnError })).summary.resourceChanges ?? {};
    }
    case "refresh":
      return (await stack.refresh(common)).summary.resourceChanges ?? {};
    case "destroy":
      return (await stack.destroy({ ...common, continueOnError: job.continueOnError })).summary.resourceChanges ?? {};
  }
}

/**
 * Stack.up, refresh and destroy (SDK 3.260) end with `pulumi stack output`
 * (twice, for up) and `pulumi stack history`, only to return the stack's
 * outputs and the update's summary: three more CLI runs, about 1 s a cell.
 * The driver reads outputs on its own and needs only the change counts,
 * which the engine's summary event carried already, so this stack answers
 * those two questions from what the run reported.
 */
function answerFromEngineEvents(stack: Stack, reported: () => OpMap | undefined): void {
  Object.assign(stack, {
    outputs: async () => ({}),
    info: async (): Promise<UpdateSummary | undefined> => ({ resourceChanges: reported() }) as UpdateSummary,
  });
}

/** The program's input files relative to the work dir, when the program takes them (the fleet's does). */
function cellInputs(job: CellJob): CellInputs | undefined {
  const args = job.program.args as { schoolsFile?: unknown; ledgerFile?: unknown } | undefined;
  if (typeof args?.schoolsFile !== "string" || typeof args.ledgerFile !== "string") return undefined;
  return { schools: path.relative(job.workDir, args.schoolsFile), ledger: path.relative(job.workDir, args.ledgerFile) };
}

/** The CLI's own "error: …" line of a failed command, else the message's first line. */
export function firstErrorLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n").find((l) => /^\s*error: /.test(l) && !/One or more errors occurred/.test(l));
  return (line ?? text.split("\n").find((l) => l.trim() !== "") ?? "failed").trim();
}

if (require.main === module) {
  // Nobody to tell once the driver is gone.
  const send = (m: WorkerMessage) => process.connected && process.send!(m);
  let busy = false;
  // Jobs come one at a time: the driver sends the next only after this
  // one's outcome, and disconnects when it has no more for this process.
  process.on("message", (job: CellJob) => {
    busy = true;
    // A preview runs no step: it has no durations to tell.
    const clock = job.operation === "preview" ? undefined : new StepClock();
    // Sent before the outcome, failed or not: a failed run's steps took time too.
    const durations = () => clock && send({ type: "durations", durations: clock.durations() });
    runJob(job, send, clock)
      .then(
        (changes) => (durations(), send({ type: "result", changes, rssBytes: process.memoryUsage.rss() })),
        // An interrupted run the driver cannot resolve is explained in full.
        (error: unknown) => (durations(), send({ type: "error", message: error instanceof PendingOperationError ? error.message : firstErrorLine(error) })),
      )
      .finally(() => {
        busy = false;
        if (!process.connected) process.exit(0);
      });
  });
  // A driver that goes away mid-job leaves the job to finish (a killed
  // engine would leave pending operations); an idle worker just ends.
  process.on("disconnect", () => {
    if (!busy) process.exit(0);
  });
}
