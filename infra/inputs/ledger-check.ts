import type { School } from "../../schools/schema";
import { ipv4ToNumber, numberToIpv4 } from "../config/ipv4";
import type { FleetConfig } from "../config/schema";
import { parseHostName } from "./host-name";
import type { InputIssue } from "./issues";
import type { LedgerEntry } from "./ledger";

export const PLAN_COMMAND = "npx fleet plan --write";

/**
 * What re-placing a deployed school does, for the hints that suggest it: the
 * driver sees the new host in the ledger as a move (stacks/driver/moves.ts).
 */
export const MOVE_NOTE =
  "careful: a deployed school placed on another host is a move: `fleet preview` lists it as MOVE (data loss), " +
  "and `fleet up` applies it only with `--allow-move <school id>`; the site starts empty on its new host, " +
  "and the old site is archived on its old host and removed there";

/** What the ledger is checked against. */
export interface LedgerContext {
  config: FleetConfig;
  /** Valid school rows. */
  schools: readonly School[];
  /**
   * Every id in the list with its line, including rows with errors in other
   * fields (those are not "unknown"). Defaults to the ids of `schools`.
   */
  idLines?: ReadonlyMap<string, number>;
  /** School list path for "not placed" messages. */
  schoolsFile?: string;
}

/** Rule ids that `fleet plan --write` resolves by itself. */
export const PLANNER_FIXES = new Set(["unknown-school", "unplaced"]);

export function groupByHost(entries: readonly LedgerEntry[]): Map<string, LedgerEntry[]> {
  const hosts = new Map<string, LedgerEntry[]>();
  for (const e of entries) hosts.set(e.host, [...(hosts.get(e.host) ?? []), e]);
  return hosts;
}

const linesOf = (entries: readonly LedgerEntry[]) => {
  const lines = entries.flatMap((e) => (e.line === undefined ? [] : [e.line]));
  return lines.length === 0 ? "" : ` (line${lines.length > 1 ? "s" : ""} ${lines.join(", ")})`;
};

/**
 * Checks ledger entries against the school list and config: duplicate or
 * unknown schools, unknown hypervisors, hosts mixing tiers, hosts over their
 * tier's capacity or past their hypervisor's address range, and schools not
 * placed at all. Pure; every problem is returned.
 */
export function checkLedger(entries: readonly LedgerEntry[], file: string, ctx: LedgerContext): InputIssue[] {
  const issues: InputIssue[] = [];
  const schools = new Map(ctx.schools.map((s) => [s.id, s]));
  const idLines = ctx.idLines ?? new Map(ctx.schools.map((s) => [s.id, 0]));
  const hypervisors = new Map(ctx.config.hypervisors.map((h) => [h.name, h]));
  const at = (e: LedgerEntry, field: string, rule: string, message: string, fix?: string): InputIssue => ({
    file,
    line: e.line,
    field,
    rule,
    message,
    ...(fix === undefined ? {} : { fix }),
  });

  const firstRow = new Map<string, LedgerEntry>();
  const unique: LedgerEntry[] = [];
  for (const e of entries) {
    const first = firstRow.get(e.schoolId);
    if (first) {
      const where = first.line === undefined ? `host ${first.host}` : `line ${first.line}, host ${first.host}`;
      issues.push(at(e, "school_id", "duplicate-school", `school ${e.schoolId} is placed twice (also ${where})`, "keep one of the rows"));
      continue;
    }
    firstRow.set(e.schoolId, e);
    unique.push(e);
    if (!idLines.has(e.schoolId))
      issues.push(
        at(e, "school_id", "unknown-school", `school ${e.schoolId} is not in the school list`, `run \`${PLAN_COMMAND}\` to remove it (deletes its site)`),
      );
  }

  for (const [host, rows] of groupByHost(unique)) {
    const name = parseHostName(host);
    const hv = name && hypervisors.get(name.hypervisor);
    if (!name || !hv) {
      issues.push(
        at(
          rows[0],
          "host",
          "unknown-hypervisor",
          `host ${host} is on hypervisor "${name?.hypervisor ?? host}", which the stack config does not define (${rows.length} school${rows.length === 1 ? "" : "s"}${linesOf(rows)})`,
          "add the hypervisor back to the config: its stack still holds these sites. To retire it, keep it configured, " +
            `place its schools on other hosts in this ledger and apply with \`fleet up\` (${MOVE_NOTE}), then remove it`,
        ),
      );
      continue;
    }
    const address = ipv4ToNumber(hv.addresses.first) + name.number - 1;
    if (address > ipv4ToNumber(hv.addresses.last))
      issues.push(
        at(
          rows[0],
          "host",
          "address-range",
          `host ${host} would get ${address > 0xffffffff ? "an address" : numberToIpv4(address)}, past the end of ${hv.name}'s VM range (${hv.addresses.last})`,
          `widen hypervisors "${hv.name}" addresses.last`,
        ),
      );

    const tiered = rows.flatMap((e) => {
      const school = schools.get(e.schoolId);
      return school ? [{ e, tier: school.tier }] : [];
    });
    const tiers = [...new Set(tiered.map((t) => t.tier))];
    if (tiers.length > 1) {
      const odd = tiered.find((t) => t.tier !== tiers[0]);
      const parts = tiers.map((tier) => `${tier}${linesOf(tiered.filter((t) => t.tier === tier).map((t) => t.e))}`);
      issues.push(
        at(
          odd?.e ?? rows[0],
          "school_id",
          "mixed-tiers",
          `host ${host} holds schools of different tiers: ${parts.join(" and ")}`,
          `delete the rows of the schools whose tier changed and run \`${PLAN_COMMAND}\` (${MOVE_NOTE})`,
        ),
      );
      continue;
    }
    const tier = tiers[0] !== undefined && Object.hasOwn(ctx.config.tiers, tiers[0]) ? ctx.config.tiers[tiers[0]] : undefined;
    if (tier && rows.length > tier.sitesPerHost)
      issues.push(
        at(
          rows[tier.sitesPerHost],
          "host",
          "over-capacity",
          `host over capacity: ${host} has ${rows.length} sites, tier ${tiers[0]} allows ${tier.sitesPerHost}`,
          `raise the tier's sitesPerHost, or delete the excess rows and re-plan (${MOVE_NOTE})`,
        ),
      );
  }

  const schoolsFile = ctx.schoolsFile ?? "school list";
  for (const school of ctx.schools)
    if (!Object.hasOwn(ctx.config.tiers, school.tier))
      issues.push({
        file: schoolsFile,
        line: idLines.get(school.id) || undefined,
        field: "tier",
        rule: "tier",
        message: `unknown tier ${JSON.stringify(school.tier)} (configured: ${Object.keys(ctx.config.tiers).join(", ")})`,
      });
    else if (!firstRow.has(school.id))
      issues.push({
        file: schoolsFile,
        line: idLines.get(school.id) || undefined,
        field: "id",
        rule: "unplaced",
        message: `school ${school.id} has no host in ${file}`,
        fix: `run \`${PLAN_COMMAND}\``,
      });
  return issues;
}
