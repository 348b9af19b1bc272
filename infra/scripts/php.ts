/**
 * The release's config.php, which picks the site. Each site's own settings
 * (site-config.php) and the wrapper that runs Moodle's installer without the
 * admin password on the command line are the site tool's
 * (infra/host-tool/templates/site-config.php, install-wrapper.php).
 *
 * How one read-only copy of Moodle serves many sites
 * --------------------------------------------------
 * Moodle always loads `config.php` from its own code directory: its scripts
 * do `require(__DIR__ . '/../../config.php')` and friends. A per-site tree of
 * symlinks into the release does not help, because PHP resolves symlinks in
 * `__DIR__`/`__FILE__`, so every site would still land on the release's file.
 * Instead the release gets one small config.php (written by the host
 * bootstrap, {@link releaseConfigPhp}) that loads the site's settings from
 * the file named by the MOODLE_SITE_CONFIG environment variable
 * (`<siteRoot>/site-config.php`) and then Moodle's lib/setup.php. Each site's php-fpm pool sets that variable
 * (`env[...]`, a per-process variable that requests cannot override: it is
 * read with `getenv(name, true)`), and so do the site's cron job and install
 * command. The site's file lives in its siteRoot, 0640 root:<site user>,
 * and the pool's open_basedir keeps other sites' files out of reach. The code
 * stays shared, so opcache holds one compiled copy for all pools of the host.
 */

export const SITE_CONFIG_ENV = "MOODLE_SITE_CONFIG";

/** The release's config.php: loads the site config named by MOODLE_SITE_CONFIG, then Moodle. */
export function releaseConfigPhp(): string {
  return `<?php
// Moodle's config.php for a release shared by every site on this host
// (written by moodle-fleet). It holds no settings: each site's php-fpm pool,
// cron job and install command name the site's own settings file in the
// ${SITE_CONFIG_ENV} environment variable, and this file loads it.
// getenv(..., true) reads the process environment only, never a variable
// that came with a web request.

unset($CFG);
global $CFG;
$CFG = new stdClass();

$moodlefleetsite = getenv('${SITE_CONFIG_ENV}', true);
if (!is_string($moodlefleetsite)
        || !preg_match('~^(/[A-Za-z0-9_][A-Za-z0-9._-]*)+\\.php$~D', $moodlefleetsite)
        || !is_readable($moodlefleetsite)) {
    if (PHP_SAPI === 'cli') {
        fwrite(STDERR, "This Moodle release is shared by several sites: set ${SITE_CONFIG_ENV} to a site's settings file.\\n");
    } else {
        http_response_code(503);
        echo 'Site not configured.';
    }
    exit(1);
}
require($moodlefleetsite);
unset($moodlefleetsite);

// From Moodle 5.1 the code lives in public/ and config.php stays in the
// release's root (moodledev.io/docs/5.1/guides/restructure).
if (is_dir(__DIR__ . '/public')) {
    require_once(__DIR__ . '/public/lib/setup.php');
} else {
    require_once(__DIR__ . '/lib/setup.php');
}
`;
}
