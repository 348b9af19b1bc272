import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { parseFleetConfig } from "../infra/config";
import { planPlacements } from "../infra/plan";
import { serializeLedger } from "../infra/inputs";

/**
 * A synthetic fleet of `schools` schools on hypervisors of 4 hosts × 50
 * sites each (4,000 schools: 20 hypervisors, 80 hosts), written as the same
 * three files an operator has: school list, ledger and stack config.
 */
export interface GeneratedFleet {
  dir: string;
  schoolsFile: string;
  ledgerFile: string;
  stackFile: string;
  /** The `config:` section of the stack file, key -> value. */
  config: Record<string, unknown>;
  hypervisors: string[];
}

export const SITES_PER_HOST = 50;
export const HOSTS_PER_HYPERVISOR = 4;

/** What the real-engine benchmark points at its own stand-ins (bench/real-engine/services.sh). */
export interface FleetOverrides {
  uri?: string;
  poolPath?: string;
  baseImageSource?: string;
  /** Replaces the standard tier's size (VMs that never boot an OS can be tiny). */
  tier?: { vcpu: number; memoryMiB: number; diskGiBPerSite: number; rootDiskGiB: number };
  /** Fewer sites per host than the standard 50, for small fleets that still span several hosts. */
  sitesPerHost?: number;
  /** More (or fewer) hosts per hypervisor than the standard 4, for one cell with more hosts. */
  hostsPerHypervisor?: number;
  /**
   * The host key every host presents (one sshd stands in for all of them),
   * pinned for each placed host as an operator pins a VM's own key.
   */
  hostKey?: string;
  /** VMs that boot no OS never shut down cleanly: their delete need not wait the default 300 s. */
  vmShutdownTimeoutSeconds?: number;
}

export function generateFleet(dir: string, schools: number, overrides: FleetOverrides = {}): GeneratedFleet {
  fs.mkdirSync(dir, { recursive: true });
  const sitesPerHost = overrides.sitesPerHost ?? SITES_PER_HOST;
  const hostsPerHypervisor = overrides.hostsPerHypervisor ?? HOSTS_PER_HYPERVISOR;
  const hypervisorCount = Math.ceil(schools / (sitesPerHost * hostsPerHypervisor));
  const hypervisors = Array.from({ length: hypervisorCount }, (_, k) => `hv${String(k + 1).padStart(2, "0")}`);
  const config = {
    "moodle-fleet:domain": "moodle.bench.example",
    "moodle-fleet:hypervisors": hypervisors.map((name, k) => ({
      name,
      uri: overrides.uri ?? `qemu+ssh://root@${name}.bench.example/system`,
      pool: { name: `bench-${name}`, path: `${overrides.poolPath ?? "/srv/pool"}/${name}` },
      baseImage: { source: overrides.baseImageSource ?? "/srv/images/base.qcow2", format: "qcow2" },
      network: { bridge: "br0" },
      addresses: {
        cidr: `10.${30 + Math.floor(k / 250)}.${k % 250}.0/24`,
        first: `10.${30 + Math.floor(k / 250)}.${k % 250}.10`,
        last: `10.${30 + Math.floor(k / 250)}.${k % 250}.250`,
        gateway: `10.${30 + Math.floor(k / 250)}.${k % 250}.1`,
        nameservers: ["10.29.0.53"],
      },
      capacity: { vcpu: 8 * hostsPerHypervisor, memoryMiB: 32768 * hostsPerHypervisor },
      domainType: "qemu",
    })),
    "moodle-fleet:tiers": {
      standard: {
        vcpu: 8,
        memoryMiB: 32768,
        diskGiBPerSite: 20,
        rootDiskGiB: 20,
        ...overrides.tier,
        sitesPerHost,
        phpWorkers: 8,
      },
    },
    "moodle-fleet:defaultTier": "standard",
    "moodle-fleet:dns": { server: "10.29.0.53", zone: "moodle.bench.example", tsigKeyName: "bench-key" },
    "moodle-fleet:moodle": { release: { git: { url: "https://git.bench.example/moodle.git", commit: "0123456789abcdef0123456789abcdef01234567" } } },
    "moodle-fleet:ssh": { user: "root" } as Record<string, unknown>,
    "moodle-fleet:protectData": false,
    ...(overrides.vmShutdownTimeoutSeconds !== undefined && { "moodle-fleet:vmShutdownTimeoutSeconds": overrides.vmShutdownTimeoutSeconds }),
    // No site is ever served: mocks, or the real-engine benchmark's sshd that runs nothing.
    "moodle-fleet:allowPlainHttp": true,
  };
  const rows = Array.from({ length: schools }, (_, k) => {
    const id = String(4_000_000 + k).padStart(8, "0");
    return { id, name: `Schule ${k + 1}`, town: "Stuttgart", email: `poststelle@${id}.schulen.example`, tier: "standard" };
  });
  const schoolsFile = path.join(dir, "schools.csv");
  fs.writeFileSync(schoolsFile, ["id,name,town,email,tier", ...rows.map((r) => `${r.id},${r.name},${r.town},${r.email},`)].join("\n") + "\n");
  const plain = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^moodle-fleet:/, ""), v]));
  const placed = planPlacements({
    schools: rows,
    config: parseFleetConfig(plain),
    ledger: { file: "ledger", entries: [], issues: [] },
  });
  const ledgerFile = path.join(dir, "placement.csv");
  fs.writeFileSync(ledgerFile, serializeLedger(placed.ledger));
  if (overrides.hostKey) {
    const hosts = [...new Set(placed.ledger.map((e) => e.host))];
    config["moodle-fleet:ssh"] = { user: "root", pinnedHostKeys: Object.fromEntries(hosts.map((h) => [h, overrides.hostKey])) };
  }
  const stackFile = path.join(dir, "Pulumi.bench.yaml");
  fs.writeFileSync(stackFile, stringify({ config }));
  return { dir, schoolsFile, ledgerFile, stackFile, config, hypervisors };
}
