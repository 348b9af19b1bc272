import { z } from "zod";
import { moodleEmailProblem } from "../infra/scripts/validate";

/** The columns of the school list, exactly; order in the file is free. */
export const SCHOOL_COLUMNS = ["id", "name", "town", "email", "tier"] as const;
export type SchoolColumn = (typeof SCHOOL_COLUMNS)[number];

export const SCHOOL_TEXT_MAX = 200;

// Each check carries a rule id in `params.rule`, so loaders can report which
// rule a value broke without parsing zod's messages.
type Check<T> = [rule: string, ok: (value: T) => boolean, message: (value: T) => string];

function withChecks<S extends z.ZodType<string, string>>(schema: S, checks: Check<string>[]) {
  return checks.reduce<z.ZodType<string, string>>(
    (acc, [rule, ok, message]) =>
      acc.refine(ok, { params: { rule }, error: (issue) => message(String(issue.input)) }),
    schema,
  ) as z.ZodType<string, string>;
}

const show = (v: string) => JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);

export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const isDnsLabel = (v: string) => DNS_LABEL.test(v);

/**
 * The school's official office number: the primary key and the site's DNS
 * label. A string, because spreadsheets love to drop leading zeros.
 */
export const schoolIdSchema = withChecks(z.string().trim(), [
  [
    "id-format",
    (v) => /^[0-9]{8}$/.test(v),
    (v) => `not an 8-digit school number (${show(v)}); keep leading zeros by formatting the column as text`,
  ],
  // Holds for every 8-digit id; kept as its own rule because the id becomes
  // `<id>.<domain>` and that must stay true if the id format ever widens.
  ["dns-label", isDnsLabel, (v) => `not usable as a DNS label (${show(v)})`],
]);

// Spreadsheet cells often carry manual line breaks; in a name they mean a space.
const collapseLineBreaks = (v: string) => v.replace(/\s*[\r\n]+\s*/g, " ");
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Name or town: free text (any Unicode, quotes, `$(...)`: it is data). */
export const schoolTextSchema = withChecks(z.string().trim().overwrite(collapseLineBreaks), [
  ["required", (v) => v.length > 0, () => "must not be empty"],
  // Counted in code points: an emoji or a CJK character is one character.
  ["max-length", (v) => [...v].length <= SCHOOL_TEXT_MAX, (v) => `longer than ${SCHOOL_TEXT_MAX} characters (${[...v].length})`],
  ["control-char", (v) => !CONTROL.test(v), () => "contains control characters"],
]);

const EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Contact address for the mail-out; lower-cased so comparisons are trivial. */
export const schoolEmailSchema = withChecks(z.string().trim().toLowerCase(), [
  // Also what Moodle's installer accepts (moodleEmailProblem), so a bad address fails here, not mid-up.
  ["email", (v) => v.length <= 254 && EMAIL.test(v) && moodleEmailProblem(v) === null, (v) => `not an e-mail address (${show(v)})`],
]);

export interface TierChoice {
  /** Names of the configured tiers. */
  names: readonly string[];
  /** Used when a row leaves the tier empty. */
  defaultTier: string;
}

/**
 * Tier column. Without a tier choice (the stack config did not load) any
 * non-empty value passes and an empty one stays empty, so the rest of the
 * list can still be checked.
 */
export function schoolTierSchema(tiers?: TierChoice) {
  const base = z
    .string()
    .trim()
    .overwrite((v) => (v === "" && tiers ? tiers.defaultTier : v));
  if (!tiers) return base;
  return withChecks(base, [
    ["tier", (v) => tiers.names.includes(v), (v) => `unknown tier ${show(v)} (configured: ${tiers.names.join(", ")})`],
  ]);
}

/** One row of the school list, as validated and normalised. */
export function schoolRowSchema(tiers?: TierChoice) {
  return z.object({
    id: schoolIdSchema,
    name: schoolTextSchema,
    town: schoolTextSchema,
    email: schoolEmailSchema,
    tier: schoolTierSchema(tiers),
  });
}

export type School = z.output<ReturnType<typeof schoolRowSchema>>;
