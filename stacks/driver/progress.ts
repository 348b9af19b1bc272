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

export function formatProgress(all: readonly CellProgress[]): string {
  const width = Math.max(...all.map((p) => p.cell.length));
  return all
    .map((p) => {
      const pct = p.total > 0 ? Math.min(100, Math.round((100 * p.done) / p.total)) : 0;
      const fail = p.failures > 0 ? `  ${p.failures} failed` : "";
      return `${p.cell.padEnd(width)}  ${p.state.padEnd(7)}  ${String(p.done).padStart(6)}/${p.total} (${String(pct).padStart(3)}%)${fail}`;
    })
    .join("\n");
}

/**
 * Shows progress while cells run: redrawn in place on a terminal, a line
 * block every few seconds (only when something changed) otherwise.
 */
export class ProgressView {
  private timer?: NodeJS.Timeout;
  private lastShown = "";
  private drawnLines = 0;

  constructor(
    private readonly cells: readonly CellProgress[],
    private readonly out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean },
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
    const text = formatProgress(this.cells);
    if (text === this.lastShown) return;
    if (this.out.isTTY && this.drawnLines > 0) this.out.write(`\x1b[${this.drawnLines}F\x1b[J`);
    this.out.write(`${text}\n`);
    this.drawnLines = text.split("\n").length;
    this.lastShown = text;
  }
}
