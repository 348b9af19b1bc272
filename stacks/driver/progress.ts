import type { EngineEvent } from "@pulumi/pulumi/automation";

export interface CellProgress {
  cell: string;
  state: "waiting" | "running" | "done" | "failed";
  /** Resources whose step finished. */
  done: number;
  /** Expected resources of the cell, from its plan. */
  total: number;
  failures: number;
  lastError?: string;
  /** `<resource>: <reason>` of the first resource that failed. */
  firstResourceError?: string;
  /** When the cell started and ended running (ms since the epoch). */
  startedAt?: number;
  endedAt?: number;
}

/** A pace measured on fewer resources says nothing yet (the first are the slowest: providers, plugins). */
const MIN_DONE_FOR_PACE = 3;

/** Seconds a running cell still needs at its own pace so far; undefined until it has one. */
export function cellSecondsLeft(p: CellProgress, now: number): number | undefined {
  if (p.state !== "running" || p.startedAt === undefined || p.done < MIN_DONE_FOR_PACE) return undefined;
  const perResource = (now - p.startedAt) / 1000 / p.done;
  return perResource * Math.max(0, p.total - p.done);
}

/**
 * Seconds the whole run still needs: every unfinished cell's remaining
 * resources at the pace the running and finished cells have shown, shared
 * among the cells that run at once. Undefined until a pace is known.
 */
export function runSecondsLeft(all: readonly CellProgress[], now: number, parallel: number): number | undefined {
  let seconds = 0;
  let done = 0;
  for (const p of all) {
    if (p.startedAt === undefined || p.state === "waiting") continue;
    seconds += ((p.endedAt ?? now) - p.startedAt) / 1000;
    done += p.done;
  }
  if (done < MIN_DONE_FOR_PACE) return undefined;
  const unfinished = all.filter((p) => p.state === "waiting" || p.state === "running");
  if (unfinished.length === 0) return 0;
  const remaining = unfinished.reduce((n, p) => n + Math.max(0, p.total - p.done), 0);
  return ((seconds / done) * remaining) / Math.min(Math.max(1, parallel), unfinished.length);
}

/** 42s, 3m05s, 1h02m. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** What of an engine event matters to progress; small enough to pass between processes. */
export interface ProgressEvent {
  resourceDone?: boolean;
  failed?: boolean;
  error?: string;
  /** Name of the resource the error is about, when it is one. */
  resource?: string;
}

export function progressEvent(event: EngineEvent): ProgressEvent | undefined {
  const resourceDone = !!event.resOutputsEvent && event.resOutputsEvent.metadata.type !== "pulumi:pulumi:Stack";
  const failed = !!event.resOpFailedEvent;
  const diagnostic = event.diagnosticEvent?.severity === "error" ? event.diagnosticEvent : undefined;
  const error = diagnostic && lastLineOf(diagnostic.message);
  const urn = diagnostic?.urn;
  const resource = error && urn && !urn.includes("::pulumi:pulumi:Stack::") ? urn.split("::").pop() : undefined;
  return resourceDone || failed || error ? { resourceDone, failed, error, resource } : undefined;
}

/**
 * The line of an error message an operator can act on: its last. A
 * command's failure message starts with the whole script it ran and ends
 * with what the script said last (its `die` line); a provider's ends with
 * its own reason.
 */
export function lastLineOf(message: string): string | undefined {
  const lines = message.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length === 0 || /^One or more errors occurred/.test(lines[0])) return undefined;
  const last = lines[lines.length - 1].replace(/^\*\s*/, "");
  return last.length > 300 ? `${last.slice(0, 300)}…` : last;
}

/** Folds one cell's events into its progress. */
export function applyEvent(p: CellProgress, e: ProgressEvent): void {
  if (e.resourceDone) p.done += 1;
  if (e.failed) p.failures += 1;
  if (e.error) p.lastError = e.error;
  if (e.error && e.resource && p.firstResourceError === undefined) p.firstResourceError = `${e.resource}: ${e.error}`;
}

/** What a failed cell reports: the first resource that failed, else the last error seen. */
export function cellError(p: CellProgress): string | undefined {
  return p.firstResourceError ?? p.lastError;
}

/**
 * One line per cell (resources done of expected, an ETA once the cell has a
 * pace) and, for more than one cell, the run's ETA. `now` and `parallel`
 * are parameters so the text is a pure function of the progress.
 */
export function formatProgress(all: readonly CellProgress[], now = Date.now(), parallel = 1): string {
  const width = Math.max(3, ...all.map((p) => p.cell.length));
  const eta = (seconds: number | undefined) => (seconds === undefined ? "" : `  ETA ${formatDuration(seconds)}`);
  const lines = all.map((p) => {
    const pct = p.total > 0 ? Math.min(100, Math.round((100 * p.done) / p.total)) : 0;
    const fail = p.failures > 0 ? `  ${p.failures} failed` : "";
    return `${p.cell.padEnd(width)}  ${p.state.padEnd(7)}  ${String(p.done).padStart(6)}/${p.total} (${String(pct).padStart(3)}%)${fail}${eta(cellSecondsLeft(p, now))}`;
  });
  if (all.length > 1) {
    const done = all.reduce((n, p) => n + p.done, 0);
    const total = all.reduce((n, p) => n + p.total, 0);
    const finished = all.filter((p) => p.state === "done" || p.state === "failed").length;
    const left = finished === all.length ? undefined : runSecondsLeft(all, now, parallel);
    lines.push(`${"all".padEnd(width)}  ${`${finished}/${all.length}`.padEnd(7)}  ${String(done).padStart(6)}/${total}${eta(left)}`);
  }
  return lines.join("\n");
}

/**
 * Shows progress while cells run: redrawn in place on a terminal, a line
 * block every few seconds (only when something changed) otherwise.
 */
export class ProgressView {
  private timer?: NodeJS.Timeout;
  private lastShown = "";
  private lastNews = "";
  private drawnLines = 0;

  constructor(
    private readonly cells: readonly CellProgress[],
    private readonly out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean },
    /** Cells run at once, for the run's ETA. */
    private readonly parallel = 1,
    private readonly intervalMs = out.isTTY ? 500 : 5000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.draw(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.draw();
  }

  private draw(): void {
    const text = formatProgress(this.cells, Date.now(), this.parallel);
    // An ETA alone changes every second: in a log, only progress is news.
    const news = text.replace(/ {2}ETA \S+/g, "");
    if (text === this.lastShown || (!this.out.isTTY && news === this.lastNews)) return;
    if (this.out.isTTY && this.drawnLines > 0) this.out.write(`\x1b[${this.drawnLines}F\x1b[J`);
    this.out.write(`${text}\n`);
    this.drawnLines = text.split("\n").length;
    this.lastShown = text;
    this.lastNews = news;
  }
}
