import type { FleetSettings, PlannedHost, PlannedSite } from "../plan";
import { releaseId, type HostScriptInput, type SiteScriptInput } from "../scripts";

/** Where each site's own files live on its host, next to the shared release. */
export const SITE_ROOT_BASE = "/srv/moodle/sites";
export const ARCHIVE_DIR = "/srv/moodle/archive";
export const TIMEZONE = "Europe/Berlin";

/** The host's plan entry in the terms of the script generators. */
export function hostScriptInput(host: PlannedHost, settings: FleetSettings, sshPublicKey: string): HostScriptInput {
  return {
    hostName: host.name,
    fqdn: `${host.name}.${settings.domain}`,
    address: host.address,
    prefixLength: host.prefixLength,
    gateway: host.gateway,
    nameservers: host.nameservers,
    sshUser: settings.ssh.user,
    sshPublicKey,
    phpWorkers: host.phpWorkers,
    // Sizes MariaDB's max_connections for a full host.
    sitesPerHost: host.sitesPerHost,
    release: hostRelease(settings),
    pluginBundle: settings.moodle.pluginBundle,
    releaseDir: settings.moodle.releaseDir,
    tls: settings.tls && { certificate: settings.tls.certificate },
    timezone: TIMEZONE,
    // The bootstrap installs whatever the image lacks; cloud-init only
    // configures, so a first boot needs no package mirror.
    bootPackages: [],
  };
}

function hostRelease(settings: FleetSettings): HostScriptInput["release"] {
  return settings.moodle.release.git ? { git: settings.moodle.release.git } : { tarball: settings.moodle.release.tarball! };
}

/** The site's plan entry in the terms of the script generators. */
export function siteScriptInput(site: PlannedSite, host: PlannedHost, settings: FleetSettings): SiteScriptInput {
  return {
    schoolId: site.schoolId,
    fullName: site.name,
    shortName: site.schoolId,
    fqdn: site.fqdn,
    url: site.url,
    adminUser: site.adminUser,
    adminEmail: site.email,
    linuxUser: site.linuxUser,
    // Fixed per school in the record beside the ledger, not by install order.
    ...(site.uid !== undefined && { uid: site.uid }),
    dbName: site.dbName,
    dbUser: site.dbUser,
    dataDir: site.dataDir,
    phpWorkers: host.phpWorkers,
    releaseDir: settings.moodle.releaseDir,
    // The release the site should run: a new one changes this site's command
    // (one update) and the tool upgrades the site to it. Settings without a
    // release (the image check's) leave the site on the host's current one.
    ...(settings.moodle.release && { releaseId: releaseId({ release: hostRelease(settings), pluginBundle: settings.moodle.pluginBundle }) }),
    siteRoot: `${SITE_ROOT_BASE}/${site.schoolId}`,
    archiveDir: ARCHIVE_DIR,
  };
}
