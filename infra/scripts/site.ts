/**
 * The remote commands of one Moodle site: command lines of the site tool
 * (infra/host-tool/moodle-fleet-site) that the host bootstrap installed.
 * They carry only the site's own parameters, each one shell word; the logic
 * lives in the tool, once per host, so a site's state stays small and a new
 * tool version changes no site's command.
 *
 * The host makes and keeps each site's passwords (the site's 0600
 * passwords file), so a site's command carries no secret. An install made by
 * an older stack still has the stack's passwords on its standard input (the
 * database password, then the admin password, one per line); the tool takes
 * them only for a site that has no passwords file yet. No secret is ever a
 * command argument or an environment variable. The install prints the admin
 * password as the last line of its standard output, `admin-password:
 * <password>`, which the stack keeps as a secret for the mail-out.
 */
import { resolvePaths } from "./bash";
import { shellJoin } from "./quote";
import { siteToolPath } from "./site-tool";
import type { ScriptOptions, SiteScriptInput } from "./types";
import { validateSiteInput } from "./validate";

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
 * --school-id=… …`, every value one quoted shell word. Reads no
 * secret from the stack: the site's passwords are the host's (see above),
 * and the admin password comes back on standard output. A finished site that runs another release than `releaseId` is upgraded to it:
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

const ADMIN_PASSWORD_LINE = /^admin-password: (.+)$/;

/**
 * The admin password a finished install printed: its output's last
 * `admin-password:` line. Undefined for output without one (an install made
 * before the tool printed it, or a stdout that was never recorded).
 */
export function adminPasswordFromInstallOutput(stdout: string | undefined): string | undefined {
  const lines = (stdout ?? "").split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = ADMIN_PASSWORD_LINE.exec(lines[i]);
    if (match) return match[1];
  }
  return undefined;
}
