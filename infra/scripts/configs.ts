/**
 * Configuration files for Apache, php-fpm, PHP and cron. Pure text; every
 * value that reaches them has passed validate.ts (plain names and paths), so
 * no line can be broken or extended by an input.
 */
import { SITE_CONFIG_ENV } from "./php";
import type { SiteScriptInput, SystemPaths } from "./types";

/** Name of a site's pool, vhost, cron file and FastCGI backend. */
export function siteSlug(site: Pick<SiteScriptInput, "schoolId">): string {
  return `moodle-${site.schoolId}`;
}

export function tlsFiles(paths: SystemPaths): { certificate: string; key: string } {
  return { certificate: `${paths.tlsDir}/wildcard.crt`, key: `${paths.tlsDir}/wildcard.key` };
}

/**
 * The site's own settings file. Not named config.php: it is not a complete
 * Moodle config (the release's config.php loads it and then Moodle), and
 * code that looks for "the config.php that was included" must find the
 * release's file, whose folder is the code's root.
 */
export function siteConfigPath(site: Pick<SiteScriptInput, "siteRoot">): string {
  return `${site.siteRoot}/site-config.php`;
}

export function siteSocket(site: SiteScriptInput, paths: SystemPaths): string {
  return `${paths.phpRunDir}/${siteSlug(site)}.sock`;
}

/** php-fpm pool of one site: own user, own socket, ondemand, confined to its directories. */
export function sitePoolConf(site: SiteScriptInput, paths: SystemPaths): string {
  // Trailing slashes: open_basedir entries are prefixes, and /srv/x/sites/1
  // would otherwise also admit /srv/x/sites/10.
  const basedir = [site.siteRoot, site.dataDir, site.releaseDir, "/tmp"].map((d) => `${d}/`).join(":");
  return `; php-fpm pool of Moodle site ${site.schoolId} (written by moodle-fleet)
[${siteSlug(site)}]
user = ${site.linuxUser}
group = ${site.linuxUser}
listen = ${siteSocket(site, paths)}
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = ondemand
pm.max_children = ${site.phpWorkers}
pm.process_idle_timeout = 30s
pm.max_requests = 1000
clear_env = yes
env[PATH] = /usr/local/bin:/usr/bin:/bin
env[${SITE_CONFIG_ENV}] = ${siteConfigPath(site)}
php_admin_value[open_basedir] = ${basedir}
php_admin_value[max_input_vars] = 5000
php_admin_flag[display_errors] = off
php_admin_flag[log_errors] = on
`;
}

function siteVhostBody(site: SiteScriptInput, paths: SystemPaths): string {
  return `    ServerName ${site.fqdn}
    DocumentRoot ${site.releaseDir}
    AcceptPathInfo On
    <FilesMatch "\\.php$">
        SetHandler "proxy:unix:${siteSocket(site, paths)}|fcgi://${siteSlug(site)}"
    </FilesMatch>`;
}

/** Apache vhost of one site. https sites redirect port 80 and use the host's wildcard certificate. */
export function siteVhostConf(site: SiteScriptInput, paths: SystemPaths): string {
  const head = `# Moodle site ${site.schoolId} (written by moodle-fleet)\n`;
  if (!site.url.startsWith("https://")) {
    return `${head}<VirtualHost *:80>\n${siteVhostBody(site, paths)}\n</VirtualHost>\n`;
  }
  const tls = tlsFiles(paths);
  return `${head}<VirtualHost *:80>
    ServerName ${site.fqdn}
    Redirect permanent / ${site.url}/
</VirtualHost>
<VirtualHost *:443>
${siteVhostBody(site, paths)}
    SSLEngine on
    SSLCertificateFile ${tls.certificate}
    SSLCertificateKeyFile ${tls.key}
</VirtualHost>
`;
}

/** The site's cron log, appended to by each run as the site's user and rotated by the host's logrotate. */
export function siteCronLog(site: Pick<SiteScriptInput, "schoolId">, paths: Pick<SystemPaths, "logDir">): string {
  return `${paths.logDir}/cron/${siteSlug(site)}.log`;
}

/**
 * Moodle's cron for one site, as the site's user, every minute. flock -n
 * keeps a slow run from piling up further ones; the output goes to the
 * site's own log, so a failing task shows somewhere.
 */
export function siteCronFile(site: SiteScriptInput, paths: Pick<SystemPaths, "logDir">): string {
  return `# Moodle cron of site ${site.schoolId} (written by moodle-fleet)
SHELL=/bin/sh
PATH=/usr/local/bin:/usr/bin:/bin
${SITE_CONFIG_ENV}=${siteConfigPath(site)}
* * * * * ${site.linuxUser} flock -n ${site.dataDir}/.cron.lock php ${site.releaseDir}/admin/cli/cron.php >>${siteCronLog(site, paths)} 2>&1
`;
}

/** Host-wide Apache settings for the shared release. */
export function hostApacheConf(releaseDir: string): string {
  return `# The Moodle release shared by every site on this host (written by moodle-fleet)
<Directory ${releaseDir}>
    Options FollowSymLinks
    AllowOverride None
    Require all granted
    DirectoryIndex index.php index.html
</Directory>
# Parts of Moodle's tree that are not meant to be served.
RedirectMatch 404 "/(\\.|vendor/|node_modules/|composer\\.(json|lock)|environment\\.xml|upgrade\\.txt|UPGRADING\\.md|db/install\\.xml|phpunit\\.xml|behat/|fixtures/)"
`;
}

/** Catch-all vhost: a request for a name no site claims is refused rather than served by the first site. */
export function hostDefaultVhost(serverName: string, tls: { certificate: string; key: string } | undefined): string {
  const deny = `    <Location "/">
        Require all denied
    </Location>`;
  let s = `# Requests for names that no site serves (written by moodle-fleet)
<VirtualHost *:80>
    ServerName ${serverName}
    DocumentRoot /var/www/html
${deny}
</VirtualHost>
`;
  if (tls) {
    s += `<VirtualHost *:443>
    ServerName ${serverName}
    DocumentRoot /var/www/html
    SSLEngine on
    SSLCertificateFile ${tls.certificate}
    SSLCertificateKeyFile ${tls.key}
${deny}
</VirtualHost>
`;
  }
  return s;
}

/**
 * PHP settings for Moodle: opcache large enough for its ~25k files (shared by
 * all pools), input vars as Moodle's environment check wants them. No APCu:
 * no cache store of the sites uses it, and one shared APCu segment without
 * per-site prefixes would mix the sites' data.
 */
export function hostPhpIni(): string {
  return `; PHP settings for Moodle (written by moodle-fleet)
max_input_vars = 5000
opcache.enable = 1
opcache.memory_consumption = 256
opcache.interned_strings_buffer = 16
opcache.max_accelerated_files = 32531
opcache.revalidate_freq = 60
`;
}

/**
 * Resizes Debian's default `www` pool: php-fpm reopens a pool section that
 * appears again, and pool.d is read in name order, so this file (read after
 * www.conf) overrides it without editing the packaged file.
 */
export function hostWwwPoolOverride(phpWorkers: number): string {
  return `; Default pool, kept small: sites have their own pools (written by moodle-fleet)
[www]
pm = ondemand
pm.max_children = ${phpWorkers}
pm.process_idle_timeout = 10s
`;
}
