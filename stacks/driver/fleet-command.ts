import * as fs from "node:fs";
import * as path from "node:path";
import type { Command, CommandIO } from "../cli";
import { INPUT_FLAGS, parseFlags, positiveInteger, UsageError, type Flags } from "../cli";
import { selectHypervisors } from "../../infra/plan";
import { planForCommand } from "../plan-inputs";
import { expectedResourceCount } from "../../infra/components/fleet";
import { selectCells } from "./cells";
import { fleetCellProgramRef, formatSummary, runCells, type CellResult, type DriverOptions, type Operation } from "./run-cells";
import { ensurePassphraseFile, STATE_DIR } from "../toolchain";
import { writeFileAtomic } from "../../tools/common/files";
import { knownEnvs, listProjectStacks, sortEnvStacks, strayMessage, type StackInfo } from "./env-stacks";
import { checkDeletions, confirmDestroy, deletionRefusal, parseAllowDelete } from "./guards";
import { formatPreviewMarkdown, PREVIEW_EXIT, previewExitCode } from "./preview-summary";
import { readCellOutputs, readStackOutputs, readStackState, unconvergedCellsMessage, type StackStateFacts } from "./deployed";
import { checkMoves, deployedSites, detectMoves, isCrossCell, moveLine, moveRefusal, parseAllowMove, plannedSites, replaceTargets, type Move } from "./moves";
import { checkBackendUrl } from "../state/backend";
import { lockEnvCells } from "../state/run-lock";
import { nameSchoolAndHost } from "./failure-line";

export const DRIVER_FLAGS = { ...INPUT_FLAGS, env: "string", cells: "string", parallel: "string", "secrets-dir": "string" } as const;

/** Flags only one operation takes. */
const OPERATION_FLAGS = {
  preview: { "summary-md": "string" },
  up: { "allow-delete": "string", "allow-move": "strings" },
  refresh: {},
  destroy: { "yes-destroy": "string" },
} as const satisfies Record<Operation, Record<string, "string" | "strings" | "boolean">>;

const COMMON_USAGE = "--env NAME [--cells hv01,hv02] [--parallel N] [--schools FILE] [--ledger FILE] [--secrets-dir DIR]";

const OPERATION_USAGE: Record<Operation, string> = {
  preview: [
    `${COMMON_USAGE} [--summary-md FILE]`,
    "  --summary-md  also write a Markdown summary for a merge request: counts per cell, every",
    "                resource deleted or replaced by school, data-holding ones marked DATA LOSS,",
    "                and every site moved to another host (counted as data loss)",
    `  exit: ${PREVIEW_EXIT.noChanges} no changes, ${PREVIEW_EXIT.changes} changes without data loss, ${PREVIEW_EXIT.dataLoss} changes that lose data,`,
    `        ${PREVIEW_EXIT.failed} a cell failed or the inputs are invalid, ${PREVIEW_EXIT.usage} bad usage`,
  ].join("\n"),
  up: [
    `${COMMON_USAGE} [--allow-delete N] [--allow-move SCHOOL_ID]...`,
    "  Previews every cell first and refuses a plan that deletes or replaces sites (or data",
    "  volumes, pools) unless --allow-delete N covers their number, and a plan that moves a",
    "  site to another host (ledger edited) unless each moved school is named with",
    "  --allow-move (repeatable). A moved site starts empty on its new host; the old site is",
    "  archived on its old host and removed there. Moves do not count toward --allow-delete.",
  ].join("\n"),
  refresh: COMMON_USAGE,
  destroy: [
    `${COMMON_USAGE} [--yes-destroy NAME]`,
    "  Asks for the environment's name on stdin; scripts pass --yes-destroy with the same name as --env.",
  ].join("\n"),
};

/** What the driver commands reach outside the process; replaced in tests. */
export interface DriverDeps {
  runCells(opts: DriverOptions): Promise<CellResult[]>;
  /** Every stack of the project on the backend (for the stray-stack check). */
  listStacks(envVars: Record<string, string>): Promise<StackInfo[]>;
  backendEnv(env: string): Record<string, string>;
  /** Environments with a Pulumi.<env>.yaml. */
  knownEnvs(): string[];
  /** Where the progress view draws. */
  progress: DriverOptions["out"];
  /** Takes the fleet lock of the cells' stacks for a run (stacks/state/locks.ts); default lockEnvCells. */
  lockCells?: typeof lockEnvCells;
  /** The outputs of one cell stack, where the deployed sites and their hosts are read (for moves). */
  readOutputs?: (stackName: string, envVars: Record<string, string>) => Promise<Record<string, unknown>>;
  /** What a cell stack's state says: where each install last ran (for moves), and what this version cannot take over. */
  readState?: (stackName: string, envVars: Record<string, string>) => Promise<StackStateFacts>;
}

const DEFAULT_DEPS: DriverDeps = {
  runCells,
  listStacks: listProjectStacks,
  backendEnv,
  knownEnvs: () => knownEnvs(),
  progress: process.stderr,
  lockCells: lockEnvCells,
  readOutputs: readStackOutputs,
  readState: readStackState,
};

/**
 * `--env` is never implied: a command that changes stacks must name them,
 * so that a forgotten flag cannot mean production.
 */
export function requireEnv(env: string | undefined): string {
  if (env === undefined) throw new UsageError("--env is required: name the environment (e.g. --env lab or --env prod)");
  if (!/^[A-Za-z0-9_.-]+$/.test(env)) throw new UsageError(`not an environment name: ${JSON.stringify(env)}`);
  return env;
}

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
  const problems = process.env.PULUMI_BACKEND_URL ? checkBackendUrl(process.env.PULUMI_BACKEND_URL) : [];
  if (problems.length > 0) throw new UsageError(problems.join("; "));
  if (!process.env.PULUMI_CONFIG_PASSPHRASE && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    if (env !== "lab") throw new UsageError(`set PULUMI_CONFIG_PASSPHRASE_FILE for the secrets of "${env}"`);
    out.PULUMI_CONFIG_PASSPHRASE_FILE = ensurePassphraseFile(path.join(STATE_DIR, "lab.passphrase"));
  }
  return out;
}

/** `fleet preview|up|refresh|destroy`: one operation over the cell stacks of an environment. */
export function driverCommand(operation: Operation, summary: string, deps: Partial<DriverDeps> = {}): Command {
  const d: DriverDeps = { ...DEFAULT_DEPS, ...deps };
  const spec = { ...DRIVER_FLAGS, ...OPERATION_FLAGS[operation] };
  return {
    name: operation,
    summary,
    usage: OPERATION_USAGE[operation],
    async run(args: string[], io: CommandIO): Promise<number> {
      const flags = parseFlags(args, spec) as Flags<typeof DRIVER_FLAGS> & {
        "summary-md"?: string;
        "allow-delete"?: string;
        "allow-move"?: string[];
        "yes-destroy"?: string;
      };
      const env = requireEnv(flags.env);
      const parallel = positiveInteger("parallel", flags.parallel, 2);
      const allowDelete = parseAllowDelete(flags["allow-delete"]);
      const allowMove = parseAllowMove(flags["allow-move"]);
      const summaryMd = flags["summary-md"] === undefined ? undefined : path.resolve(io.cwd, flags["summary-md"]);
      const planned = planForCommand(flags, env, io);
      if (!planned) return 1;
      const { plan, files } = planned;
      const configured = plan.hypervisors.map((h) => h.name);
      const cells = selectCells(
        configured,
        flags.cells?.split(",").map((c) => c.trim()),
      );
      const envVars = d.backendEnv(env);

      const sorted = sortEnvStacks(env, configured, await d.listStacks(envVars), d.knownEnvs());
      for (const s of sorted.emptyStrays) io.stderr(`fleet ${operation}: note: stack ${s.name} belongs to no configured hypervisor and is empty\n`);
      if (sorted.strays.length > 0) {
        // Destroy still runs: it is how the configured cells go, and it cannot make strays worse.
        io.stderr(`fleet ${operation}: ${operation === "destroy" ? "warning" : "error"}: ${strayMessage(env, sorted.strays, configured)}\n`);
        if (operation !== "destroy") return 1;
      }

      if (operation === "destroy" && !(await confirmDestroy(env, cells, flags["yes-destroy"], io))) return 1;

      // One run per cell stack at a time, held from an up's first preview to its last step:
      // a second run stops here, before it plans anything. Previews change no state and take none.
      const lock = operation === "preview" ? undefined : await (d.lockCells ?? lockEnvCells)(env, cells, `fleet ${operation} --env ${env}`, envVars);
      if (lock && !lock.ok) {
        io.stderr(`fleet ${operation}: ${lock.message}\n`);
        return 1;
      }
      for (const note of lock?.ok ? lock.notes : []) io.stderr(`fleet ${operation}: note: ${note}\n`);
      const release = lock?.ok ? lock.held.release : async () => undefined;

      // Moves are found from what the stacks deployed, before anything runs:
      // the engine itself sees a move only as an update of the install's connection.
      // A cell of the run that an older version left unconverged stops it here too.
      let moves: Move[] = [];
      if (operation === "preview" || operation === "up") {
        try {
          const read = { outputs: d.readOutputs ?? readStackOutputs, state: d.readState ?? readStackState };
          const outputs = await readCellOutputs(sorted.cells, read, envVars, parallel);
          const unconverged = unconvergedCellsMessage(outputs, cells);
          if (unconverged) throw new Error(unconverged);
          // Every cell's outputs are read (a move across cells shows only in the cell it leaves),
          // but only moves touching the cells of this run matter to it.
          moves = detectMoves(plannedSites(plan), deployedSites(outputs)).filter((m) => cells.includes(m.from.cell) || cells.includes(m.to.cell));
        } catch (error) {
          io.stderr(`fleet ${operation}: ${error instanceof Error ? error.message : String(error)}; nothing was changed\n`);
          await release();
          return 1;
        }
      }

      const run = (op: Operation, replace?: Record<string, string[]>) =>
        d.runCells({
          env,
          cells,
          operation: op,
          parallel,
          program: fleetCellProgramRef({ schoolsFile: files.schools.path, ledgerFile: files.ledger.path }),
          expectedResources: (cell) => expectedResourceCount(selectHypervisors(plan, [cell])),
          envVars,
          secretsDir: flags["secrets-dir"] && path.resolve(io.cwd, flags["secrets-dir"]),
          out: d.progress,
          replace,
          planned: Object.fromEntries(plan.hypervisors.map((h) => [h.name, { uri: h.uri, pool: h.pool.name, hosts: h.hosts }])),
        });

      let replace: Record<string, string[]> = {};
      if (operation === "up") {
        // The engine can change its mind between this preview and the update
        // only if the stacks change in between; the driver is their one writer.
        const preview = await run("preview");
        if (!preview.every((r) => r.ok)) {
          io.stdout(`${formatSummary(preview)}\n`);
          io.stderr("fleet up: the preview failed; nothing was changed\n");
          await release();
          return 1;
        }
        const previews = preview.map(cellPreview);
        const moveCheck = checkMoves(moves, allowMove, cells);
        // A move across cells shows as the old cell deleting the site: consented by
        // --allow-move, it is not counted again against --allow-delete.
        const check = checkDeletions(previews, allowDelete, new Set(moves.map((m) => m.school)));
        if (!moveCheck.allowed) io.stderr(moveRefusal(env, moveCheck));
        if (!check.allowed) io.stderr(deletionRefusal(env, check, allowDelete));
        if (!moveCheck.allowed || !check.allowed) {
          await release();
          return 1;
        }
        try {
          replace = replaceTargets(moves, previews);
        } catch (error) {
          io.stderr(`fleet up: ${error instanceof Error ? error.message : String(error)}. Nothing was changed.\n`);
          await release();
          return 1;
        }
        if (check.count > 0) io.stderr(`fleet up: ${check.count} deletion(s) allowed by --allow-delete ${allowDelete}\n`);
        for (const m of moves) io.stderr(`fleet up: allowed by --allow-move ${m.school}: ${moveLine(m)}\n`);
      }

      // A lock left by a crash is taken over by the next run on this host (its pid is gone).
      const results = (await run(operation, replace).finally(release)).map((r) => (r.error ? { ...r, error: nameSchoolAndHost(r.error, plan) } : r));
      for (const note of results.flatMap((r) => r.notes ?? [])) io.stderr(`fleet ${operation}: note: ${note}\n`);
      io.stdout(`${formatSummary(results)}\n`);
      if (operation === "up") for (const warning of unfinishedMoves(env, moves, replace, results)) io.stderr(`fleet up: warning: ${warning}\n`);
      if (operation !== "preview") return results.every((r) => r.ok) ? 0 : 1;
      for (const m of moves) io.stdout(`${moveLine(m)}\n`);

      const previews = results.map(cellPreview);
      if (summaryMd) {
        writeFileAtomic(summaryMd, formatPreviewMarkdown(env, previews, moves), 0o644);
        io.stderr(`wrote ${path.relative(io.cwd, summaryMd) || summaryMd}\n`);
      }
      return previewExitCode(previews, moves);
    },
  };
}

function cellPreview(r: CellResult) {
  return { cell: r.cell, ok: r.ok, error: r.error, steps: r.steps ?? [] };
}

/**
 * Moves whose replace the engine did not report done: their cell failed or
 * showed no replace of the install. The next preview still sees such a move
 * (the state's install keeps its old host until its create succeeds), but the
 * operator should hear of it now, not at the next review.
 */
export function unfinishedMoves(env: string, moves: readonly Move[], replace: Record<string, string[]>, results: readonly CellResult[]): string[] {
  const out: string[] = [];
  for (const m of moves) {
    const cells = isCrossCell(m) ? [m.from.cell, m.to.cell] : [m.to.cell];
    const failed = results.filter((r) => cells.includes(r.cell) && !r.ok).map((r) => r.cell);
    const replaced =
      isCrossCell(m) ||
      (replace[m.to.cell] ?? []).every((urn) => !urn.endsWith(`::${m.school}-install`) || results.some((r) => r.cell === m.to.cell && r.steps?.some((s) => s.urn === urn && s.kind === "replace")));
    if (failed.length === 0 && replaced) continue;
    out.push(
      `the move of ${m.school} from ${m.from.host} to ${m.to.host} may not have completed` +
        `${failed.length > 0 ? ` (cell ${failed.join(", ")} failed)` : ""}. ` +
        `The old site on ${m.from.host} is archived only once the new one is installed: fix the cause and rerun ` +
        `\`fleet up --env ${env} --allow-move ${m.school}\` (\`fleet preview\` lists the move until it is done).`,
    );
  }
  return out;
}
