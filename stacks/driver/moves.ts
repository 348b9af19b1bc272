import { UsageError } from "../../tools/common/cli";
import { siteOutputSchema } from "../../infra/outputs/schema";
import type { FleetPlan } from "../../infra/plan";
import type { CellPreview } from "./preview-summary";

/** Where a school's site is: its host VM and the cell (hypervisor) whose stack holds it. */
export interface SitePlace {
  school: string;
  host: string;
  cell: string;
}

/** A school whose site the plan puts on another host than the one it is deployed on. */
export interface Move {
  school: string;
  from: { host: string; cell: string };
  to: { host: string; cell: string };
}

/** Where the plan puts every school: its host, and the host's hypervisor as the cell. */
export function plannedSites(plan: Pick<FleetPlan, "sites">): SitePlace[] {
  return plan.sites.map((s) => ({ school: s.schoolId, host: s.host, cell: s.hypervisor }));
}

/** What the driver reads of one deployed cell stack. */
export interface CellDeployment {
  cell: string;
  /** The cell's stack, where it was read from one. */
  stack?: string;
  outputs: Record<string, unknown>;
  /** School id -> host whose bootstrap its install depends on, from the stack's state (installHostsFromState). */
  installHosts?: Readonly<Record<string, string>>;
  /** Schools of the stack this version cannot take over yet (migration.ts). */
  sitesBeforeHostPasswords?: readonly string[];
}

/**
 * The sites each deployed cell stack holds, from its outputs (`sites`, keyed
 * by school id, each with its host: infra/outputs/schema.ts). A cell not
 * deployed yet has no outputs and holds nothing.
 *
 * Where the state knows the host an install last ran on, that host wins: the
 * outputs are registered early in an update, so after an `up` whose moved
 * install failed on its new host they already name the new host while the
 * install (and the old site) is still on the old one. Trusting them, the next
 * preview would see no move and the install would be updated in place.
 */
export function deployedSites(cells: readonly CellDeployment[]): SitePlace[] {
  const out: SitePlace[] = [];
  for (const { cell, outputs, installHosts = {} } of cells) {
    const seen = new Set<string>();
    if (Object.keys(outputs).length > 0) {
      const sites = outputs.sites;
      if (typeof sites !== "object" || sites === null || Array.isArray(sites)) throw new Error(`outputs of cell ${cell}: sites: not an object of sites by school id`);
      for (const [school, value] of Object.entries(sites)) {
        const parsed = siteOutputSchema.safeParse(value);
        if (!parsed.success) {
          throw new Error(`outputs of cell ${cell}: sites.${school}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
        }
        out.push({ school, host: installHosts[school] ?? parsed.data.host, cell });
        seen.add(school);
      }
    }
    for (const [school, host] of Object.entries(installHosts)) if (!seen.has(school)) out.push({ school, host, cell });
  }
  return out;
}

const BOOTSTRAP = /::([A-Za-z0-9][A-Za-z0-9-]*)-bootstrap$/;

/**
 * School id -> host of every site install in a stack's state (`pulumi stack
 * export`, secrets left encrypted), read from the install's dependencies: it
 * waits for its host's bootstrap (`<host>-bootstrap`, infra/components/moodle-host.ts).
 * The install's `connection` would say the same but is a secret as a whole
 * (pulumi-command marks it so); the dependencies are plain and, like the rest
 * of the install's state, change only when its create or update succeeds.
 * An install pending deletion (the old half of a replace) is skipped: the next
 * update deletes, and so archives, it.
 */
export function installHostsFromState(state: unknown): Record<string, string> {
  const resources = (state as { deployment?: { resources?: unknown } } | undefined)?.deployment?.resources;
  if (!Array.isArray(resources)) return {};
  const out: Record<string, string> = {};
  for (const r of resources as { urn?: unknown; type?: unknown; delete?: unknown; dependencies?: unknown }[]) {
    if (r.type !== "command:remote:Command" || r.delete === true || typeof r.urn !== "string") continue;
    const school = /::(\d{8})-install$/.exec(r.urn)?.[1];
    if (!school || !Array.isArray(r.dependencies)) continue;
    const host = r.dependencies.map((d) => (typeof d === "string" ? BOOTSTRAP.exec(d)?.[1] : undefined)).find((h) => h !== undefined);
    if (host) out[school] = host;
  }
  return out;
}

/**
 * Schools the plan places on another host than their deployed site's,
 * within one cell or across cells. The install's identity (its URN) does not
 * change with its host, and pulumi-command takes a new `connection` as an
 * in-place update: left to the engine, a move installs an empty site on the
 * new host and leaves the old one running, never archived. So moves are
 * found here, from what the stacks say they deployed, before anything runs.
 *
 * A school deployed in two cells (a move across cells whose old cell has not
 * run yet) is no move when one of them is already its planned host: the
 * other cell's plan deletes, and archives, the old site.
 */
export function detectMoves(planned: readonly SitePlace[], deployed: readonly SitePlace[]): Move[] {
  const where = new Map<string, SitePlace[]>();
  for (const d of deployed) where.set(d.school, [...(where.get(d.school) ?? []), d]);
  const moves: Move[] = [];
  for (const p of planned) {
    const places = where.get(p.school) ?? [];
    if (places.length === 0 || places.some((d) => d.host === p.host && d.cell === p.cell)) continue;
    for (const d of places) moves.push({ school: p.school, from: { host: d.host, cell: d.cell }, to: { host: p.host, cell: p.cell } });
  }
  return moves.sort((a, b) => compare(a.school, b.school) || compare(a.from.host, b.from.host));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isCrossCell(move: Move): boolean {
  return move.from.cell !== move.to.cell;
}

/** One line per move, the same in the console, the Markdown summary and the refusal. */
export function moveLine(move: Move): string {
  return (
    `MOVE ${move.school} ${move.from.host} -> ${move.to.host}: the site on the new host starts empty; the old site is archived on the old host` +
    (isCrossCell(move) ? ` (the old cell ${move.from.cell} deletes it, the new cell ${move.to.cell} creates it)` : "")
  );
}

/** `--allow-move <schoolId>`, repeatable: the schools whose move is consented to. */
export function parseAllowMove(values: readonly string[] | undefined): string[] {
  const ids = values ?? [];
  for (const id of ids) {
    if (!/^\d{8}$/.test(id)) throw new UsageError(`--allow-move takes the 8-digit id of a school whose site moves (got ${JSON.stringify(id)})`);
  }
  return [...new Set(ids)];
}

export interface MoveCheck {
  moves: Move[];
  /** Moves whose school no --allow-move names. */
  missing: Move[];
  /** --allow-move ids of schools that do not move in this plan (a typo must not pass as consent). */
  unknown: string[];
  /** Moves across cells of which this run leaves one cell out (--cells). */
  partial: Move[];
  allowed: boolean;
}

/**
 * Whether `up` may apply the moves: each moved school named with
 * `--allow-move`, every consent naming a school that moves, and both cells
 * of a move across hypervisors in the run (without the old cell, the new
 * site would start while the old one keeps running, unarchived).
 */
export function checkMoves(moves: readonly Move[], allowMove: readonly string[], cellsRun: readonly string[]): MoveCheck {
  const allowed = new Set(allowMove);
  const moving = new Set(moves.map((m) => m.school));
  const missing = moves.filter((m) => !allowed.has(m.school));
  const unknown = [...allowed].filter((id) => !moving.has(id)).sort();
  const partial = moves.filter((m) => !cellsRun.includes(m.from.cell) || !cellsRun.includes(m.to.cell));
  return { moves: [...moves], missing, unknown, partial, allowed: missing.length === 0 && unknown.length === 0 && partial.length === 0 };
}

export function moveRefusal(env: string, check: MoveCheck): string {
  const lines = [`fleet up: refused: the plan for "${env}" moves sites to other hosts:`];
  for (const m of check.moves) lines.push(`  ${moveLine(m)}`);
  if (check.missing.length > 0) {
    const schools = [...new Set(check.missing.map((m) => m.school))];
    lines.push(
      `Not consented to: ${schools.join(", ")}. A moved site is installed empty on its new host (its data is not copied); ` +
        `the old site's database and files are archived on the old host and removed there.`,
      `If the ledger change is intended, rerun with ${schools.map((s) => `--allow-move ${s}`).join(" ")}; ` +
        `otherwise restore the schools' rows in the ledger.`,
    );
  }
  for (const id of check.unknown) lines.push(`--allow-move ${id}: school ${id} does not move in this plan.`);
  for (const m of check.partial) {
    lines.push(`${m.school} moves from cell ${m.from.cell} to cell ${m.to.cell}: run both cells together (--cells ${m.from.cell},${m.to.cell}).`);
  }
  lines.push(`Review with \`fleet preview --env ${env}\`. Nothing was changed.`);
  return `${lines.join("\n")}\n`;
}

/** The install of a school's site: the resource whose replacement moves the site. */
export function installName(school: string): string {
  return `${school}-install`;
}

/**
 * The URNs `up` must replace, per cell: the install of every school moved
 * within its cell (a move across cells is a delete in the old cell and a
 * create in the new one already). Taken from the cell's preview, which shows
 * the install as an update of its connection, so the URN is the engine's own.
 * A moved install missing from the preview stops the run: without the
 * replace, the old site would be left running.
 */
export function replaceTargets(moves: readonly Move[], previews: readonly CellPreview[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of moves.filter((x) => !isCrossCell(x))) {
    const preview = previews.find((p) => p.cell === m.to.cell);
    const step = preview?.steps.find((s) => s.school === m.school && s.name === installName(m.school) && s.type === "command:remote:Command");
    if (!step) {
      throw new Error(
        `the preview of cell ${m.to.cell} shows no change to ${installName(m.school)}, though the stack's outputs place school ${m.school} on ${m.from.host}; ` +
          `refresh cell ${m.to.cell} (\`fleet refresh --cells ${m.to.cell}\`) and preview again`,
      );
    }
    if (!(out[m.to.cell] ?? []).includes(step.urn)) out[m.to.cell] = [...(out[m.to.cell] ?? []), step.urn];
  }
  return out;
}
