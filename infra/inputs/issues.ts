/**
 * One problem found in an input a person wrote (school list, stack config,
 * placement ledger). Every loader collects all of them instead of stopping at
 * the first, so one run shows the whole list of things to fix.
 */
export interface InputIssue {
  /** Path as shown to the operator (relative to the working directory). */
  file: string;
  /** 1-based physical line; absent when the problem is about the whole file. */
  line?: number;
  /** Column name (CSV) or key path (config) the problem is about. */
  field?: string;
  /** Whether `field` names a CSV column or a config key. */
  fieldKind?: "field" | "key";
  /** Stable identifier of the violated rule, for tests and tooling. */
  rule: string;
  message: string;
  /** What the operator should do about it, when there is one obvious fix. */
  fix?: string;
  severity?: "error" | "warning";
}

export function isError(issue: InputIssue): boolean {
  return issue.severity !== "warning";
}

export function formatIssue(issue: InputIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  const level = issue.severity === "warning" ? "warning: " : "";
  const subject = issue.field === undefined ? "" : `${issue.fieldKind ?? "field"} "${issue.field}": `;
  const fix = issue.fix === undefined ? "" : ` (fix: ${issue.fix})`;
  return `${where}: ${level}${subject}${issue.message}${fix}`;
}

/**
 * Orders issues by file, then line, so reports read top to bottom; the sort
 * is stable, so issues of one line keep their order (the columns' order).
 */
export function sortIssues(issues: readonly InputIssue[]): InputIssue[] {
  return [...issues].sort((a, b) => compareText(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0));
}

/** Thrown when input is unusable; carries every issue, not just the first. */
export class InputError extends Error {
  readonly issues: readonly InputIssue[];

  constructor(issues: readonly InputIssue[], summary = "invalid input") {
    super(`${summary}:\n${issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`);
    this.name = "InputError";
    this.issues = issues;
  }
}

/** Code-point order: independent of the locale the process happens to run in. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The first `limit` ids of a list, then how many more there are: a message stays one readable line. */
export function idList(list: readonly string[], limit = 6): string {
  return list.length <= limit ? list.join(", ") : `${list.slice(0, limit).join(", ")} and ${list.length - limit} more`;
}

/** Shows a value inside a message without letting control characters through. */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const short = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(short);
}
