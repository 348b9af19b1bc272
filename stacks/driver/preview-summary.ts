import { countSteps, dataLossSteps, destructiveSteps, type PlannedStep, type StepCounts } from "./steps";
import { moveLine, type Move } from "./moves";

/** What a preview of the cells amounts to, for people and for a review pipeline. */
export interface CellPreview {
  cell: string;
  ok: boolean;
  error?: string;
  steps: readonly PlannedStep[];
}

/**
 * Exit codes of `fleet preview`, so that a review pipeline can ask for an
 * approval exactly when data would be lost. 1 and 2 keep their meaning for
 * every fleet command (failure, bad usage).
 */
export const PREVIEW_EXIT = {
  noChanges: 0,
  failed: 1,
  usage: 2,
  changes: 3,
  dataLoss: 4,
} as const;

/**
 * A move counts as data loss although the engine shows, within a cell, only
 * updates: the new site starts empty and the old one is archived and removed.
 */
export function previewExitCode(cells: readonly CellPreview[], moves: readonly Move[] = []): number {
  if (cells.some((c) => !c.ok)) return PREVIEW_EXIT.failed;
  const steps = cells.flatMap((c) => c.steps);
  if (dataLossSteps(steps).length > 0 || moves.length > 0) return PREVIEW_EXIT.dataLoss;
  return steps.length > 0 ? PREVIEW_EXIT.changes : PREVIEW_EXIT.noChanges;
}

const KINDS = ["create", "update", "replace", "delete"] as const;

/** Text for a Markdown table cell: no pipes, backticks or line breaks from the data break the table. */
function cellText(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function countRow(label: string, counts: StepCounts, note: string): string {
  return `| ${label} | ${KINDS.map((k) => counts[k]).join(" | ")} | ${note} |`;
}

/**
 * The preview as a merge-request comment: per cell the counts, then every
 * resource that would be deleted or replaced, grouped by school, with the
 * ones that hold data marked. Pure: the same previews give the same text.
 */
export function formatPreviewMarkdown(env: string, cells: readonly CellPreview[], moves: readonly Move[] = []): string {
  const all = cells.flatMap((c) => c.steps);
  const loss = dataLossSteps(all);
  const failed = cells.filter((c) => !c.ok);
  const destructive = cells.flatMap((c) => destructiveSteps(c.steps).map((step) => ({ cell: c.cell, step })));

  const movedSchools = [...new Set(moves.map((m) => m.school))];
  const moveNote = movedSchools.length > 0 ? `${movedSchools.length} site(s) moved to another host (each starts empty there)` : "";
  const verdict =
    failed.length > 0
      ? `**Preview failed** in ${failed.length} of ${cells.length} cell(s); the lists below are incomplete.`
      : loss.length > 0 || moves.length > 0
        ? `**DATA LOSS**: ` +
          [
            loss.length > 0
              ? `${loss.length} data-holding resource(s) would be deleted or replaced` +
                `${lossSchools(loss).length > 0 ? `, sites of ${lossSchools(loss).length} school(s)` : ""}`
              : "",
            moveNote,
          ]
            .filter((p) => p !== "")
            .join("; ") +
          `. Approve only if that is intended${moves.length > 0 ? `; \`fleet up\` needs ${movedSchools.map((s) => `--allow-move ${s}`).join(" ")}` : ""}.`
        : all.length === 0
          ? "No changes."
          : "Changes, no data loss.";

  const lines = [`### fleet preview ${code(env)}`, "", verdict, "", `| cell | ${KINDS.join(" | ")} | |`, `|---|${KINDS.map(() => "--:").join("|")}|---|`];
  for (const c of cells) {
    const movesHere = moves.some((m) => m.from.cell === c.cell || m.to.cell === c.cell);
    const note = !c.ok ? `**failed**: ${cellText(c.error ?? "")}` : dataLossSteps(c.steps).length > 0 || movesHere ? "**data loss**" : "";
    lines.push(countRow(cellText(c.cell), countSteps(c.steps), note));
  }
  if (cells.length > 1) lines.push(countRow("**total**", countSteps(all), ""));

  if (moves.length > 0) {
    lines.push("", `#### Moved to another host (${moves.length}) **DATA LOSS**`, "");
    for (const m of moves) lines.push(`- ${cellText(moveLine(m))}`);
  }

  if (destructive.length > 0) {
    lines.push("", `#### Deleted or replaced (${destructive.length})`);
    const groups = new Map<string, typeof destructive>();
    for (const d of destructive) {
      const key = d.step.school === undefined ? "" : d.step.school;
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    const keys = [...groups.keys()].filter((k) => k !== "").sort();
    if (groups.has("")) keys.push("");
    for (const key of keys) {
      const rows = groups.get(key)!;
      const cellsOf = [...new Set(rows.map((r) => r.cell))].join(", ");
      const moved = moves.find((m) => m.school === key);
      const movedNote = moved ? `, moving to ${cellText(moved.to.host)}: the old site is archived on the old host` : "";
      lines.push("", key === "" ? `**Hosts and hypervisors** (${cellText(cellsOf)})` : `**School ${cellText(key)}** (${cellText(cellsOf)}${movedNote})`, "");
      lines.push("| resource | what | change | |", "|---|---|---|---|");
      for (const { step } of rows) {
        lines.push(`| ${code(step.name)} | ${cellText(step.label)} | ${step.kind} | ${step.holdsData ? "**DATA LOSS**" : ""} |`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

function lossSchools(steps: readonly PlannedStep[]): string[] {
  return [...new Set(steps.map((s) => s.school).filter((s): s is string => s !== undefined))].sort();
}
