import type { School } from "../../schools/schema";
import { ipv4ToNumber, numberToIpv4, parseCidr } from "../config/ipv4";
import type { FleetConfig, HypervisorConfig } from "../config/schema";
import { parseHostName } from "../inputs/host-name";
import { compareText, InputError, type InputIssue } from "../inputs/issues";
import type { LedgerEntry } from "../inputs/ledger";
import { checkLedger, groupByHost } from "../inputs/ledger-check";
import { tierSizes, type HostSizes } from "../inputs/host-record";
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
  /**
   * The host record: sizes per placed host. A host in it is sized from it,
   * whatever its tier says now; a host missing from it from its tier.
   */
  hosts?: ReadonlyMap<string, { sizes: HostSizes }>;
  /** Site UIDs per school id (uids.csv). */
  uids?: ReadonlyMap<string, { uid: number }>;
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
    const sizes = inputs.hosts?.get(hostName)?.sizes ?? tierSizes(config.tiers[tierName]);
    hosts.push(plannedHost(hostName, number, hv, tierName, sizes, config, rows));
    rows.forEach((row, k) => {
      const waitFor = k - config.installsPerHost;
      const site = plannedSite(byId.get(row.schoolId)!, hostName, hypervisor, config, waitFor >= 0 ? [rows[waitFor].schoolId] : []);
      const uid = inputs.uids?.get(row.schoolId)?.uid;
      sites.push({ ...site, repairs: inputs.repairs?.get(row.schoolId) ?? 0, ...(uid === undefined ? {} : { uid }) });
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
      vmShutdownTimeoutSeconds: config.vmShutdownTimeoutSeconds,
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
  sizes: HostSizes,
  config: FleetConfig,
  rows: readonly LedgerEntry[],
): PlannedHost {
  return {
    name,
    hypervisor: hv.name,
    number,
    tier: tierName,
    vcpu: sizes.vcpu,
    memoryMiB: sizes.memoryMiB,
    rootDiskGiB: sizes.rootDiskGiB,
    dataDiskGiB: sizes.dataDiskGiB,
    sitesPerHost: sizes.sitesPerHost,
    // Not a size of the VM or a volume: a tier change reaches running hosts
    // through their configuration, with no data at stake.
    phpWorkers: config.tiers[tierName].phpWorkers,
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
): Omit<PlannedSite, "repairs" | "uid"> {
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
