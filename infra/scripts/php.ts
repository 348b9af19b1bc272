/**
 * The PHP files the fleet writes: the release's config.php (which picks the
 * site), each site's own config.php, and the wrapper that runs Moodle's
 * installer without the admin password on the command line.
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
import { phpQuote } from "./quote";
import type { SiteScriptInput } from "./types";

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

require_once(__DIR__ . '/lib/setup.php');
`;
}

/**
 * Prefix of the Redis keys of a site's sessions. The `:` cannot occur in a
 * school id, so no site's prefix is the beginning of another site's: the
 * site's Redis user (limited to `<prefix>*`) reaches its own keys only.
 */
export function sessionPrefix(site: Pick<SiteScriptInput, "schoolId">): string {
  return `moodle:${site.schoolId}:`;
}

/** The site's own Redis user (ACL), named like its pool and vhost. */
export function redisUser(site: Pick<SiteScriptInput, "schoolId">): string {
  return `moodle-${site.schoolId}`;
}

/**
 * Moodle's per-request directory: without it Moodle uses /tmp/requestdir,
 * which the first site to run creates with its own user and mode 02770, so
 * every other site on the host fails (invalid_dataroot_permissions).
 */
export function localRequestDir(site: Pick<SiteScriptInput, "dataDir">): string {
  return `${site.dataDir}/localrequest`;
}

/**
 * The site's config.php around its two secrets. The install script writes
 * `head`, then `$CFG->dbpass = '<escaped secret>';` built from standard
 * input, then the Redis password line built from the secret it keeps on the
 * host, then `tail`.
 */
export function siteConfigPhpParts(site: SiteScriptInput): { head: string; tail: string } {
  const head = `<?php
// Moodle settings of school ${site.schoolId} (written by moodle-fleet on every
// install run; edits here are overwritten). Loaded by the shared release's
// config.php, which then loads Moodle itself: do not require lib/setup.php.
$CFG->dbtype    = 'mariadb';
$CFG->dblibrary = 'native';
$CFG->dbhost    = 'localhost';
$CFG->dbname    = ${phpQuote(site.dbName)};
$CFG->dbuser    = ${phpQuote(site.dbUser)};
`;
  const tail = `$CFG->prefix    = 'mdl_';
$CFG->dboptions = [
    'dbpersist' => 0,
    'dbport' => '',
    'dbsocket' => '',
    'dbcollation' => 'utf8mb4_unicode_ci',
];
$CFG->wwwroot   = ${phpQuote(site.url)};
$CFG->dataroot  = ${phpQuote(site.dataDir)};
$CFG->admin     = 'admin';
$CFG->directorypermissions = 02770;
// Per site: Moodle's default (/tmp/requestdir) would be shared by all sites
// of the host and owned by whichever ran first.
$CFG->localrequestdir = ${phpQuote(localRequestDir(site))};

// Sessions in the host's Redis, as the site's own Redis user, which can
// reach only the keys under this prefix.
$CFG->session_handler_class = '\\core\\session\\redis';
$CFG->session_redis_host = '127.0.0.1';
$CFG->session_redis_port = 6379;
$CFG->session_redis_database = 0;
$CFG->session_redis_prefix = ${phpQuote(sessionPrefix(site))};
$CFG->session_redis_acquire_lock_timeout = 120;
$CFG->session_redis_lock_expire = 7200;
`;
  return { head, tail };
}

/** The dbpass line as the install script writes it (for tests and documentation). */
export function dbPassLine(escapedBody: string): string {
  return `$CFG->dbpass    = '${escapedBody}';\n`;
}

/** The Redis credentials line (user and password, as phpredis's auth() takes them). */
export function redisAuthLine(site: Pick<SiteScriptInput, "schoolId">, escapedPassword: string): string {
  return `$CFG->session_redis_auth = [${phpQuote(redisUser(site))}, '${escapedPassword}'];\n`;
}

/** The complete site settings file for given secrets (what the install script produces). */
export function siteConfigPhp(site: SiteScriptInput, dbPass: string, redisPass: string): string {
  const { head, tail } = siteConfigPhpParts(site);
  return head + dbPassLine(phpQuote(dbPass).slice(1, -1)) + redisAuthLine(site, phpQuote(redisPass).slice(1, -1)) + tail;
}

/**
 * Runs Moodle's admin/cli/install_database.php with `--adminpass=` taken from
 * the first line of standard input. The installer only takes the password as
 * an argument, and arguments are visible to every user (`ps`,
 * /proc/PID/cmdline); here the process is started without it and the
 * argument is appended to `$_SERVER['argv']` inside PHP, where Moodle's
 * cli_get_params() reads it.
 *
 * Usage: php install-wrapper.php /path/admin/cli/install_database.php --agree-license ... < password
 */
export function installWrapperPhp(): string {
  return `<?php
// Runs Moodle's install_database.php with the admin password read from
// standard input instead of the command line (written by moodle-fleet).
if (PHP_SAPI !== 'cli') {
    exit(1);
}
$moodlefleetscript = $_SERVER['argv'][1] ?? '';
if ($moodlefleetscript === '' || !is_file($moodlefleetscript)) {
    fwrite(STDERR, "install wrapper: no installer script given\\n");
    exit(2);
}
$moodlefleetpass = fgets(STDIN);
if (!is_string($moodlefleetpass)) {
    fwrite(STDERR, "install wrapper: no admin password on standard input\\n");
    exit(2);
}
if (substr($moodlefleetpass, -1) === "\\n") {
    $moodlefleetpass = substr($moodlefleetpass, 0, -1);
}
if ($moodlefleetpass === '') {
    fwrite(STDERR, "install wrapper: empty admin password\\n");
    exit(2);
}
$argv = array_merge([$moodlefleetscript], array_slice($_SERVER['argv'], 2), ['--adminpass=' . $moodlefleetpass]);
$argc = count($argv);
$_SERVER['argv'] = $argv;
$_SERVER['argc'] = $argc;
// As if the installer had been started directly.
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $_SERVER['PATH_TRANSLATED'] = $moodlefleetscript;
unset($moodlefleetpass);
chdir(dirname($moodlefleetscript));
require($moodlefleetscript);
`;
}
