import type { z } from "zod";

/** The rule id a schema attached to a check, or zod's own issue code. */
export function ruleOf(issue: z.core.$ZodIssue): string {
  if (issue.code === "custom" && issue.params && typeof issue.params.rule === "string") return issue.params.rule;
  return issue.code;
}
