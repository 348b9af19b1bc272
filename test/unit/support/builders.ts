import type { School } from "../../../schools/schema";
import { parseFleetConfig } from "../../../infra/config/validate";
import type { FleetConfig, FleetConfigInput } from "../../../infra/config/schema";
import type { Ledger, LedgerEntry } from "../../../infra/inputs/ledger";
import type { FleetOutputs } from "../../../infra/outputs/schema";

export function hypervisor(name: string, octet: number, capacity = { vcpu: 32, memoryMiB: 131072 }) {
  return {
    name,
    uri: `qemu+ssh://root@${name}.example/system`,
    pool: { name: "moodle", path: "/srv/pool" },
    baseImage: { source: "/srv/images/base.qcow2", format: "qcow2" as const },
    network: { bridge: "br0" },
    addresses: {
      cidr: `10.20.${octet}.0/24`,
      first: `10.20.${octet}.10`,
      last: `10.20.${octet}.250`,
      gateway: `10.20.${octet}.1`,
      nameservers: ["10.20.0.53"],
    },
    capacity,
  };
}

/** A small valid config: two hypervisors, tiers small (3 sites) and standard (4 sites). */
export function configInput(overrides: Partial<FleetConfigInput> = {}): FleetConfigInput {
  return {
    domain: "moodle.schulen.example",
    hypervisors: [hypervisor("hv01", 1), hypervisor("hv02", 2)],
    tiers: {
      small: { vcpu: 2, memoryMiB: 4096, sitesPerHost: 3, diskGiBPerSite: 10, phpWorkers: 2, rootDiskGiB: 10 },
      standard: { vcpu: 4, memoryMiB: 8192, sitesPerHost: 4, diskGiBPerSite: 20, phpWorkers: 4, rootDiskGiB: 20 },
    },
    defaultTier: "standard",
    dns: { server: "10.20.0.53", zone: "schulen.example", tsigKeyName: "fleet-key" },
    moodle: { release: { git: { url: "https://git.example/moodle.git", commit: "0123456789abcdef0123456789abcdef01234567" } } },
    ssh: {},
    // The plans built here are never served; see test/unit/infra/config for the tls rule.
    allowPlainHttp: true,
    ...overrides,
  };
}

export function config(overrides: Partial<FleetConfigInput> = {}): FleetConfig {
  return parseFleetConfig(configInput(overrides));
}

export function school(id: string, tier = "standard", extra: Partial<School> = {}): School {
  return { id, name: `Schule ${id}`, town: "Ulm", email: `poststelle@${id}.schulen.example`, tier, ...extra };
}

export function ledger(rows: [string, string][], file = "placement.csv"): Ledger {
  const entries: LedgerEntry[] = rows.map(([schoolId, host], k) => ({ schoolId, host, line: k + 2 }));
  return { file, entries, issues: [] };
}

export function schoolId(n: number): string {
  return String(n).padStart(8, "0");
}

/** One cell's stack outputs: one host on hypervisor `hv` holding the given schools. */
export function cellOutputs(hv: string, ids: string[]): FleetOutputs {
  const host = `${hv}-vm01`;
  return {
    domain: "moodle.schulen.example",
    sites: Object.fromEntries(
      ids.map((id) => [
        id,
        { schoolId: id, name: `Schule ${id}`, town: "Ulm", email: `p@${id}.example`, tier: "standard", host, fqdn: `${id}.moodle.schulen.example`, url: `http://${id}.moodle.schulen.example`, adminUser: "admin" },
      ]),
    ),
    hosts: { [host]: { name: host, hypervisor: hv, address: "10.0.0.10", tier: "standard", vcpu: 8, memoryMiB: 32768, dataDiskGiB: 1000, siteSlots: 50, siteCount: ids.length } },
    hypervisors: { [hv]: { name: hv, capacity: { vcpu: 96, memoryMiB: 491520 }, hostCount: 1 } },
    adminPasswords: Object.fromEntries(ids.map((id) => [id, `pw-${id}`])),
  };
}
