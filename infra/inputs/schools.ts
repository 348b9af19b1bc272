import { SCHOOL_COLUMNS, schoolRowSchema, type School, type TierChoice } from "../../schools/schema";
import { sortIssues, type InputIssue } from "./issues";
import { readUtf8 } from "./read-text";
import { readTable } from "./table";
import { ruleOf } from "./zod-issues";

export interface SchoolList {
  /** Rows that passed every rule, in file order. */
  schools: School[];
  /**
   * Line of every row whose id is well-formed, even if another field is bad:
   * the ledger check must not call such a school "unknown".
   */
  idLines: Map<string, number>;
  issues: InputIssue[];
}

/**
 * Validates a school list. `tiers` comes from the stack config; without it
 * the tier rule is skipped so the rest can still be reported.
 */
export function parseSchoolList(text: string, file: string, tiers?: TierChoice): SchoolList {
  const table = readTable(text, file, SCHOOL_COLUMNS);
  const issues = [...table.issues];
  const schema = schoolRowSchema(tiers);
  const schools: School[] = [];
  const idLines = new Map<string, number>();

  for (const row of table.rows) {
    const parsed = schema.safeParse(row.values);
    const badFields = new Set<string>();
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0]);
        badFields.add(field);
        issues.push({ file, line: row.line, field, rule: ruleOf(issue), message: issue.message });
      }
    }
    const id = row.values.id.trim();
    if (badFields.has("id")) continue;
    const first = idLines.get(id);
    if (first !== undefined) {
      issues.push({
        file,
        line: row.line,
        field: "id",
        rule: "duplicate-id",
        message: `duplicate school id ${id} (also on line ${first})`,
      });
      continue;
    }
    idLines.set(id, row.line);
    if (parsed.success) schools.push(parsed.data);
  }
  return { schools, idLines, issues: sortIssues(issues) };
}

/** Reads and validates a school list file; `shownAs` is the path used in messages. */
export function loadSchoolList(path: string, tiers?: TierChoice, shownAs = path): SchoolList {
  const { text, issues } = readUtf8(path, shownAs);
  const list = parseSchoolList(text, shownAs, tiers);
  return { ...list, issues: sortIssues([...issues, ...list.issues]) };
}
