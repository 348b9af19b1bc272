import { UsageError } from "../../tools/common/cli";
import type { CellPreview } from "./preview-summary";
import { dataLossSteps } from "./steps";

export interface DeletionCheck {
  /** Schools whose site would be deleted or replaced (its data lost), with their cell. */
  sites: { school: string; cell: string }[];
  /** Data-holding resources outside any site (data volumes, pools) deleted or replaced. */
  other: { name: string; label: string; kind: string; cell: string }[];
  /** sites + other: what --allow-delete must cover. */
  count: number;
  allowed: boolean;
}

/**
 * Decides whether `up` may apply a plan. The steps of `moved` schools (sites
 * moved to another host, stacks/driver/moves.ts) are left out: a move across
 * cells deletes the site in its old cell, and `--allow-move` consents to it. A school leaves the plan when it
 * leaves the school list, so an import from a partial sheet would silently
 * delete every missing school's site; a data volume or pool replaced takes
 * all sites of a host with it. Either needs `--allow-delete N` with N at
 * least the number of such sites and resources.
 */
export function checkDeletions(cells: readonly CellPreview[], allowDelete: number, moved: ReadonlySet<string> = new Set()): DeletionCheck {
  const sites = new Map<string, string>();
  const other: DeletionCheck["other"] = [];
  for (const c of cells) {
    for (const s of dataLossSteps(c.steps)) {
      if (s.school !== undefined && moved.has(s.school)) continue;
      if (s.school !== undefined) sites.set(s.school, c.cell);
      else other.push({ name: s.name, label: s.label, kind: s.kind, cell: c.cell });
    }
  }
  const list = [...sites].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([school, cell]) => ({ school, cell }));
  const count = list.length + other.length;
  return { sites: list, other, count, allowed: count <= allowDelete };
}

export function deletionRefusal(env: string, check: DeletionCheck, allowDelete: number): string {
  const lines = [`fleet up: refused: the plan for "${env}" destroys data that --allow-delete ${allowDelete} does not cover:`];
  if (check.sites.length > 0) {
    lines.push(`  sites of ${check.sites.length} school(s) deleted or replaced:`);
    for (const s of check.sites) lines.push(`    ${s.school}  (cell ${s.cell})`);
  }
  for (const o of check.other) lines.push(`  ${o.name}: ${o.label}, ${o.kind}  (cell ${o.cell})`);
  lines.push(
    `Is the school list complete? An import from a partial sheet removes every school missing from it (check schools/schools.csv in the diff).`,
    `Review with \`fleet preview --env ${env}\`; if these deletions are intended, rerun with --allow-delete ${check.count}. Nothing was changed.`,
  );
  return `${lines.join("\n")}\n`;
}

/** `--allow-delete N`: a whole number, 0 when absent. */
export function parseAllowDelete(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value)) throw new UsageError(`--allow-delete takes the number of sites that may be deleted (got ${JSON.stringify(value)})`);
  return Number(value);
}

/** Reads one line (without its end) from a stream; undefined if it ends first. */
export function readLine(input: NodeJS.ReadableStream): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const done = (line: string | undefined) => {
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("error", onError);
      // Let go of the terminal, so the process can exit once the work is done.
      input.pause();
      resolve(line);
    };
    const onData = (chunk: Buffer | string) => {
      buffered += chunk.toString();
      const eol = buffered.indexOf("\n");
      if (eol >= 0) done(buffered.slice(0, eol).replace(/\r$/, ""));
    };
    const onEnd = () => done(buffered === "" ? undefined : buffered);
    const onError = (error: Error) => {
      input.off("data", onData);
      input.off("end", onEnd);
      reject(error);
    };
    input.on("data", onData);
    input.once("end", onEnd);
    input.once("error", onError);
    input.resume();
  });
}

/**
 * Whether `fleet destroy` may go on: `--yes-destroy ENV` naming the same
 * environment (scripts), or the environment's name typed on stdin. Anything
 * else, an empty line or a closed stdin included, is a no.
 */
export async function confirmDestroy(
  env: string,
  cells: readonly string[],
  yesDestroy: string | undefined,
  io: { stderr(text: string): void; stdin?: NodeJS.ReadableStream },
): Promise<boolean> {
  if (yesDestroy !== undefined) {
    if (yesDestroy !== env) throw new UsageError(`--yes-destroy ${yesDestroy} does not name the environment being destroyed (--env ${env})`);
    return true;
  }
  io.stderr(
    `fleet destroy: this deletes every VM, disk, database, DNS record and password of environment "${env}" ` +
      `(cells ${cells.join(", ")}); each site is archived on its host first.\n` +
      `Type the environment's name to go on: `,
  );
  const answer = io.stdin ? await readLine(io.stdin) : undefined;
  if (answer?.trim() === env) return true;
  io.stderr(
    answer === undefined
      ? `\nfleet destroy: no answer on stdin; nothing was destroyed (scripts pass --yes-destroy ${env})\n`
      : `fleet destroy: ${JSON.stringify(answer.trim())} is not "${env}"; nothing was destroyed\n`,
  );
  return false;
}
