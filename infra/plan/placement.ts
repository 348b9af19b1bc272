import type { School } from "../../schools/schema";
import { ipv4ToNumber } from "../config/ipv4";
import type { FleetConfig, HypervisorConfig } from "../config/schema";
import { compareHosts, formatHostName, parseHostName, type HostName } from "../inputs/host-name";
import { compareText, type InputIssue } from "../inputs/issues";
import type { Ledger, LedgerEntry } from "../inputs/ledger";
import { checkLedger, groupByHost } from "../inputs/ledger-check";
import { serializeHostRecord, tierSizes, type HostRecord, type HostRecordEntry, type HostSizes } from "../inputs/host-record";
import { SITE_UID_FIRST, SITE_UID_LAST, type UidEntry, type UidRecord } from "../inputs/uids";

export interface PlacementInput {
  /** Valid school rows; the planner must not run on a list with errors. */
  schools: readonly School[];
  config: FleetConfig;
  ledger: Ledger;
  /** School list path, for messages. */
  schoolsFile?: string;
  /** Sizes of the hosts placed so far (hosts.csv); none recorded when absent. */
  hosts?: HostRecord;
  /** Site UIDs given so far (uids.csv); none when absent. */
  uids?: UidRecord;
}

export interface Placed {
  schoolId: string;
  tier: string;
  host: string;
  /** True when the host is created by this plan. */
  newHost: boolean;
}

export interface NewHost {
  host: string;
  hypervisor: string;
  tier: string;
  vcpu: number;
  memoryMiB: number;
}

export interface Removal {
  schoolId: string;
  host: string;
  line?: number;
}

export interface OverCapacity {
  host: string;
  tier: string;
  sites: number;
  sitesPerHost: number;
}

/** Schools of one tier that fit nowhere, and what it would take to place them. */
export interface NoCapacity {
  tier: string;
  schoolIds: string[];
  hostsNeeded: number;
  vcpuPerHost: number;
  memoryMiBPerHost: number;
}

export interface HypervisorUsage {
  name: string;
  hosts: number;
  vcpu: number;
  memoryMiB: number;
  capacityVcpu: number;
  capacityMemoryMiB: number;
}

export interface PlacementReport {
  placed: Placed[];
  newHosts: NewHost[];
  toRemove: Removal[];
  overCapacity: OverCapacity[];
  noCapacity: NoCapacity[];
  /** Committed resources per hypervisor once the new ledger is applied. */
  usage: HypervisorUsage[];
  /** Ledger problems only a person can resolve; the new ledger must not be written. */
  blocking: InputIssue[];
  /** Hosts placed before hosts were recorded, now recorded with their tier's current sizes. */
  recorded: { host: string; tier: string; sizes: HostSizes }[];
  /** Rows of hosts.csv whose host no longer holds a school. */
  unrecorded: string[];
  /** UIDs given to schools that had none. */
  uidsAssigned: UidEntry[];
}

export interface PlacementResult {
  /** Existing rows unchanged and in order (minus removals), then new rows in school-id order. */
  ledger: LedgerEntry[];
  report: PlacementReport;
  /** The host record to write with `ledger`: a row for every host it places schools on. */
  hosts: HostRecordEntry[];
  /** The UID record to write with `ledger`: every row kept, new ones appended. */
  uids: UidEntry[];
  /** Whether `ledger`, `hosts` or `uids` differ from the input. */
  changed: boolean;
  /** False when something blocks writing the new ledger (see blocking, noCapacity). */
  ok: boolean;
}

interface HostState extends HostName {
  name: string;
  tier: string | undefined;
  sites: number;
}

/**
 * Places schools that have no host yet. Existing placements never change:
 * a school moves only when a person deletes its row. New schools go into
 * the lowest-numbered host of their tier with a free slot, on any
 * hypervisor; when there is none, a new host is numbered max+1 on the
 * hypervisor that can still take the most VMs of that tier.
 */
export function planPlacements(input: PlacementInput): PlacementResult {
  const { schools, config, ledger } = input;
  const byId = new Map(schools.map((s) => [s.id, s]));
  const checks = checkLedger(ledger.entries, ledger.file, { config, schools, schoolsFile: input.schoolsFile });
  const hostRecord = input.hosts?.hosts ?? new Map<string, HostRecordEntry>();
  const uidEntries = input.uids?.entries ?? [];
  const blocking = [
    ...ledger.issues,
    // A record that does not read cleanly would be rewritten without its bad rows.
    ...(input.hosts?.issues ?? []).filter((i) => i.severity !== "warning"),
    ...(input.uids?.issues ?? []).filter((i) => i.severity !== "warning"),
    ...checks.filter((i) => !["unknown-school", "unplaced", "over-capacity"].includes(i.rule)),
  ];

  const seen = new Set<string>();
  const kept: LedgerEntry[] = [];
  const toRemove: Removal[] = [];
  for (const e of ledger.entries) {
    if (seen.has(e.schoolId)) {
      kept.push(e); // a duplicate is blocking; keep it so nothing is lost
      continue;
    }
    seen.add(e.schoolId);
    if (byId.has(e.schoolId)) kept.push(e);
    else toRemove.push({ schoolId: e.schoolId, host: e.host, ...(e.line === undefined ? {} : { line: e.line }) });
  }

  const hosts = new Map<string, HostState>();
  // Hosts a person has to sort out first (mixed tiers, unknown hypervisor)
  // take no new schools.
  const unusable = new Set<string>();
  const known = new Set(config.hypervisors.map((h) => h.name));
  for (const [host, rows] of groupByHost(kept)) {
    const name = parseHostName(host);
    if (!name) continue;
    const tiers = new Set(rows.map((r) => byId.get(r.schoolId)?.tier));
    if (tiers.size > 1 || !known.has(name.hypervisor)) unusable.add(host);
    hosts.set(host, { ...name, name: host, tier: byId.get(rows[0].schoolId)?.tier, sites: rows.length });
  }
  const hypervisors = config.hypervisors;
  const tierOf = (h: HostState) => (h.tier !== undefined && Object.hasOwn(config.tiers, h.tier) ? config.tiers[h.tier] : undefined);
  // A placed host keeps the sizes it was created with: its slots and its
  // share of the hypervisor come from its record, not from what its tier says now.
  const sizesOf = (h: HostState): HostSizes | undefined => {
    const tier = tierOf(h);
    return hostRecord.get(h.name)?.sizes ?? (tier && tierSizes(tier));
  };
  const usage = (hv: HypervisorConfig) => {
    let vcpu = 0;
    let memoryMiB = 0;
    let count = 0;
    for (const h of hosts.values())
      if (h.hypervisor === hv.name) {
        count += 1;
        vcpu += sizesOf(h)?.vcpu ?? 0;
        memoryMiB += sizesOf(h)?.memoryMiB ?? 0;
      }
    return { vcpu, memoryMiB, count };
  };
  const nextNumber = (hv: string) =>
    Math.max(0, ...[...hosts.values()].filter((h) => h.hypervisor === hv).map((h) => h.number)) + 1;

  const placed: Placed[] = [];
  const newHosts: NewHost[] = [];
  const stuck = new Map<string, string[]>();
  const added: LedgerEntry[] = [];
  // Schools of an unknown tier are already reported as blocking.
  const unplaced = schools
    .filter((s) => !seen.has(s.id) && Object.hasOwn(config.tiers, s.tier))
    .sort((a, b) => compareText(a.id, b.id));

  for (const school of unplaced) {
    const tier = config.tiers[school.tier];
    const free = [...hosts.values()]
      .filter((h) => h.tier === school.tier && h.sites < (sizesOf(h)?.sitesPerHost ?? 0) && !unusable.has(h.name))
      .sort(compareHosts);
    let host = free[0];
    let newHost = false;
    if (!host) {
      const candidates = hypervisors.flatMap((hv) => {
        const used = usage(hv);
        const number = nextNumber(hv.name);
        const lastAddress = ipv4ToNumber(hv.addresses.first) + number - 1;
        const fit = Math.min(
          Math.floor((hv.capacity.vcpu - used.vcpu) / tier.vcpu),
          Math.floor((hv.capacity.memoryMiB - used.memoryMiB) / tier.memoryMiB),
        );
        return fit >= 1 && lastAddress <= ipv4ToNumber(hv.addresses.last) ? [{ hv, number, fit }] : [];
      });
      candidates.sort((a, b) => b.fit - a.fit || compareText(a.hv.name, b.hv.name));
      const pick = candidates[0];
      if (!pick) {
        stuck.set(school.tier, [...(stuck.get(school.tier) ?? []), school.id]);
        continue;
      }
      const name = formatHostName(pick.hv.name, pick.number);
      host = { hypervisor: pick.hv.name, number: pick.number, name, tier: school.tier, sites: 0 };
      hosts.set(name, host);
      newHost = true;
      newHosts.push({ host: name, hypervisor: pick.hv.name, tier: school.tier, vcpu: tier.vcpu, memoryMiB: tier.memoryMiB });
    }
    host.sites += 1;
    added.push({ schoolId: school.id, host: host.name });
    placed.push({ schoolId: school.id, tier: school.tier, host: host.name, newHost });
  }

  const overCapacity: OverCapacity[] = [...hosts.values()]
    .filter((h) => {
      const sizes = sizesOf(h);
      return sizes !== undefined && h.sites > sizes.sitesPerHost;
    })
    .sort(compareHosts)
    .map((h) => ({ host: h.name, tier: h.tier ?? "", sites: h.sites, sitesPerHost: sizesOf(h)?.sitesPerHost ?? 0 }));

  const noCapacity: NoCapacity[] = [...stuck.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .map(([tierName, schoolIds]) => {
      const tier = config.tiers[tierName];
      return {
        tier: tierName,
        schoolIds,
        hostsNeeded: Math.ceil(schoolIds.length / tier.sitesPerHost),
        vcpuPerHost: tier.vcpu,
        memoryMiBPerHost: tier.memoryMiB,
      };
    });

  const usageReport = [...hypervisors]
    .sort((a, b) => compareText(a.name, b.name))
    .map((hv) => {
      const used = usage(hv);
      return {
        name: hv.name,
        hosts: used.count,
        vcpu: used.vcpu,
        memoryMiB: used.memoryMiB,
        capacityVcpu: hv.capacity.vcpu,
        capacityMemoryMiB: hv.capacity.memoryMiB,
      };
    });

  const strip = ({ schoolId, host }: LedgerEntry): LedgerEntry => ({ schoolId, host });
  const newLedger = [...kept.map(strip), ...added];

  // The host record: rows of hosts that still hold a school stay as they
  // are; hosts placed before hosts were recorded, and new hosts, get their
  // tier's current sizes. A host left empty loses its row with its VM, so a
  // later host of the same name starts from its own tier.
  const placedHosts = groupByHost(newLedger);
  const recorded: PlacementReport["recorded"] = [];
  const unrecorded = [...hostRecord.keys()].filter((h) => !placedHosts.has(h));
  const keptRows = [...hostRecord.values()].filter((r) => placedHosts.has(r.host)).map(({ host, sizes }) => ({ host, sizes }));
  const newRows: HostRecordEntry[] = [];
  for (const host of [...placedHosts.keys()].sort((a, b) => compareHosts(parseHostName(a)!, parseHostName(b)!))) {
    const state = hosts.get(host);
    if (hostRecord.has(host) || !state || unusable.has(host)) continue;
    const tier = tierOf(state);
    if (!tier) continue;
    newRows.push({ host, sizes: tierSizes(tier) });
    if (!newHosts.some((n) => n.host === host)) recorded.push({ host, tier: state.tier!, sizes: tierSizes(tier) });
  }
  const hostRows = [...keptRows, ...newRows];

  // UIDs: every row ever written stays (a number is never reused); each
  // placed school without one gets the next number above all of them.
  const uidRows = uidEntries.map(({ schoolId, uid }) => ({ schoolId, uid }));
  const hasUid = new Set(uidRows.map((u) => u.schoolId));
  let nextUid = Math.max(SITE_UID_FIRST - 1, ...uidRows.map((u) => u.uid)) + 1;
  const uidsAssigned: UidEntry[] = [];
  for (const { schoolId } of newLedger) {
    if (hasUid.has(schoolId)) continue;
    hasUid.add(schoolId);
    if (nextUid > SITE_UID_LAST) {
      blocking.push({
        file: input.uids?.file ?? "uids.csv",
        field: "uid",
        rule: "uid-exhausted",
        message: `no site UID left for school ${schoolId}: ${SITE_UID_FIRST}-${SITE_UID_LAST} are all given`,
      });
      continue;
    }
    uidsAssigned.push({ schoolId, uid: nextUid });
    nextUid += 1;
  }
  const hostsChanged = serializeHostRecord(hostRows) !== serializeHostRecord([...hostRecord.values()]);

  return {
    ledger: newLedger,
    hosts: hostRows,
    uids: [...uidRows, ...uidsAssigned],
    report: { placed, newHosts, toRemove, overCapacity, noCapacity, usage: usageReport, blocking, recorded, unrecorded, uidsAssigned },
    changed: added.length > 0 || toRemove.length > 0 || hostsChanged || uidsAssigned.length > 0,
    ok: blocking.length === 0 && noCapacity.length === 0,
  };
}
