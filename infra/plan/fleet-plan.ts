import type { School } from "../../schools/schema";
import { ipv4ToNumber, numberToIpv4, parseCidr } from "../config/ipv4";
import type { FleetConfig, HypervisorConfig } from "../config/schema";
import { parseHostName } from "../inputs/host-name";
import { compareText, InputError, type InputIssue } from "../inputs/issues";
import type { LedgerEntry } from "../inputs/ledger";
import { checkLedger, groupByHost } from "../inputs/ledger-check";
import type { FleetPlan, PlannedHost, PlannedHypervisor, PlannedNetwork, PlannedSite } from "./types";

export interface FleetPlanInputs {
  /** Valid school rows. */
  schools: readonly School[];
  config: FleetConfig;
  /** Placement ledger rows in file order. */
  ledger: readonly LedgerEntry[];
  /** Paths for messages. */
  files?: { schools?: string; ledger?: string };
  /** Repair requests per school id (the repair log); none when absent. */
  repairs?: ReadonlyMap<string, number>;
}

/** The inputs do not describe a complete, consistent fleet; `issues` says why and how to fix it. */
export class FleetPlanError extends InputError {
  constructor(issues: readonly InputIssue[]) {
    super(issues, "cannot build the fleet plan");
    this.name = "FleetPlanError";
  }
}

/**
 * Derives the whole fleet from validated inputs. Pure and deterministic.
 * Each site's values depend only on its school, its host and the config
 * (installAfter aside, which is per host by nature), so adding a school
 * changes nothing for the others.
 */
export function buildFleetPlan(inputs: FleetPlanInputs): FleetPlan {
  const { config, schools } = inputs;
  const issues = checkLedger(inputs.ledger, inputs.files?.ledger ?? "placement ledger", {
    config,
    schools,
    schoolsFile: inputs.files?.schools,
  });
  if (issues.length > 0) throw new FleetPlanError(issues);

  const byId = new Map(schools.map((s) => [s.id, s]));
  const hypervisorByName = new Map(config.hypervisors.map((h) => [h.name, h]));
  const hosts: PlannedHost[] = [];
  const sites: PlannedSite[] = [];

  for (const [hostName, rows] of groupByHost(inputs.ledger)) {
    // checkLedger guarantees a known hypervisor, a single tier and a free address.
    const { hypervisor, number } = parseHostName(hostName)!;
    const hv = hypervisorByName.get(hypervisor)!;
    const tierName = byId.get(rows[0].schoolId)!.tier;
    hosts.push(plannedHost(hostName, number, hv, tierName, config, rows));
    rows.forEach((row, k) => {
      const waitFor = k - config.installsPerHost;
      const site = plannedSite(byId.get(row.schoolId)!, hostName, hypervisor, config, waitFor >= 0 ? [rows[waitFor].schoolId] : []);
      sites.push({ ...site, repairs: inputs.repairs?.get(row.schoolId) ?? 0 });
    });
  }

  hosts.sort((a, b) => compareText(a.hypervisor, b.hypervisor) || a.number - b.number);
  sites.sort((a, b) => compareText(a.schoolId, b.schoolId));
  const hypervisors = [...config.hypervisors]
    .sort((a, b) => compareText(a.name, b.name))
    .map((hv) => plannedHypervisor(hv, hosts.filter((h) => h.hypervisor === hv.name).map((h) => h.name)));

  return {
    settings: {
      domain: config.domain,
      dns: structuredClone(config.dns),
      moodle: structuredClone(config.moodle),
      ...(config.tls === undefined ? {} : { tls: structuredClone(config.tls) }),
      ssh: structuredClone(config.ssh),
      installsPerHost: config.installsPerHost,
      protectData: config.protectData,
    },
    hypervisors,
    hosts,
    sites,
    hostsByName: Object.fromEntries(hosts.map((h) => [h.name, h])),
    sitesById: Object.fromEntries(sites.map((s) => [s.schoolId, s])),
  };
}

function plannedHypervisor(hv: HypervisorConfig, hosts: string[]): PlannedHypervisor {
  const network: PlannedNetwork = hv.network.bridge !== undefined ? { bridge: hv.network.bridge } : { network: hv.network.network! };
  return {
    name: hv.name,
    uri: hv.uri,
    pool: { ...hv.pool },
    baseImage: { ...hv.baseImage },
    network,
    domainType: hv.domainType,
    capacity: { ...hv.capacity },
    hosts,
  };
}

function plannedHost(
  name: string,
  number: number,
  hv: HypervisorConfig,
  tierName: string,
  config: FleetConfig,
  rows: readonly LedgerEntry[],
): PlannedHost {
  const tier = config.tiers[tierName];
  return {
    name,
    hypervisor: hv.name,
    number,
    tier: tierName,
    vcpu: tier.vcpu,
    memoryMiB: tier.memoryMiB,
    rootDiskGiB: tier.rootDiskGiB,
    dataDiskGiB: tier.sitesPerHost * tier.diskGiBPerSite,
    sitesPerHost: tier.sitesPerHost,
    phpWorkers: tier.phpWorkers,
    address: numberToIpv4(ipv4ToNumber(hv.addresses.first) + number - 1),
    prefixLength: parseCidr(hv.addresses.cidr)!.prefixLength,
    gateway: hv.addresses.gateway,
    nameservers: [...hv.addresses.nameservers],
    sites: rows.map((r) => r.schoolId),
  };
}

/** Everything here must come from the school, its host and the config only. */
function plannedSite(
  school: School,
  host: string,
  hypervisor: string,
  config: FleetConfig,
  installAfter: string[],
): Omit<PlannedSite, "repairs"> {
  const fqdn = `${school.id}.${config.domain.replace(/\.$/, "")}`;
  return {
    schoolId: school.id,
    name: school.name,
    town: school.town,
    email: school.email,
    tier: school.tier,
    host,
    hypervisor,
    fqdn,
    url: `${config.tls ? "https" : "http"}://${fqdn}`,
    linuxUser: `m${school.id}`,
    dbName: `moodle_${school.id}`,
    dbUser: `m${school.id}`,
    dataDir: `/srv/moodledata/${school.id}`,
    adminUser: config.moodle.adminUser,
    installAfter,
  };
}

/**
 * The part of a plan on some hypervisors, e.g. one cell (one stack per
 * hypervisor). Sites do not depend on each other across hosts, so the
 * subset is self-contained.
 */
export function selectHypervisors(plan: FleetPlan, names: readonly string[]): FleetPlan {
  const keep = new Set(names);
  const hosts = plan.hosts.filter((h) => keep.has(h.hypervisor));
  const sites = plan.sites.filter((s) => keep.has(s.hypervisor));
  return {
    settings: plan.settings,
    hypervisors: plan.hypervisors.filter((h) => keep.has(h.name)),
    hosts,
    sites,
    hostsByName: Object.fromEntries(hosts.map((h) => [h.name, h])),
    sitesById: Object.fromEntries(sites.map((s) => [s.schoolId, s])),
  };
}
