/**
 * The remote commands of one Moodle site: command lines of the site tool
 * (infra/host-tool/moodle-fleet-site) that the host bootstrap installed.
 * They carry only the site's own parameters, each one shell word; the logic
 * lives in the tool, once per host, so a site's state stays small and a new
 * tool version changes no site's command.
 *
 * Secrets reach the install on standard input only, one per line:
 *   line 1: the database password
 *   line 2: the Moodle admin password
 * The tool keeps them in unexported shell variables and in the site's 0600
 * passwords file on the host; no secret is ever a command argument or an
 * environment variable. The install prints the admin password back as the
 * last line of its standard output, `admin-password: <password>`.
 */
import { resolvePaths } from "./bash";
import { shellJoin } from "./quote";
import { siteToolPath } from "./site-tool";
import type { ScriptOptions, SiteScriptInput } from "./types";
import { validateSiteInput } from "./validate";

/** Stdin line order of {@link siteInstallCommand}. */
export const SITE_INSTALL_STDIN = ["dbPassword", "adminPassword"] as const;

/** Builds the install's standard input from the two secrets. */
export function siteInstallStdin(secrets: { dbPassword: string; adminPassword: string }): string {
  for (const [k, v] of Object.entries(secrets)) {
    if (v === "" || /[\r\n\0]/.test(v)) throw new Error(`${k} must be non-empty and free of line breaks and NUL`);
  }
  return `${secrets.dbPassword}\n${secrets.adminPassword}\n`;
}

/** Name of a site's pool, vhost, cron file and FastCGI backend, as the tool makes it. */
export function siteSlug(site: Pick<SiteScriptInput, "schoolId">): string {
  return `moodle-${site.schoolId}`;
}

/** The marker the tool writes once Moodle's installer has succeeded. */
export function siteMarkerPath(site: Pick<SiteScriptInput, "siteRoot">): string {
  return `${site.siteRoot}/.installed`;
}

/** The tool's flags for a site, in a fixed order: the same site gives the same command. */
function installFlags(site: SiteScriptInput): string[] {
  const flags: Array<[string, string | number | undefined]> = [
    ["school-id", site.schoolId],
    ["full-name", site.fullName],
    ["short-name", site.shortName],
    ["fqdn", site.fqdn],
    ["url", site.url],
    ["admin-user", site.adminUser],
    ["admin-email", site.adminEmail],
    ["site-user", site.linuxUser],
    ["site-uid", site.uid],
    ["db-name", site.dbName],
    ["db-user", site.dbUser],
    ["data-dir", site.dataDir],
    ["php-workers", site.phpWorkers],
    ["release-dir", site.releaseDir],
    ["release-id", site.releaseId],
    ["site-root", site.siteRoot],
    ["archive-dir", site.archiveDir],
  ];
  return flags.filter(([, v]) => v !== undefined).map(([k, v]) => `--${k}=${v}`);
}

/**
 * Installs the site, or brings a finished one up to date (its database and
 * data kept): `moodle-fleet-site install --print-admin-password
 * --school-id=… …`, every value one quoted shell word. Standard input:
 * {@link siteInstallStdin}. It keeps the passwords on the host and prints
 * the admin password, so that the host and the install's output can take
 * over from the stack's generated passwords. A finished
 * site that runs another release than `releaseId` is upgraded to it:
 * maintenance on, its code switched, Moodle's upgrade.php as the site's
 * user, maintenance off; a failed upgrade leaves it in maintenance and
 * fails the command. A downgrade is refused.
 */
export function siteInstallCommand(site: SiteScriptInput, opts?: ScriptOptions): string {
  validateSiteInput(site);
  return shellJoin([siteToolPath(resolvePaths(opts)), "install", "--print-admin-password", ...installFlags(site)]);
}

/**
 * Archives the site (database dump, data, settings) and removes it:
 * `moodle-fleet-site delete <schoolId>`. The tool finds everything else in
 * the parameters the site's install recorded on the host.
 */
export function siteDeleteCommand(site: SiteScriptInput, opts?: ScriptOptions): string {
  validateSiteInput(site);
  return shellJoin([siteToolPath(resolvePaths(opts)), "delete", site.schoolId]);
}
