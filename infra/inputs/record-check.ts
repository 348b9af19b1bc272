import type { School } from "../../schools/schema";
import type { FleetConfig } from "../config/schema";
import { tierSizes, type HostRecord, type HostSizes } from "./host-record";
import { idList, type InputIssue } from "./issues";
import type { LedgerEntry } from "./ledger";
import { groupByHost, PLAN_COMMAND } from "./ledger-check";
import type { UidRecord } from "./uids";

/** One size of a host that its current tier would set differently. */
export interface SizeDrift {
  host: string;
  tier: string;
  /** Column of hosts.csv. */
  field: "vcpu" | "memory_mib" | "root_disk_gib" | "data_disk_gib" | "sites_per_host";
  recorded: number;
  tierNow: number;
  /** Line of the host's row in hosts.csv. */
  line?: number;
}

const FIELDS: ReadonlyArray<[SizeDrift["field"], keyof HostSizes]> = [
  ["vcpu", "vcpu"],
  ["memory_mib", "memoryMiB"],
  ["root_disk_gib", "rootDiskGiB"],
  ["data_disk_gib", "dataDiskGiB"],
  ["sites_per_host", "sitesPerHost"],
];

/** The tier of each host: that of its first school (checkLedger reports hosts mixing tiers). */
function hostTiers(entries: readonly LedgerEntry[], schools: readonly School[]): Map<string, string | undefined> {
  const tierOf = new Map(schools.map((s) => [s.id, s.tier]));
  return new Map([...groupByHost(entries)].map(([host, rows]) => [host, tierOf.get(rows[0].schoolId)]));
}

/**
 * Hosts whose recorded sizes differ from what their tier says now. Nothing
 * changes for them (the plan takes the record); this is what a tier change
 * would have done, for the operator to decide on host by host.
 */
export function sizeDrift(record: HostRecord, entries: readonly LedgerEntry[], schools: readonly School[], config: FleetConfig): SizeDrift[] {
  const drift: SizeDrift[] = [];
  for (const [host, tier] of hostTiers(entries, schools)) {
    const row = record.hosts.get(host);
    if (!row || tier === undefined || !Object.hasOwn(config.tiers, tier)) continue;
    const now = tierSizes(config.tiers[tier]);
    for (const [field, key] of FIELDS)
      if (row.sizes[key] !== now[key]) drift.push({ host, tier, field, recorded: row.sizes[key], tierNow: now[key], line: row.line });
  }
  return drift;
}

const SHOWN: Record<SizeDrift["field"], [label: string, unit: string]> = {
  vcpu: ["vcpu", ""],
  memory_mib: ["memory", " MiB"],
  root_disk_gib: ["root disk", " GiB"],
  data_disk_gib: ["data disk", " GiB"],
  sites_per_host: ["site slots", ""],
};

/** `fleet validate`'s line for one drift: what is recorded, what the tier says, what to do. */
export function formatDrift(d: SizeDrift, env: string): { message: string; fix: string } {
  const [label, unit] = SHOWN[d.field];
  const what = `${label} ${d.recorded}${unit} recorded, tier ${d.tier} now says ${d.tierNow}${unit}: unchanged`;
  switch (d.field) {
    case "data_disk_gib":
      return {
        message: `${d.host}: ${what}`,
        fix:
          d.tierNow > d.recorded
            ? `grow it with \`fleet grow-disk --env ${env} --host ${d.host} --gib ${d.tierNow}\``
            : "a data disk never shrinks; keep the row",
      };
    case "root_disk_gib":
      return { message: `${d.host}: ${what}`, fix: "a root volume is never resized in place; keep the row" };
    case "sites_per_host":
      return {
        message: `${d.host}: ${what}`,
        fix: "the host keeps taking the recorded number of sites; raise sites_per_host in this row only after growing its data disk",
      };
    default:
      return {
        message: `${d.host}: ${what}`,
        fix: "to resize the VM, change this row in a reviewed commit (the VM is recreated; its disks are kept)",
      };
  }
}

/**
 * The host record against the ledger and config: placed hosts without a
 * row (sized from their tier until `fleet plan --write` records them), rows
 * of hosts nothing is placed on, and rows whose sizes the tier would set
 * differently. All warnings: the plan is well defined in each case.
 */
export function checkHostRecord(
  record: HostRecord,
  entries: readonly LedgerEntry[],
  ctx: { config: FleetConfig; schools: readonly School[]; env?: string },
): InputIssue[] {
  const issues: InputIssue[] = [];
  const tiers = hostTiers(entries, ctx.schools);
  for (const [host, tier] of tiers)
    if (!record.hosts.has(host))
      issues.push({
        file: record.file,
        field: "host",
        rule: "host-unrecorded",
        severity: "warning",
        message: `host ${host} has no row: it is sized from tier ${tier ?? "?"} as it stands, so a change of that tier would replace its volumes`,
        fix: `run \`${PLAN_COMMAND}\` to record its sizes from the current tier (check they match the VM: \`virsh vol-info\`)`,
      });
  for (const [host, row] of record.hosts)
    if (!tiers.has(host))
      issues.push({
        file: record.file,
        line: row.line,
        field: "host",
        rule: "host-unplaced",
        severity: "warning",
        message: `no school is placed on host ${host}`,
        fix: `run \`${PLAN_COMMAND}\` to drop the row`,
      });
  for (const d of sizeDrift(record, entries, ctx.schools, ctx.config)) {
    const { message, fix } = formatDrift(d, ctx.env ?? "ENV");
    issues.push({ file: record.file, line: d.line, field: d.field, rule: "tier-drift", severity: "warning", message, fix });
  }
  return issues;
}

/** Placed schools without a UID: `fleet plan --write` assigns them one. */
export function checkUidRecord(record: UidRecord, entries: readonly LedgerEntry[]): InputIssue[] {
  const missing = [...new Set(entries.map((e) => e.schoolId))].filter((id) => !record.bySchool.has(id));
  if (missing.length === 0) return [];
  const shown = idList(missing);
  return [
    {
      file: record.file,
      field: "school_id",
      rule: "uid-missing",
      severity: "warning",
      message: `${missing.length} placed school(s) have no site UID (${shown}): their accounts would be numbered by install order`,
      fix: `run \`${PLAN_COMMAND}\` to assign them`,
    },
  ];
}
