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
}

/** What of an engine event matters to progress; small enough to pass between processes. */
export interface ProgressEvent {
  resourceDone?: boolean;
  failed?: boolean;
  error?: string;
}

export function progressEvent(event: EngineEvent): ProgressEvent | undefined {
  const resourceDone = !!event.resOutputsEvent && event.resOutputsEvent.metadata.type !== "pulumi:pulumi:Stack";
  const failed = !!event.resOpFailedEvent;
  const message = event.diagnosticEvent?.severity === "error" ? event.diagnosticEvent.message.trim() : "";
  const error = message && !message.startsWith("One or more errors") ? message.split("\n")[0] : undefined;
  return resourceDone || failed || error ? { resourceDone, failed, error } : undefined;
}

/** Folds one cell's events into its progress. */
export function applyEvent(p: CellProgress, e: ProgressEvent): void {
  if (e.resourceDone) p.done += 1;
  if (e.failed) p.failures += 1;
  if (e.error) p.lastError = e.error;
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
