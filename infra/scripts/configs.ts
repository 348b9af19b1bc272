/**
 * Host-wide configuration files for Apache, php-fpm and PHP, written by the
 * host bootstrap (a site's own files are the site tool's templates, in
 * infra/host-tool/templates). Pure text; every value that reaches them has
 * passed validate.ts (plain names and paths), so no line can be broken or
 * extended by an input.
 */
import type { SystemPaths } from "./types";

export function tlsFiles(paths: SystemPaths): { certificate: string; key: string } {
  return { certificate: `${paths.tlsDir}/wildcard.crt`, key: `${paths.tlsDir}/wildcard.key` };
}

/** Host-wide Apache settings for the releases (releaseDir holds one directory per release). */
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
# A site still served from a release directory of the older layout (the
# releases' root itself) must not reach the releases fetched into it.
RedirectMatch 404 "^/[0-9a-f]{16}(/|$)"
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
