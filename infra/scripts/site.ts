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
 */
import { SQL_SESSION_PREAMBLE, bashScript, resolvePaths } from "./bash";
import { siteConfigPath, siteCronFile, sitePoolConf, siteSlug, siteVhostConf } from "./configs";
import { SITE_CONFIG_ENV, installWrapperPhp, siteConfigPhpParts } from "./php";
import { heredoc, shellQuote, sqlIdent, sqlQuote } from "./quote";
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
    ["LOCK_FILE", `${paths.lockDir}/moodle-fleet-config.lock`],
  ];
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
  log "resetting database $DB_NAME and $DATA_DIR for a fresh install"
  rm -f -- "$CRON_FILE" "$MARKER"
  ${sql(`DROP DATABASE IF EXISTS ${db};`, `CREATE DATABASE ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`)}
  find "$DATA_DIR" -mindepth 1 -delete
fi`,

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

    `# Moodle's cron, every minute as the site's user.
put_file "$CRON_FILE" 0644 root root ${heredoc(siteCronFile(site)).trimEnd()}
commit_files
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
    ],
    fns: ["ensureDir", "putFile", "mysqlRoot", "sqEscape", "phpVersion", "lock", "reload"],
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
  const manifest = [
    `school: ${site.schoolId}`,
    `fqdn: ${site.fqdn}`,
    `url: ${site.url}`,
    `database: ${site.dbName} (database.sql, mysqldump --databases)`,
    `data directory: ${site.dataDir} (stored as ${site.dataDir.split("/").pop()}/)`,
    `settings: ${siteConfigPath(site)} (site-config.php)`,
  ].join("\n");

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
  ensure_dir "$ARCHIVE_DIR" 0700 root root
  STAGE=$(mktemp -d -- "$ARCHIVE_DIR/.$SCHOOL_ID.XXXXXX")
  CLEANUP+=("$STAGE")
  printf '%s\\n' ${shellQuote(manifest)} "archived: $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$STAGE/manifest.txt"
  ITEMS=(-C "$STAGE" manifest.txt)
  if [ "$DB_EXISTS" = 1 ]; then
    mysqldump --protocol=socket --user=root --single-transaction --quick --routines --triggers --events \\
      --default-character-set=utf8mb4 --databases "$DB_NAME" >"$STAGE/database.sql"
    ITEMS+=(database.sql)
  fi
  if [ -f "$SITE_CONFIG" ]; then ITEMS+=(-C "\${SITE_CONFIG%/*}" "\${SITE_CONFIG##*/}"); fi
  if [ -d "$DATA_DIR" ]; then ITEMS+=(-C "\${DATA_DIR%/*}" "\${DATA_DIR##*/}"); fi
  ARCHIVE="$ARCHIVE_DIR/$SCHOOL_ID-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
  if [ -e "$ARCHIVE" ]; then ARCHIVE="\${ARCHIVE%.tar.gz}-$$.tar.gz"; fi
  tar --create --gzip --file "$STAGE/archive.tar.gz" "\${ITEMS[@]}"
  chmod 0600 "$STAGE/archive.tar.gz"
  mv -- "$STAGE/archive.tar.gz" "$ARCHIVE"
  log "archived to $ARCHIVE"
else
  log "nothing left to archive"
fi`,

    `# Remove the database, its account, the directories and the system user.
${sql(`DROP DATABASE IF EXISTS ${db};`, `DROP USER IF EXISTS ${dbAccount(site)};`)}
rm -rf -- "$DATA_DIR" "$SITE_ROOT"
if getent passwd "$SITE_USER" >/dev/null; then userdel "$SITE_USER"; fi
if getent group "$SITE_USER" >/dev/null; then groupdel "$SITE_USER"; fi
log "site removed"`,
  ];

  return bashScript({
    title: [`Archive and remove Moodle site ${site.schoolId} (${site.fqdn}).`],
    tag: `delete ${site.schoolId}`,
    vars: siteVars(site, paths),
    fns: ["ensureDir", "mysqlRoot", "phpVersion", "lock", "reload"],
    body,
  });
}
