/**
 * Inputs of the script generators. They are plain data, decoupled from the
 * fleet plan: the component that declares a host or a site maps its plan
 * entry onto one of these. Everything here is non-secret; secrets travel on
 * the remote command's standard input (see bootstrap.ts and
 * infra/host-tool/moodle-fleet-site).
 */

/**
 * Where the Moodle code of a host comes from, pinned: a git commit (and the
 * tag that must resolve to it) or a tarball and its digest. Fetched once per
 * host and release.
 */
export type MoodleReleaseSource =
  | { git: { url: string; commit: string; tag?: string } }
  | { tarball: { url: string; sha256: string } };

/** A tar.gz of plugins, paths relative to the Moodle root (e.g. `mod/foo/…`), unpacked over the release. */
export interface PluginBundle {
  url: string;
  sha256: string;
}

export interface HostScriptInput {
  /** Short host name, a single DNS label, e.g. `moodle-vm-0007`. Also the cloud-init instance id. */
  hostName: string;
  /** Fully qualified host name, e.g. `moodle-vm-0007.hosts.example.org`. */
  fqdn: string;
  /** Static IPv4 or IPv6 address of eth0. */
  address: string;
  prefixLength: number;
  gateway: string;
  nameservers: readonly string[];
  /** DNS search domains (optional). */
  searchDomains?: readonly string[];
  /** The account Pulumi connects as. The generated scripts must run as root, so this is normally `root`. */
  sshUser: string;
  /** One OpenSSH public key line. */
  sshPublicKey: string;
  /**
   * php-fpm workers per site pool (the tier's phpWorkers); also the size of
   * the host's default pool (`www`).
   */
  phpWorkers: number;
  /**
   * Sites the host is planned for (the tier's sitesPerHost). Sizes MariaDB's
   * max_connections; default 50.
   */
  sitesPerHost?: number;
  release: MoodleReleaseSource;
  pluginBundle?: PluginBundle;
  /**
   * Where the host keeps its releases, e.g. `/srv/moodle/release`: one
   * read-only directory per release, `<releaseDir>/<release key>`, shared by
   * the sites that run it. Must not be a mount point.
   */
  releaseDir: string;
  /** The wildcard certificate (PEM, chain included). Its private key arrives on the bootstrap's standard input. */
  tls?: { certificate: string };
  /** IANA time zone, e.g. `Europe/Berlin`. */
  timezone: string;
  /**
   * Packages cloud-init installs at first boot. Defaults to the host's base
   * packages; pass `[]` for an image that already has them and no network
   * (cloud-init refreshes apt's lists before installing anything).
   */
  bootPackages?: readonly string[];
  /**
   * Mount point of the host's data disk (the VM's second disk, vdb), which
   * holds the sites' files and MariaDB's data. cloud-init gives a blank disk
   * an ext4 file system labelled `moodle-data` and mounts it here; the
   * bootstrap refuses to run when nothing is mounted here, and moves
   * MariaDB's data onto it. Default `/srv`; `null` for a host without a data
   * disk, where everything stays on the root disk.
   */
  dataMount?: string | null;
}

export interface SiteScriptInput {
  /** The school's id (e.g. the office number); names the pool, vhost, cron file and archives. */
  schoolId: string;
  /** The school's name, untrusted free text: it only ever reaches Moodle as a quoted argument. */
  fullName: string;
  /** Moodle's short site name (the school id). */
  shortName: string;
  /** The site's host name, e.g. `04123456.moodle.example.org`. */
  fqdn: string;
  /** Moodle's wwwroot, e.g. `https://04123456.moodle.example.org`. https needs the host's wildcard certificate. */
  url: string;
  adminUser: string;
  adminEmail: string;
  /** System user the site's PHP runs as. */
  linuxUser: string;
  dbName: string;
  dbUser: string;
  /** Moodle's dataroot, e.g. `/srv/moodle/data/04123456`. */
  dataDir: string;
  /** Size of the site's php-fpm pool (pm.max_children). */
  phpWorkers: number;
  /** Where the host keeps its releases, e.g. `/srv/moodle/release` (HostScriptInput.releaseDir). */
  releaseDir: string;
  /**
   * The release the site should run: its key ({@link releaseKey}, 16 hex
   * digits), a directory below releaseDir that the host bootstrap fetched.
   * A site that runs another one is upgraded to it (maintenance, Moodle's
   * upgrade.php, maintenance off). Optional: without it the site runs the
   * release the host's bootstrap fetched last.
   */
  releaseId?: string;
  /** Per-site directory holding config.php, e.g. `/srv/moodle/sites/04123456`. */
  siteRoot: string;
  /** Where the site's delete leaves its archives, e.g. `/srv/moodle/archive`. */
  archiveDir: string;
  /**
   * The site's Linux user id, the same on every host (from 1000). Optional:
   * without it, useradd picks the next free system id on the host.
   */
  uid?: number;
}

/**
 * System locations the scripts touch besides the ones named in the inputs.
 * Production uses {@link DEFAULT_SYSTEM_PATHS}; tests point them into a
 * sandbox.
 */
export interface SystemPaths {
  apacheDir: string;
  phpEtcDir: string;
  phpRunDir: string;
  cronDir: string;
  tlsDir: string;
  lockDir: string;
  /** Small state of the scripts themselves (e.g. which optional packages were tried). */
  stateDir: string;
  /** The file system table the data disk and MariaDB's bind mount are entered in. */
  fstab: string;
  /** MariaDB's data directory (datadir), bind-mounted from the data disk. */
  mysqlDataDir: string;
  /** Where local systemd unit drop-ins go. */
  systemdDir: string;
  /** MariaDB's server configuration drop-ins (read after Debian's own). */
  mysqlConfDir: string;
  /** Redis's main configuration file; the bootstrap adds one include line to it. */
  redisConf: string;
  /** Redis's own writable directory; holds the ACL file Redis rewrites on ACL SAVE. */
  redisDataDir: string;
  /** logrotate's drop-in directory. */
  logrotateDir: string;
  /** The fleet's logs on the host (the sites' cron logs below `cron/`). */
  logDir: string;
  /** The fleet's configuration on the host: the site tool's host.conf, each site's recorded parameters below `sites/`. */
  fleetEtcDir: string;
  /** Where the host bootstrap installs each version of the site tool, one directory per digest. */
  siteToolDir: string;
  /** Where the site tool's stable link goes. */
  sbinDir: string;
}

export const DEFAULT_SYSTEM_PATHS: Readonly<SystemPaths> = Object.freeze({
  apacheDir: "/etc/apache2",
  phpEtcDir: "/etc/php",
  phpRunDir: "/run/php",
  cronDir: "/etc/cron.d",
  tlsDir: "/etc/ssl/moodle-fleet",
  lockDir: "/run/lock",
  stateDir: "/var/lib/moodle-fleet",
  fstab: "/etc/fstab",
  mysqlDataDir: "/var/lib/mysql",
  systemdDir: "/etc/systemd/system",
  mysqlConfDir: "/etc/mysql/mariadb.conf.d",
  redisConf: "/etc/redis/redis.conf",
  redisDataDir: "/var/lib/redis",
  logrotateDir: "/etc/logrotate.d",
  logDir: "/var/log/moodle-fleet",
  // The site tool's built-in default for its host.conf is below this.
  fleetEtcDir: "/etc/moodle-fleet",
  siteToolDir: "/usr/local/lib/moodle-fleet/site-tool",
  sbinDir: "/usr/local/sbin",
});

export interface ScriptOptions {
  /** Overrides of system locations (tests only). */
  paths?: Partial<SystemPaths>;
}
