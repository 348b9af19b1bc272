/**
 * Install and delete scripts of one Moodle site on its host.
 *
 * Secrets reach the install script on standard input only, one per line:
 *   line 1: the database password
 *   line 2: the Moodle admin password
 * They stay in unexported shell variables and leave the script only through
 * pipes (SQL to MariaDB, the admin password to the installer wrapper) and the
 * site's settings file site-config.php (0640 root:<site user>, written
 * through a 0600 temporary file). No secret is ever a command argument or an environment variable.
 *
 * A third secret, the site's Redis password, is made on the host the first
 * time (`<siteRoot>/redis.secret`, 0600 root) and reaches Redis only as its
 * SHA-256 in an ACL rule on redis-cli's standard input.
 */
import { SQL_SESSION_PREAMBLE, bashScript, resolvePaths } from "./bash";
import { siteConfigPath, siteCronFile, siteCronLog, sitePoolConf, siteSlug, siteVhostConf } from "./configs";
import { REDIS_ADMIN_USER } from "./bootstrap";
import { SITE_CONFIG_ENV, installWrapperPhp, redisUser, sessionPrefix, siteConfigPhpParts } from "./php";
import { heredoc, phpQuote, shellQuote, sqlIdent, sqlQuote } from "./quote";
import type { ScriptOptions, SiteScriptInput, SystemPaths } from "./types";
import { validateSiteInput } from "./validate";

/** Stdin line order of {@link siteInstallScript}. */
export const SITE_INSTALL_STDIN = ["dbPassword", "adminPassword"] as const;

/** Builds the install script's standard input from the two secrets. */
export function siteInstallStdin(secrets: { dbPassword: string; adminPassword: string }): string {
  for (const [k, v] of Object.entries(secrets)) {
    if (v === "" || /[\r\n\0]/.test(v)) throw new Error(`${k} must be non-empty and free of line breaks and NUL`);
  }
  return `${secrets.dbPassword}\n${secrets.adminPassword}\n`;
}

/** The marker written once Moodle's installer has succeeded. */
export function siteMarkerPath(site: SiteScriptInput): string {
  return `${site.siteRoot}/.installed`;
}

function siteVars(site: SiteScriptInput, paths: SystemPaths): Array<[string, string | number]> {
  const slug = siteSlug(site);
  return [
    ["SCHOOL_ID", site.schoolId],
    ["SLUG", slug],
    ["SITE_USER", site.linuxUser],
    ["DB_NAME", site.dbName],
    ["DB_USER", site.dbUser],
    ["DATA_DIR", site.dataDir],
    ["SITE_ROOT", site.siteRoot],
    ["SITE_CONFIG", siteConfigPath(site)],
    ["MARKER", siteMarkerPath(site)],
    ["RELEASE_DIR", site.releaseDir],
    ["ARCHIVE_DIR", site.archiveDir],
    ["PHP_ETC", paths.phpEtcDir],
    ["APACHE_DIR", paths.apacheDir],
    ["VHOST_FILE", `${paths.apacheDir}/sites-available/${slug}.conf`],
    ["CRON_FILE", `${paths.cronDir}/${slug}`],
    ["CRON_LOG", siteCronLog(site, paths)],
    ["LOCK_FILE", `${paths.lockDir}/moodle-fleet-config.lock`],
    ["REDIS_USER", redisUser(site)],
    ["REDIS_PREFIX", sessionPrefix(site)],
    ["REDIS_SECRET", `${site.siteRoot}/redis.secret`],
    ["REDIS_ADMIN_USER", REDIS_ADMIN_USER],
    ["REDIS_ADMIN_SECRET", `${paths.stateDir}/redis-admin.secret`],
    ["MANIFEST", archiveManifest(site)],
  ];
}

/** What an archive of the site says about itself (manifest.txt). */
function archiveManifest(site: SiteScriptInput): string {
  return [
    `school: ${site.schoolId}`,
    `fqdn: ${site.fqdn}`,
    `url: ${site.url}`,
    `database: ${site.dbName} (database.sql, mysqldump --databases)`,
    `data directory: ${site.dataDir} (stored as ${site.dataDir.split("/").pop()}/)`,
    `settings: ${siteConfigPath(site)} (site-config.php)`,
  ].join("\n");
}

/**
 * The page Moodle serves (HTTP 503) instead of the site while
 * `<dataroot>/climaintenance.html` exists. The install script puts it there
 * before it resets a site and removes it once the site is installed and
 * served again; its first line tells the script's own file from one an
 * administrator put there.
 */
export const MAINTENANCE_MARK = "<!-- moodle-fleet: reinstalling -->";
export function maintenancePage(site: Pick<SiteScriptInput, "fqdn">): string {
  return `${MAINTENANCE_MARK}
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Maintenance</title></head>
<body><p>${site.fqdn} is being set up. Please try again in a few minutes.</p></body></html>
`;
}

/** The Redis ACL rule of a site: its own keys only, no channels, nothing that reads or changes other sites' data or the server. */
export function redisAclRule(site: Pick<SiteScriptInput, "schoolId">): string {
  // -@dangerous covers KEYS, FLUSHALL, FLUSHDB, CONFIG, ACL, MONITOR, CLIENT,
  // DEBUG and INFO; Moodle's handler reads INFO server, so it comes back.
  // SCAN and RANDOMKEY would list other sites' key names, which carry their
  // session ids.
  return `~${sessionPrefix(site)}* resetchannels +@all -@dangerous -@admin +info -scan -randomkey -select`;
}

/** SQL run by MariaDB's root: single statements, every name quoted. */
function sql(...statements: string[]): string {
  return `printf '%s\\n' ${statements.map(shellQuote).join(" ")} | mysql_root`;
}

function dbAccount(site: SiteScriptInput): string {
  return `${sqlQuote(site.dbUser)}@'localhost'`;
}

/** A printf format that puts the escaped secret into `template` at `%s` (nothing else is a directive). */
function secretPrintf(template: string, secretVar: string): string {
  const [before, after] = template.split("%s");
  if (after === undefined) throw new Error("secretPrintf: template needs %s");
  const fmt = `${before.replace(/%/g, "%%")}%s${after.replace(/%/g, "%%")}\\n`;
  return `printf ${shellQuote(fmt)} "$(sq_escape "$${secretVar}")"`;
}

/**
 * Bash that installs one site, run as root on the site's host after the host
 * bootstrap. Idempotent: a finished site (marker present and `mdl_config` in
 * its database) keeps its database and data, and only its configuration files
 * are brought up to date; anything else is reset and installed afresh.
 */
export function siteInstallScript(site: SiteScriptInput, opts?: ScriptOptions): string {
  validateSiteInput(site);
  const paths = resolvePaths(opts);
  const db = sqlIdent(site.dbName);
  const account = dbAccount(site);
  const { head, tail } = siteConfigPhpParts(site);
  const countConfigTable = `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${sqlQuote(site.dbName)} AND TABLE_NAME = 'mdl_config';`;
  const countRolesActive = `SELECT COUNT(*) FROM ${db}.mdl_config WHERE name = 'rolesactive' AND value = '1';`;
  const countTables = `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${sqlQuote(site.dbName)};`;

  const body = [
    `# Secrets, from standard input only: line 1 the database password, line 2
# the Moodle admin password.
DB_PASS=""
ADMIN_PASS=""
IFS= read -r DB_PASS || true
IFS= read -r ADMIN_PASS || true
exec </dev/null
[ -n "$DB_PASS" ] || die "standard input line 1 (database password) is empty"
[ -n "$ADMIN_PASS" ] || die "standard input line 2 (admin password) is empty"

[ -f "$RELEASE_DIR/admin/cli/install_database.php" ] || die "no Moodle release in $RELEASE_DIR: run the host bootstrap first"
PHP_VERSION=$(php_version) || die "no php-fpm under $PHP_ETC"
POOL_FILE="$PHP_ETC/$PHP_VERSION/fpm/pool.d/$SLUG.conf"
WRAPPER="$SITE_ROOT/install-wrapper.php"`,

    `# The site's own system account: runs its PHP and cron, cannot log in.
if ! getent passwd "$SITE_USER" >/dev/null; then
  log "creating user $SITE_USER"
  useradd --system --user-group --no-create-home --home-dir "$SITE_ROOT" --shell /usr/sbin/nologin "$SITE_USER"
fi
ensure_dir "$SITE_ROOT" 0750 root "$SITE_USER"
ensure_dir "$DATA_DIR" 0700 "$SITE_USER" "$SITE_USER"`,

    `# A finished site has the marker (written only after the installer
# succeeded) and a config table in its database with rolesactive set. Anything
# else is an earlier attempt that did not finish, or nothing at all. A
# failing query stops the script (set -e): an unreachable database never
# passes for an empty one.
INSTALLED=no
if [ -f "$MARKER" ]; then
  CONFIG_TABLES=$(${sql(countConfigTable)})
  ROLES_ACTIVE=0
  if [ "$CONFIG_TABLES" = 1 ]; then ROLES_ACTIVE=$(${sql(countRolesActive)}); fi
  if [ "$ROLES_ACTIVE" = 1 ]; then
    INSTALLED=yes
  else
    log "marker present but the database holds no finished install: reinstalling"
  fi
fi
if [ "$INSTALLED" = no ]; then
  # Visitors get Moodle's maintenance page (climaintenance.html, HTTP 503)
  # from now until the install has finished: with the vhost still live, an
  # empty database would send them into Moodle's web installer.
  rm -f -- "$CRON_FILE" "$MARKER"
  put_file "$MAINTENANCE" 0644 root root ${heredoc(maintenancePage(site)).trimEnd()}
  commit_files
  TABLES=$(${sql(countTables)})
  DATA_LEFT=$(find "$DATA_DIR" -mindepth 1 ! -path "$MAINTENANCE" -print -quit)
  if [ "$TABLES" != 0 ] || [ -n "$DATA_LEFT" ]; then
    WITH_DB=0
    if [ "$TABLES" != 0 ]; then WITH_DB=1; fi
    archive_site -reset "$WITH_DB"
    log "archived what an earlier attempt left to $ARCHIVE"
  fi
  log "resetting database $DB_NAME, $DATA_DIR and the site's sessions for a fresh install"
  REDIS_DELETED=$(redis_delete_prefix "$REDIS_PREFIX") || die "could not delete the site's Redis keys"
  log "deleted $REDIS_DELETED Redis keys"
  ${sql(`DROP DATABASE IF EXISTS ${db};`, `CREATE DATABASE ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`)}
  find "$DATA_DIR" -mindepth 1 ! -path "$MAINTENANCE" -delete
fi`,

    `# The site's Redis user, on every run: its own key prefix only, the
# password's hash in the rule (the password itself stays on this host).
REDIS_PASS=$(redis_secret "$REDIS_SECRET")
REDIS_HASH=$(sha256_hex "$REDIS_PASS")
{
  printf 'ACL SETUSER %s reset on #%s %s\\n' "$REDIS_USER" "$REDIS_HASH" ${shellQuote(redisAclRule(site))}
  printf 'ACL SAVE\\n'
} | redis_admin | redis_expect OK OK OK || die "Redis refused the site's user"`,

    `# The database account, on every run: keeps its password in line with the
# stack. The password travels in the SQL on MariaDB's standard input.
{
  printf '%s\\n' ${shellQuote(SQL_SESSION_PREAMBLE)}
  ${secretPrintf(`CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY '%s';`, "DB_PASS")}
  ${secretPrintf(`ALTER USER ${account} IDENTIFIED BY '%s';`, "DB_PASS")}
  printf '%s\\n' ${shellQuote(`GRANT ALL PRIVILEGES ON ${db}.* TO ${account};`)}
} | mysql_root`,

    `# site-config.php: the site's settings, loaded by the release's config.php
# through ${SITE_CONFIG_ENV}. Readable by root and the site's user only.
{
  printf '%s' ${shellQuote(head)}
  ${secretPrintf("$CFG->dbpass    = '%s';", "DB_PASS")}
  ${secretPrintf(`$CFG->session_redis_auth = [${phpQuote(redisUser(site))}, '%s'];`, "REDIS_PASS")}
  printf '%s' ${shellQuote(tail)}
} | put_file "$SITE_CONFIG" 0640 root "$SITE_USER"
commit_files`,

    `# Moodle's installer, as the site's user. The admin password goes to the
# wrapper on standard input; the wrapper hands it to install_database.php
# inside PHP, so it never appears in a process's arguments.
if [ "$INSTALLED" = no ]; then
  CLEANUP+=("$WRAPPER")
  put_file "$WRAPPER" 0640 root "$SITE_USER" ${heredoc(installWrapperPhp()).trimEnd()}
  commit_files
  log "running Moodle's installer"
  runuser -u "$SITE_USER" -- env "${SITE_CONFIG_ENV}=$SITE_CONFIG" php "$WRAPPER" \\
    "$RELEASE_DIR/admin/cli/install_database.php" --agree-license --lang=en \\
    "--adminuser=$ADMIN_USER" "--adminemail=$ADMIN_EMAIL" \\
    "--fullname=$FULL_NAME" "--shortname=$SHORT_NAME" <<<"$ADMIN_PASS"
  rm -f -- "$WRAPPER"
  date -u +%Y-%m-%dT%H:%M:%SZ | put_file "$MARKER" 0644 root root
  commit_files
  log "Moodle installed"
fi`,

    `# Serving: the site's php-fpm pool and Apache vhost. Written under the
# host's configuration lock and tested before any reload; a rejected
# configuration is rolled back so the host's other sites keep running.
lock_config
CHANGED=0
put_file "$POOL_FILE" 0644 root root ${heredoc(sitePoolConf(site, paths)).trimEnd()}
FPM_CHANGED=$CHANGED
CHANGED=0
put_file "$VHOST_FILE" 0644 root root ${heredoc(siteVhostConf(site, paths)).trimEnd()}
APACHE_CHANGED=$CHANGED
ENABLED_NOW=no
if [ ! -e "$APACHE_DIR/sites-enabled/$SLUG.conf" ]; then
  a2ensite -q "$SLUG"
  APACHE_CHANGED=1
  ENABLED_NOW=yes
fi
if [ "$FPM_CHANGED" = 1 ] && ! "php-fpm$PHP_VERSION" -t >"$WORK/fpm-test" 2>&1; then
  rollback_files
  cat -- "$WORK/fpm-test" >&2
  die "php-fpm rejected the pool; previous configuration restored"
fi
if [ "$APACHE_CHANGED" = 1 ] && ! apachectl configtest >"$WORK/apache-test" 2>&1; then
  rollback_files
  if [ "$ENABLED_NOW" = yes ]; then a2dissite -q "$SLUG"; fi
  cat -- "$WORK/apache-test" >&2
  die "Apache rejected the vhost; previous configuration restored"
fi
commit_files
if [ "$FPM_CHANGED" = 1 ]; then reload_service "php$PHP_VERSION-fpm"; fi
if [ "$APACHE_CHANGED" = 1 ]; then reload_service apache2; fi
unlock_config`,

    `# Moodle's cron, every minute as the site's user, into its own log.
ensure_dir "\${CRON_LOG%/*}" 0755 root root
if [ ! -e "$CRON_LOG" ]; then : >"$CRON_LOG"; fi
chmod 0640 "$CRON_LOG"
chown -- "$SITE_USER:$SITE_USER" "$CRON_LOG"
put_file "$CRON_FILE" 0644 root root ${heredoc(siteCronFile(site, paths)).trimEnd()}
commit_files`,

    `# Installed and served: out of maintenance, unless someone else put the
# site into it.
if [ -f "$MAINTENANCE" ] && IFS= read -r FIRST <"$MAINTENANCE" && [ "$FIRST" = ${shellQuote(MAINTENANCE_MARK)} ]; then
  rm -f -- "$MAINTENANCE"
  log "maintenance page removed"
fi
log "site ready"`,
  ];

  return bashScript({
    title: [`Install Moodle site ${site.schoolId} (${site.fqdn}).`, "Standard input: line 1 database password, line 2 admin password."],
    tag: `site ${site.schoolId}`,
    vars: [
      ...siteVars(site, paths),
      ["FULL_NAME", site.fullName],
      ["SHORT_NAME", site.shortName],
      ["ADMIN_USER", site.adminUser],
      ["ADMIN_EMAIL", site.adminEmail],
      ["MAINTENANCE", `${site.dataDir}/climaintenance.html`],
    ],
    fns: ["ensureDir", "putFile", "mysqlRoot", "sqEscape", "phpVersion", "lock", "reload", "redis", "archive"],
    body,
  });
}

/**
 * Bash that removes one site after archiving it: database dump, data
 * directory and site-config.php in `<archiveDir>/<schoolId>-<UTC time>.tar.gz`
 * (0600, directory 0700). Serving stops first, so the archive is consistent;
 * nothing is destroyed unless the archive was written. Every step tolerates
 * what an earlier, interrupted run already removed. Reads no standard input.
 */
export function siteDeleteScript(site: SiteScriptInput, opts?: ScriptOptions): string {
  validateSiteInput(site);
  const paths = resolvePaths(opts);
  const db = sqlIdent(site.dbName);
  const body = [
    `exec </dev/null
PHP_VERSION=$(php_version) || PHP_VERSION=""`,

    `# Stop serving: cron first, then vhost and pool, then the site's processes.
rm -f -- "$CRON_FILE"
lock_config
APACHE_CHANGED=0
FPM_CHANGED=0
if [ -L "$APACHE_DIR/sites-enabled/$SLUG.conf" ] || [ -e "$APACHE_DIR/sites-enabled/$SLUG.conf" ]; then
  a2dissite -q "$SLUG" || rm -f -- "$APACHE_DIR/sites-enabled/$SLUG.conf"
  APACHE_CHANGED=1
fi
if [ -e "$VHOST_FILE" ]; then
  rm -f -- "$VHOST_FILE"
  APACHE_CHANGED=1
fi
for POOL_FILE in "$PHP_ETC"/*/fpm/pool.d/"$SLUG.conf"; do
  if [ -e "$POOL_FILE" ]; then
    rm -f -- "$POOL_FILE"
    FPM_CHANGED=1
  fi
done
if [ "$FPM_CHANGED" = 1 ] && [ -n "$PHP_VERSION" ]; then
  reload_service "php$PHP_VERSION-fpm" || log "warning: could not reload php$PHP_VERSION-fpm"
fi
if [ "$APACHE_CHANGED" = 1 ]; then
  reload_service apache2 || log "warning: could not reload apache2"
fi
unlock_config
if getent passwd "$SITE_USER" >/dev/null && command -v pkill >/dev/null 2>&1; then
  pkill -KILL -u "$SITE_USER" || true
fi`,

    `# Archive whatever is left of the site.
DB_EXISTS=$(${sql(`SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlQuote(site.dbName)};`)})
ARCHIVE=""
if [ "$DB_EXISTS" = 1 ] || [ -f "$SITE_CONFIG" ] || [ -d "$DATA_DIR" ]; then
  archive_site "" "$DB_EXISTS"
  log "archived to $ARCHIVE"
else
  log "nothing left to archive"
fi`,

    `# The site's sessions and Redis user. Sessions expire by themselves and a
# later site with this id gets its user reset, so an unreachable Redis only
# warns.
if REDIS_DELETED=$(redis_delete_prefix "$REDIS_PREFIX"); then
  log "deleted $REDIS_DELETED Redis keys"
else
  log "warning: could not delete the site's Redis keys"
fi
REDIS_REPLIES=$(printf 'ACL DELUSER %s\\nACL SAVE\\n' "$REDIS_USER" | redis_admin) || REDIS_REPLIES=""
case $REDIS_REPLIES in
  $'OK\\n0\\nOK' | $'OK\\n1\\nOK') ;;
  *) log "warning: could not remove the site's Redis user" ;;
esac`,

    `# Remove the database, its account, the directories and the system user.
${sql(`DROP DATABASE IF EXISTS ${db};`, `DROP USER IF EXISTS ${dbAccount(site)};`)}
rm -rf -- "$DATA_DIR" "$SITE_ROOT"
rm -f -- "$CRON_LOG"
if getent passwd "$SITE_USER" >/dev/null; then userdel "$SITE_USER"; fi
if getent group "$SITE_USER" >/dev/null; then groupdel "$SITE_USER"; fi
log "site removed"`,
  ];

  return bashScript({
    title: [`Archive and remove Moodle site ${site.schoolId} (${site.fqdn}).`],
    tag: `delete ${site.schoolId}`,
    vars: siteVars(site, paths),
    fns: ["ensureDir", "putFile", "mysqlRoot", "phpVersion", "lock", "reload", "redis", "archive"],
    body,
  });
}
