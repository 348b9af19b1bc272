import type { DnsConfig, MoodleConfig, SshConfig, TlsConfig } from "../config/schema";

/** Fleet-wide settings the components need besides hypervisors, hosts and sites. */
export interface FleetSettings {
  domain: string;
  dns: DnsConfig;
  moodle: MoodleConfig;
  /** Absent: sites are served over http. */
  tls?: TlsConfig;
  ssh: SshConfig;
  installsPerHost: number;
  vmShutdownTimeoutSeconds: number;
  protectData: boolean;
}

export type PlannedNetwork = { bridge: string } | { network: string };

export interface PlannedHypervisor {
  name: string;
  uri: string;
  pool: { name: string; path: string };
  baseImage: { source: string; format: "qcow2" | "raw"; kernelBoot?: { kernel: string; initrd: string; cmdline: string } };
  network: PlannedNetwork;
  domainType: "kvm" | "qemu";
  capacity: { vcpu: number; memoryMiB: number };
  /** Names of its host VMs, by number. */
  hosts: string[];
}

export interface PlannedHost {
  /** `<hypervisor>-vm<NN>`; also the VM's hostname. */
  name: string;
  hypervisor: string;
  number: number;
  tier: string;
  vcpu: number;
  memoryMiB: number;
  rootDiskGiB: number;
  /**
   * vcpu, memoryMiB, rootDiskGiB, dataDiskGiB and sitesPerHost come from the
   * host record (hosts.csv), written when the host was first placed: a tier
   * change never reaches an existing host. A host without a row (placed
   * before hosts were recorded) is sized from its tier until `fleet plan
   * --write` records it. A new host's data disk is tier.sitesPerHost *
   * tier.diskGiBPerSite: sized for a full VM, so adding a site never resizes it.
   */
  dataDiskGiB: number;
  /** Site slots: the planner places at most this many schools on the host. */
  sitesPerHost: number;
  phpWorkers: number;
  /** addresses.first + number - 1: fixed for the VM's lifetime. */
  address: string;
  prefixLength: number;
  gateway: string;
  nameservers: string[];
  /** School ids in ledger order. */
  sites: string[];
}

export interface PlannedSite {
  schoolId: string;
  name: string;
  town: string;
  email: string;
  tier: string;
  host: string;
  hypervisor: string;
  /** `<id>.<domain>` */
  fqdn: string;
  /** Moodle's wwwroot: https when a certificate is configured, else http; no trailing slash. */
  url: string;
  /** Owner of the site's files and php-fpm pool: `m<id>`. */
  linuxUser: string;
  /**
   * The site account's fixed user and group id (uids.csv beside the ledger,
   * SITE_UID_FIRST..SITE_UID_LAST): the same on every host and for good,
   * never chosen by install order. Absent only for a school placed before
   * UIDs were recorded and not yet given one by `fleet plan --write`.
   */
  uid?: number;
  /** `moodle_<id>` */
  dbName: string;
  /** `m<id>` */
  dbUser: string;
  /** `/srv/moodledata/<id>` */
  dataDir: string;
  adminUser: string;
  /**
   * Schools whose install this one waits for (zero or one): on each host the
   * k-th site in ledger order waits for the (k - installsPerHost)-th, so at
   * most installsPerHost install at once per host, and appending a site
   * never changes an existing site's chain.
   */
  installAfter: string[];
  /**
   * Repair requests for this school in the repair log (`fleet repair`): each
   * one makes the install's inputs differ, so `up` re-runs the install.
   */
  repairs: number;
}

/** Everything the Pulumi program declares, decided up front. Pure data, JSON-safe. */
export interface FleetPlan {
  settings: FleetSettings;
  /** By name. */
  hypervisors: PlannedHypervisor[];
  /** By hypervisor, then number. */
  hosts: PlannedHost[];
  /** By school id. */
  sites: PlannedSite[];
  hostsByName: Record<string, PlannedHost>;
  sitesById: Record<string, PlannedSite>;
}
