import type { EngineEvent } from "@pulumi/pulumi/automation";
import { schoolOfResource } from "./steps";

/**
 * One end of an engine step, as the cell process reduces an engine event:
 * the step starts at the resource's pre-event and ends at its outputs event
 * (ok) or its failed event. `at` is when the cell process read the event
 * (ms): the engine's own timestamps are whole seconds, and the Automation
 * API reads its event log every 200 ms, so a duration is good to about that.
 */
export interface StepMark {
  at: number;
  urn: string;
  op: string;
  phase: "start" | "ok" | "failed";
  /** On a start: what the step is for the summary (stepKind). */
  kind?: string;
}

/** The seconds of every finished step of one kind, op and outcome: small enough to pass between processes. */
export interface KindDurations {
  kind: string;
  op: string;
  failed: boolean;
  seconds: number[];
}

/** What one line of the summary says. */
export interface KindFigures {
  kind: string;
  op: string;
  failed: boolean;
  count: number;
  median: number;
  /** The 90th percentile (nearest rank); the maximum below P90_MIN_COUNT steps, where a p90 says nothing. */
  p90: number;
  max: number;
  total: number;
}

export const P90_MIN_COUNT = 10;

const STACK_TYPE = "pulumi:pulumi:Stack";
// The program's components: each finishes when its children do, so its time is theirs.
const COMPONENT_PREFIX = "moodle-fleet:";

// A replacement's work is its create-replacement and delete-replaced steps;
// the `replace` step between them only records the swap and takes no time.
const MARKER_OP = "replace";

/**
 * The step an engine event starts or ends, or undefined. `same` steps do
 * nothing; the stack and the components only wait for their children.
 * Preview events (`planning`) run nothing.
 */
export function stepMark(event: EngineEvent, at: number): StepMark | undefined {
  const pre = event.resourcePreEvent;
  if (pre) {
    const m = pre.metadata;
    if (pre.planning || m.op === "same" || m.op === MARKER_OP || !timed(m)) return undefined;
    const owner = m.new?.parent || m.old?.parent;
    return { at, urn: m.urn, op: m.op, phase: "start", kind: stepKind(m.type, nameOf(m.urn), owner ? nameOf(owner) : undefined) };
  }
  const end = event.resOutputsEvent ?? event.resOpFailedEvent;
  // An end's op may be `same`: a refresh ends with what it found.
  if (!end || event.resOutputsEvent?.planning || end.metadata.op === MARKER_OP || !timed(end.metadata)) return undefined;
  return { at, urn: end.metadata.urn, op: end.metadata.op, phase: event.resOutputsEvent ? "ok" : "failed" };
}

function timed(m: { type: string; new?: { custom?: boolean }; old?: { custom?: boolean } }): boolean {
  if (m.type === STACK_TYPE || m.type.startsWith(COMPONENT_PREFIX)) return false;
  // The engine leaves `custom` out when false: a component of another package.
  const state = m.new ?? m.old;
  return state === undefined || state.custom === true;
}

/** A resource's own name: the last part of its URN (`urn:pulumi:STACK::PROJECT::Types::name`). */
export function nameOf(urn: string): string {
  const parts = urn.split("::");
  return parts.length >= 4 ? parts.slice(3).join("::") : urn;
}

/**
 * What a step is, across sites, hosts and hypervisors: the resource's type
 * and its role, which is its name without its owner's. Every resource of
 * the fleet is named after what it belongs to, `<owner>` or `<owner>-<role>`:
 * a host VM's or a hypervisor's name (its component, the parent), or a
 * site's school id (a site's install is a child of its host), so taking the
 * owner's name away works for any names the config allows (a hypervisor may
 * be called `east-2`). A provider's name is its hypervisor's or, for a
 * default provider, its version: the type alone says what it is.
 */
export function stepKind(type: string, name: string, owner: string | undefined): string {
  const token = shortType(type);
  if (type.startsWith("pulumi:providers:")) return token;
  const school = schoolOfResource(name);
  let role = name;
  if (owner !== undefined && name === owner) role = "";
  else if (owner !== undefined && name.startsWith(`${owner}-`)) role = name.slice(owner.length + 1);
  else if (school !== undefined && name.startsWith(`${school}-`)) role = name.slice(school.length + 1);
  return role === "" ? token : `${token} ${role}`;
}

/** `libvirt:index/domain:Domain` -> `libvirt:index:Domain`: the module's last part repeats the type's name. */
export function shortType(type: string): string {
  const m = /^([^:]+):([^:/]+)\/([^:/]+):([^:]+)$/.exec(type);
  if (!m || m[3].toLowerCase() !== m[4].toLowerCase()) return type;
  return `${m[1]}:${m[2]}:${m[4]}`;
}

/**
 * Folds step marks into durations as they come, keeping only the steps
 * still running: a cell of thousands of resources holds a number per step,
 * not its events. Steps of different resources interleave freely; one
 * resource's steps (a replacement's create, replace and delete) follow each
 * other.
 */
export class StepClock {
  private readonly running = new Map<string, { op: string; kind: string; at: number }[]>();
  private readonly byKey = new Map<string, KindDurations>();

  observe(mark: StepMark): void {
    const open = this.running.get(mark.urn) ?? [];
    if (mark.phase === "start") {
      open.push({ op: mark.op, kind: mark.kind ?? mark.urn, at: mark.at });
      this.running.set(mark.urn, open);
      return;
    }
    // A refresh ends with the change it found (same, update, delete), not
    // `refresh`: what ends is the resource's oldest open step.
    const i = Math.max(0, open.findIndex((s) => s.op === mark.op));
    const step = open[i];
    if (step === undefined) return; // the end of a step that was not timed (a same step's outputs)
    open.splice(i, 1);
    if (open.length === 0) this.running.delete(mark.urn);
    const failed = mark.phase === "failed";
    const key = JSON.stringify([step.kind, step.op, failed]);
    const entry = this.byKey.get(key) ?? { kind: step.kind, op: step.op, failed, seconds: [] };
    entry.seconds.push(Math.max(0, Math.round(mark.at - step.at)) / 1000);
    this.byKey.set(key, entry);
  }

  /** Finished steps; one still running when the operation ended has no duration and is left out. */
  durations(): KindDurations[] {
    return [...this.byKey.values()].map((d) => ({ ...d, seconds: [...d.seconds] }));
  }
}

export function foldStepMarks(marks: Iterable<StepMark>): KindDurations[] {
  const clock = new StepClock();
  for (const m of marks) clock.observe(m);
  return clock.durations();
}

/** Every cell's durations as one list: the same kind, op and outcome from several cells pooled. */
export function mergeDurations(lists: readonly (readonly KindDurations[] | undefined)[]): KindDurations[] {
  const byKey = new Map<string, KindDurations>();
  for (const d of lists.flatMap((l) => l ?? [])) {
    const key = JSON.stringify([d.kind, d.op, d.failed]);
    const entry = byKey.get(key) ?? { kind: d.kind, op: d.op, failed: d.failed, seconds: [] };
    entry.seconds.push(...d.seconds);
    byKey.set(key, entry);
  }
  return [...byKey.values()];
}

/** One line per kind, op and outcome, the most time first. */
export function kindFigures(durations: readonly KindDurations[]): KindFigures[] {
  return durations
    .filter((d) => d.seconds.length > 0)
    .map((d) => {
      const s = [...d.seconds].sort((a, b) => a - b);
      const n = s.length;
      const median = n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
      const max = s[n - 1];
      const p90 = n < P90_MIN_COUNT ? max : s[Math.ceil(0.9 * n) - 1];
      const total = s.reduce((a, b) => a + b, 0);
      return { kind: d.kind, op: d.op, failed: d.failed, count: n, median, p90, max, total };
    })
    .sort((a, b) => b.total - a.total || a.kind.localeCompare(b.kind) || a.op.localeCompare(b.op) || Number(a.failed) - Number(b.failed));
}

/** The "step durations" block of a run's summary. */
export function formatStepDurations(durations: readonly KindDurations[]): string {
  const rows = kindFigures(durations);
  if (rows.length === 0) return "step durations: none (no resource changed)";
  const ops = rows.map((r) => (r.failed ? `${r.op} FAILED` : r.op));
  const kindWidth = Math.max("step durations".length, ...rows.map((r) => r.kind.length));
  const opWidth = Math.max(2, ...ops.map((o) => o.length));
  const num = (x: number) => x.toFixed(1).padStart(8);
  const header = [
    "step durations".padEnd(kindWidth),
    "op".padEnd(opWidth),
    "count".padStart(6),
    ...["median", "p90", "max", "total"].map((h) => h.padStart(8)),
  ].join("  ");
  const lines = rows.map((r, i) =>
    [r.kind.padEnd(kindWidth), ops[i].padEnd(opWidth), String(r.count).padStart(6), num(r.median), num(r.p90), num(r.max), num(r.total)].join("  "),
  );
  const note = rows.some((r) => r.count < P90_MIN_COUNT) ? `; p90 is the max below ${P90_MIN_COUNT} steps` : "";
  return [header, ...lines, `(seconds${note})`].join("\n");
}
