import type { FleetOutputs, SiteOutput } from "../../infra/outputs/schema";

export interface Amounts {
  sites: number;
  slots: number;
  vcpu: number;
  memoryMiB: number;
  diskGiB: number;
}

export interface HostStatus extends Amounts {
  name: string;
  hypervisor: string;
  tier: string;
  address: string;
  /** Largest load factor the VM carries: slots / sites. */
  headroom: number;
  /** sites × load factor > slots. */
  overloaded: boolean;
  sitesList: SiteOutput[];
}

export interface HypervisorStatus extends Amounts {
  name: string;
  hosts: number;
  capacity: { vcpu: number; memoryMiB: number };
  /** vCPU and RAM its sites need at normal load: each VM's share in use (sites / slots). */
  normal: { vcpu: number; memoryMiB: number };
  /** Largest load factor whose demand still fits the capacity (vCPU and RAM). */
  headroom: number;
  /** Its VMs already commit more than its capacity. */
  overcommitted: boolean;
  /** normal demand × load factor > capacity, or overcommitted. */
  overloaded: boolean;
}

export interface TierStatus extends Amounts {
  name: string;
  hosts: number;
}

export interface CapacityReport {
  loadFactor: number;
  hypervisors: HypervisorStatus[];
  hosts: HostStatus[];
  tiers: TierStatus[];
  total: Amounts & { hosts: number; hypervisors: number; capacity: { vcpu: number; memoryMiB: number } };
  /** Inconsistencies in the outputs that do not stop the report. */
  warnings: string[];
}

export const LOAD_RULE = [
  "A tier's site slots are what one VM carries at normal load; at a load factor L each site needs L times its share.",
  "A host is flagged when sites × L > slots: its sites need a bigger tier or a second VM.",
  "A hypervisor is flagged when L × its sites' normal share of vCPU or RAM (each VM's vCPU and RAM × sites / slots) exceeds its capacity, or when its VMs already commit more than it has: growing its VMs would not fit, so it needs another hypervisor.",
  "Headroom is the largest load factor that still fits (none for an overcommitted hypervisor).",
  "In March 2020 BelWü planned for 5× the usual load and got 20×: look at --load-factor 20 as well.",
];

const empty = (): Amounts => ({ sites: 0, slots: 0, vcpu: 0, memoryMiB: 0, diskGiB: 0 });
const add = (a: Amounts, b: Amounts) => {
  a.sites += b.sites;
  a.slots += b.slots;
  a.vcpu += b.vcpu;
  a.memoryMiB += b.memoryMiB;
  a.diskGiB += b.diskGiB;
};
const sorted = <T>(record: Record<string, T>): T[] =>
  Object.keys(record)
    .sort()
    .map((k) => record[k]);
const ratio = (capacity: number, demand: number) => (demand <= 0 ? Infinity : capacity / demand);

export function capacityReport(outputs: FleetOutputs, loadFactor: number): CapacityReport {
  const warnings: string[] = [];
  const sitesByHost = new Map<string, SiteOutput[]>();
  for (const site of sorted(outputs.sites)) {
    const list = sitesByHost.get(site.host) ?? [];
    list.push(site);
    sitesByHost.set(site.host, list);
  }

  const hosts: HostStatus[] = sorted(outputs.hosts).map((h) => {
    const sitesList = sitesByHost.get(h.name) ?? [];
    if (sitesList.length !== h.siteCount)
      warnings.push(`host ${h.name}: siteCount is ${h.siteCount}, but ${sitesList.length} site(s) name it; counting ${sitesList.length}`);
    const sites = sitesList.length;
    return {
      name: h.name,
      hypervisor: h.hypervisor,
      tier: h.tier,
      address: h.address,
      sites,
      slots: h.siteSlots,
      vcpu: h.vcpu,
      memoryMiB: h.memoryMiB,
      diskGiB: h.dataDiskGiB,
      headroom: ratio(h.siteSlots, sites),
      overloaded: sites * loadFactor > h.siteSlots,
      sitesList,
    };
  });

  const hypervisors: HypervisorStatus[] = sorted(outputs.hypervisors).map((hv) => {
    const own = hosts.filter((h) => h.hypervisor === hv.name);
    const amounts = empty();
    const normal = { vcpu: 0, memoryMiB: 0 };
    for (const h of own) {
      add(amounts, h);
      const share = h.slots > 0 ? Math.min(1, h.sites / h.slots) : 1;
      normal.vcpu += h.vcpu * share;
      normal.memoryMiB += h.memoryMiB * share;
    }
    if (own.length !== hv.hostCount) warnings.push(`hypervisor ${hv.name}: hostCount is ${hv.hostCount}, but ${own.length} host(s) name it`);
    const overcommitted = amounts.vcpu > hv.capacity.vcpu || amounts.memoryMiB > hv.capacity.memoryMiB;
    // A hypervisor that already commits more than it has has no headroom at all.
    const headroom = overcommitted ? 0 : Math.min(ratio(hv.capacity.vcpu, normal.vcpu), ratio(hv.capacity.memoryMiB, normal.memoryMiB));
    return {
      name: hv.name,
      hosts: own.length,
      ...amounts,
      capacity: { ...hv.capacity },
      normal,
      headroom,
      overcommitted,
      overloaded: overcommitted || normal.vcpu * loadFactor > hv.capacity.vcpu || normal.memoryMiB * loadFactor > hv.capacity.memoryMiB,
    };
  });

  const tierMap = new Map<string, TierStatus>();
  for (const h of hosts) {
    const t = tierMap.get(h.tier) ?? { name: h.tier, hosts: 0, ...empty() };
    t.hosts += 1;
    add(t, h);
    tierMap.set(h.tier, t);
  }
  const tiers = [...tierMap.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const total = { hosts: hosts.length, hypervisors: hypervisors.length, capacity: { vcpu: 0, memoryMiB: 0 }, ...empty() };
  for (const h of hosts) add(total, h);
  for (const hv of hypervisors) {
    total.capacity.vcpu += hv.capacity.vcpu;
    total.capacity.memoryMiB += hv.capacity.memoryMiB;
  }
  return { loadFactor, hypervisors, hosts, tiers, total, warnings };
}

export function formatFactor(x: number): string {
  if (!Number.isFinite(x)) return "∞";
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`;
}

export const gib = (mib: number) => mib / 1024;
export function formatGiB(mib: number): string {
  const g = gib(mib);
  return Number.isInteger(g) ? String(g) : g.toFixed(1);
}
export const percent = (part: number, whole: number) => (whole <= 0 ? 0 : (100 * part) / whole);
