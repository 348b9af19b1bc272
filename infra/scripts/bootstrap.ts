/**
 * The host bootstrap: prepares a Debian 12 VM for its Moodle sites.
 *
 * Standard input: when the host has TLS, the wildcard certificate's private
 * key (PEM), the whole of stdin; otherwise nothing (stdin is ignored).
 */
import { createHash } from "node:crypto";
import { assignments, bashScript, resolvePaths, staticFile } from "./bash";
import { dataDiskVars, dataMountOf, mysqlOnDataDiskSection, requireDataMountSection } from "./datadisk";
import { hostApacheConf, hostDefaultVhost, hostPhpIni, hostWwwPoolOverride, tlsFiles } from "./configs";
import { releaseConfigPhp } from "./php";
import { heredoc } from "./quote";
import { siteToolDigest, siteToolFiles, siteToolHostConfPath, siteToolPath, siteToolUploadDir } from "./site-tool";
import type { HostScriptInput, ScriptOptions, SystemPaths } from "./types";
import { validateHostInput } from "./validate";

/**
 * PHP extensions Moodle 4.5 to 5.1 require (admin/environment.xml, level
 * "required"): install_database.php runs this environment check and stops
 * with exit 1 when one is missing.
 */
export const MOODLE_REQUIRED_EXTENSIONS = [
  "iconv",
  "mbstring",
  "curl",
  "openssl",
  "ctype",
  "zip",
  "zlib",
  "gd",
  "simplexml",
  "spl",
  "pcre",
  "dom",
  "xml",
  "xmlreader",
  "intl",
  "json",
  "hash",
  "fileinfo",
  "sodium",
  "filter",
] as const;

/**
 * What the preflight checks for, in PHP's CLI and php-fpm: Moodle's list,
 * mysqli (Moodle's mariadb driver) and redis (the sites' sessions).
 */
export const PREFLIGHT_EXTENSIONS = [...MOODLE_REQUIRED_EXTENSIONS, "mysqli", "redis"] as const;

/** Moodle's environment check wants max_input_vars >= 5000 (required since PHP 8) and memory_limit >= 96M. */
export const MIN_INPUT_VARS = 5000;
export const MIN_MEMORY_MB = 96;

/**
 * Debian 12 packages that bring the extensions php-common lacks: php-xml
 * (dom, simplexml, xml, xmlreader), php-mbstring, php-intl, php-curl, php-gd,
 * php-zip; php-mysql (mysqli) and php-redis.
 */
export const PHP_EXTENSION_PACKAGES = ["php-xml", "php-mbstring", "php-intl", "php-curl", "php-gd", "php-zip", "php-mysql", "php-redis"] as const;

/** Packages the sites cannot do without; installed when missing, on every run until they are there. */
export const REQUIRED_PACKAGES = [
  "apache2",
  "php-fpm",
  "php-cli",
  ...PHP_EXTENSION_PACKAGES,
  "mariadb-server",
  "redis-server",
  // Rotates the sites' cron logs.
  "logrotate",
] as const;

/** Recommended by Moodle (soap for some web services); tried once per host, skipped when unavailable. */
export const OPTIONAL_PACKAGES = ["php-soap"] as const;

/** The fleet's own Redis user: defines the sites' users and deletes their keys. */
export const REDIS_ADMIN_USER = "moodle-fleet-admin";

/**
 * MariaDB connections a host needs: every PHP worker of every site holds at
 * most one (no persistent connections), each site's cron one more, the
 * default pool its workers, and a reserve for root, dumps and installs.
 */
export function mariadbMaxConnections(host: Pick<HostScriptInput, "phpWorkers" | "sitesPerHost">): number {
  const sites = host.sitesPerHost ?? DEFAULT_SITES_PER_HOST;
  return sites * (host.phpWorkers + 1) + host.phpWorkers + 20;
}

/** Used when HostScriptInput.sitesPerHost is not given: the fleet's largest tier. */
export const DEFAULT_SITES_PER_HOST = 50;

/**
 * Bump when the release's layout as written by the bootstrap changes (e.g.
 * its config.php): the release gets a new key, so hosts fetch it beside the
 * old one and every site is switched to it through Moodle's upgrade.
 */
const RELEASE_LAYOUT = 2;

/** What a release is made of, in words; stored as `<release>/.release-id`. */
export function releaseDescription(src: Pick<HostScriptInput, "release" | "pluginBundle">): string {
  const r = src.release;
  const code =
    "git" in r
      ? `git ${r.git.url} commit ${r.git.commit.toLowerCase()}${r.git.tag ? ` tag ${r.git.tag}` : ""}`
      : `tarball ${r.tarball.url} sha256:${r.tarball.sha256.toLowerCase()}`;
  const plugins = src.pluginBundle ? `plugins ${src.pluginBundle.url} sha256:${src.pluginBundle.sha256.toLowerCase()}` : "no plugins";
  return `${code}; ${plugins}; layout ${RELEASE_LAYOUT}`;
}

/**
 * The release's key: 16 hex digits of the SHA-256 of its description. It
 * names the release's directory on the host (`<releaseDir>/<key>`) and is
 * what a site's command says it should run.
 */
export function releaseId(src: Pick<HostScriptInput, "release" | "pluginBundle">): string {
  return createHash("sha256").update(releaseDescription(src)).digest("hex").slice(0, 16);
}

function fetchRelease(host: HostScriptInput): string {
  if ("git" in host.release) {
    // Only https and ssh (the config refuses the rest; this refuses git's
    // other transports, ext:: among them, whatever the URL says). A tag
    // given with the commit must resolve to it: a moved tag stops the run.
    return `if ! command -v git >/dev/null 2>&1; then apt_install git ca-certificates; fi
  git_pinned() { git -c protocol.allow=never -c protocol.https.allow=always -c protocol.ssh.allow=always -C "$STAGE/tree" "$@"; }
  git init --quiet -- "$STAGE/tree"
  git_pinned remote add origin "$GIT_URL"
  if [ -n "$GIT_TAG" ]; then
    git_pinned fetch --quiet --depth 1 origin "+refs/tags/$GIT_TAG:refs/tags/$GIT_TAG"
    TAGGED=$(git_pinned rev-parse --verify --quiet "refs/tags/$GIT_TAG^{commit}") || die "tag $GIT_TAG has no commit"
    [ "$TAGGED" = "$GIT_COMMIT" ] || die "tag $GIT_TAG is commit $TAGGED, not the pinned $GIT_COMMIT: refusing the release"
  else
    git_pinned fetch --quiet --depth 1 origin "$GIT_COMMIT"
  fi
  git_pinned -c advice.detachedHead=false checkout --quiet "$GIT_COMMIT"
  [ "$(git_pinned rev-parse HEAD)" = "$GIT_COMMIT" ] || die "the checkout is not commit $GIT_COMMIT"
  rm -rf -- "$STAGE/tree/.git"`;
  }
  return `if ! command -v curl >/dev/null 2>&1; then apt_install curl ca-certificates; fi
  fetch "$TARBALL_URL" "$STAGE/release.tar.gz" "$TARBALL_SHA256"
  mkdir -- "$STAGE/unpack"
  tar --extract --gzip --file "$STAGE/release.tar.gz" --directory "$STAGE/unpack" --no-same-owner --no-same-permissions
  # Moodle's tarballs hold a single top directory (moodle/): use its contents.
  shopt -s dotglob nullglob
  TOP=("$STAGE/unpack"/*)
  shopt -u dotglob nullglob
  if [ "\${#TOP[@]}" -eq 1 ] && [ -d "\${TOP[0]}" ]; then
    mv -- "\${TOP[0]}" "$STAGE/tree"
  else
    mv -- "$STAGE/unpack" "$STAGE/tree"
  fi`;
}

function fetchPlugins(host: HostScriptInput): string {
  if (!host.pluginBundle) return "";
  return `
  # The plugin bundle's paths are relative to Moodle's web root (mod/...,
  # local/...), which is public/ from Moodle 5.1 on.
  if ! command -v curl >/dev/null 2>&1; then apt_install curl ca-certificates; fi
  fetch "$PLUGINS_URL" "$STAGE/plugins.tar.gz" "$PLUGINS_SHA256"
  tar --extract --gzip --file "$STAGE/plugins.tar.gz" --directory "$(release_web_root "$STAGE/tree")" --no-same-owner --no-same-permissions`;
}

/**
 * Bash that prepares a host, run as root over SSH. Idempotent: packages are
 * installed only when missing (so a pre-baked image needs no network),
 * MariaDB's data is moved onto the data disk once (see datadisk.ts), the
 * release is fetched only when `.release-id` differs, configuration files
 * are rewritten only when their content changes. Without the data disk
 * mounted (HostScriptInput.dataMount), it stops before changing anything.
 */
export function hostBootstrapScript(host: HostScriptInput, opts?: ScriptOptions): string {
  validateHostInput(host);
  const paths = resolvePaths(opts);
  const tls = host.tls ? tlsFiles(paths) : undefined;
  const dataMount = dataMountOf(host);
  const modules = ["proxy_fcgi", "setenvif", "rewrite", "headers", ...(tls ? ["ssl"] : [])];

  const vars: Array<[string, string | number]> = [
    ["HOST_NAME", host.hostName],
    ["RELEASE_DIR", host.releaseDir],
    ["RELEASE_KEY", releaseId(host)],
    ["RELEASE_ID", releaseDescription(host)],
    ["PHP_ETC", paths.phpEtcDir],
    ["APACHE_DIR", paths.apacheDir],
    ["STATE_DIR", paths.stateDir],
    ["LOCK_FILE", `${paths.lockDir}/moodle-fleet-config.lock`],
    ["TLS_DIR", paths.tlsDir],
    ["PHP_EXTENSIONS", PREFLIGHT_EXTENSIONS.join(" ")],
    ["PHP_EXTENSION_PACKAGES", PHP_EXTENSION_PACKAGES.join(" ")],
    ["PHP_MIN_INPUT_VARS", MIN_INPUT_VARS],
    ["PHP_MIN_MEMORY_MB", MIN_MEMORY_MB],
    ["MYSQL_CONF_DIR", paths.mysqlConfDir],
    ["MAX_CONNECTIONS", mariadbMaxConnections(host)],
    ["REDIS_CONF", paths.redisConf],
    ["REDIS_FLEET_CONF", `${dirOf(paths.redisConf)}/moodle-fleet.conf`],
    ["REDIS_ACL_FILE", `${paths.redisDataDir}/moodle-fleet.acl`],
    ["REDIS_ADMIN_USER", REDIS_ADMIN_USER],
    ["REDIS_ADMIN_SECRET", `${paths.stateDir}/redis-admin.secret`],
    ["LOGROTATE_DIR", paths.logrotateDir],
    ["LOG_DIR", paths.logDir],
    ["FLEET_ETC", paths.fleetEtcDir],
    ["SITE_TOOL_DIR", paths.siteToolDir],
    ["SITE_TOOL_DIGEST", siteToolDigest()],
    ["SITE_TOOL_UPLOAD", siteToolUploadDir(paths)],
    ["SITE_TOOL_LINK", siteToolPath(paths)],
    ["SITE_TOOL_HOST_CONF", siteToolHostConfPath(paths)],
    ["SITES_DIR", `${paths.fleetEtcDir}/sites`],
  ];
  if ("git" in host.release) {
    vars.push(["GIT_URL", host.release.git.url], ["GIT_COMMIT", host.release.git.commit.toLowerCase()], ["GIT_TAG", host.release.git.tag ?? ""]);
  } else {
    vars.push(["TARBALL_URL", host.release.tarball.url], ["TARBALL_SHA256", host.release.tarball.sha256.toLowerCase()]);
  }
  if (dataMount !== null) vars.push(...dataDiskVars(paths, dataMount));
  if (host.pluginBundle) {
    vars.push(["PLUGINS_URL", host.pluginBundle.url], ["PLUGINS_SHA256", host.pluginBundle.sha256.toLowerCase()]);
  }

  const stdin = tls
    ? `# Standard input: the wildcard certificate's private key (PEM).
TLS_KEY=$(cat)
exec </dev/null
case "$TLS_KEY" in
  *"-----BEGIN "*"PRIVATE KEY-----"*"-----END "*"PRIVATE KEY-----"*) ;;
  *) die "standard input must carry the TLS private key (PEM)" ;;
esac`
    : `# No TLS on this host: standard input is not used.
exec </dev/null`;

  const body = [
    `export DEBIAN_FRONTEND=noninteractive`,
    stdin,

    `# Let cloud-init finish first (users, network, its own package runs).
# Exit code 2 means "degraded": done, with recoverable errors. Other
# failures are reported but do not stop us: this script installs and
# checks everything it needs itself.
if command -v cloud-init >/dev/null 2>&1; then
  log "waiting for cloud-init"
  CI_RC=0
  cloud-init status --wait >/dev/null || CI_RC=$?
  case $CI_RC in
    0) ;;
    2) log "cloud-init finished degraded (recoverable errors); continuing" ;;
    *)
      log "warning: cloud-init status exited with $CI_RC; continuing"
      cloud-init status --long >&2 || true
      ;;
  esac
fi`,

    dataMount !== null ? requireDataMountSection() : "",

    `# Packages: apt only for what is missing, so a pre-baked image works offline.
NEED=()
for P in ${REQUIRED_PACKAGES.join(" ")}; do
  pkg_installed "$P" || NEED+=("$P")
done
if [ "\${#NEED[@]}" -gt 0 ]; then
  log "installing \${NEED[*]}"
  apt_install "\${NEED[@]}"
fi
WANT=()
OPTIONAL=(${OPTIONAL_PACKAGES.join(" ")})
for P in "\${OPTIONAL[@]}"; do
  pkg_installed "$P" || WANT+=("$P")
done
ensure_dir "$STATE_DIR" 0755 root root
if [ "\${#WANT[@]}" -gt 0 ] && [ "$(cat -- "$STATE_DIR/optional-packages-tried" 2>/dev/null || true)" != "\${WANT[*]}" ]; then
  log "installing optional \${WANT[*]}"
  if ! apt_install "\${WANT[@]}"; then
    log "warning: could not install \${WANT[*]}; continuing without"
  fi
  printf '%s\\n' "\${WANT[*]}" >"$STATE_DIR/optional-packages-tried"
fi
PHP_VERSION=$(php_version) || die "php-fpm is not installed under $PHP_ETC"
systemctl enable --now apache2 mariadb redis-server "php$PHP_VERSION-fpm"`,

    dataMount !== null ? mysqlOnDataDiskSection(paths) : "",

    tls
      ? `# The wildcard certificate, and its key from standard input (0600).
ensure_dir "$TLS_DIR" 0755 root root
printf '%s\\n' "$TLS_KEY" | put_file "$TLS_DIR/wildcard.key" 0600 root root
put_file "$TLS_DIR/wildcard.crt" 0644 root root ${heredoc(host.tls!.certificate).trimEnd()}
commit_files`
      : "",

    `# PHP for Moodle, and the default pool kept small.
lock_config
CHANGED=0
for SAPI in fpm cli; do
  ensure_dir "$PHP_ETC/$PHP_VERSION/$SAPI/conf.d" 0755 root root
  put_file "$PHP_ETC/$PHP_VERSION/$SAPI/conf.d/90-moodle-fleet.ini" 0644 root root ${heredoc(hostPhpIni()).trimEnd()}
done
ensure_dir "$PHP_ETC/$PHP_VERSION/fpm/pool.d" 0755 root root
put_file "$PHP_ETC/$PHP_VERSION/fpm/pool.d/zz-moodle-fleet-www.conf" 0644 root root ${heredoc(hostWwwPoolOverride(host.phpWorkers)).trimEnd()}
"php-fpm$PHP_VERSION" -t >"$WORK/fpm-test" 2>&1 || { rollback_files; cat -- "$WORK/fpm-test" >&2; die "php-fpm rejected the configuration"; }
commit_files
unlock_config`,

    `# Preflight: what Moodle's installer insists on (extensions, max_input_vars,
# memory_limit), in the CLI and in php-fpm, before any site is installed.
cat >"$WORK/php-preflight.php" ${heredoc(staticFile("php-preflight.php")).trimEnd()}
php_preflight "$PHP_VERSION" "$WORK/php-preflight.php"
log "PHP $PHP_VERSION has what Moodle needs (CLI and php-fpm)"`,

    `# MariaDB: one connection per PHP worker of every planned site, plus cron
# and a reserve. Written for restarts and set at once (no restart needed).
ensure_dir "$MYSQL_CONF_DIR" 0755 root root
put_file "$MYSQL_CONF_DIR/90-moodle-fleet.cnf" 0644 root root ${heredoc(mariadbConf(host)).trimEnd()}
commit_files
printf '%s\n' "SET GLOBAL max_connections = $MAX_CONNECTIONS;" | mysql_root`,

    redisSection(),

    `# The sites' cron logs, rotated daily; each site's install creates its own
# file, writable by the site's user only.
ensure_dir "$LOG_DIR" 0755 root root
ensure_dir "$LOG_DIR/cron" 0755 root root
put_file "$LOGROTATE_DIR/moodle-fleet" 0644 root root ${heredoc(cronLogrotateConf(paths.logDir)).trimEnd()}
commit_files`,

    `# Apache: FastCGI to the site pools, the shared release, a catch-all vhost.
lock_config
a2enmod -q ${modules.join(" ")}
put_file "$APACHE_DIR/conf-available/moodle-fleet.conf" 0644 root root ${heredoc(hostApacheConf(host.releaseDir)).trimEnd()}
a2enconf -q moodle-fleet
put_file "$APACHE_DIR/sites-available/000-moodle-fleet-default.conf" 0644 root root ${heredoc(hostDefaultVhost(host.fqdn, tls)).trimEnd()}
a2ensite -q 000-moodle-fleet-default
if [ -e "$APACHE_DIR/sites-enabled/000-default.conf" ]; then a2dissite -q 000-default; fi
apachectl configtest >"$WORK/apache-test" 2>&1 || { rollback_files; cat -- "$WORK/apache-test" >&2; die "Apache rejected the configuration"; }
commit_files
reload_service "php$PHP_VERSION-fpm"
reload_service apache2
unlock_config`,

    `# The wanted Moodle release, fetched once per host into its own directory
# (<release dir>/<key>) beside the ones the sites run, through a staging
# directory that is renamed when complete; root-owned and read-only. Sites
# switch to it one by one, each through Moodle's upgrade (the site tool).
ensure_dir "$RELEASE_DIR" 0755 root root
WANT_DIR=$RELEASE_DIR/$RELEASE_KEY
CURRENT_RELEASE=""
if [ -f "$WANT_DIR/.release-id" ]; then CURRENT_RELEASE=$(cat -- "$WANT_DIR/.release-id"); fi
if [ "$CURRENT_RELEASE" = "$RELEASE_ID" ]; then
  log "Moodle release up to date in $WANT_DIR"
else
  log "fetching Moodle release $RELEASE_KEY: $RELEASE_ID"
  STAGE=$(mktemp -d -- "$RELEASE_DIR/.stage.XXXXXX")
  CLEANUP+=("$STAGE")
  ${fetchRelease(host)}${fetchPlugins(host)}
  [ -f "$(release_web_root "$STAGE/tree")/admin/cli/install_database.php" ] || die "the release has no admin/cli/install_database.php: not a Moodle tree"
  # Before anything of it is used: a release this host's PHP cannot run
  # never reaches a site.
  require_release_php "$STAGE/tree" "release $RELEASE_KEY"
  cat >"$STAGE/tree/config.php" ${heredoc(releaseConfigPhp()).trimEnd()}
  printf '%s\\n' "$RELEASE_ID" >"$STAGE/tree/.release-id"
  chown -R root:root -- "$STAGE/tree"
  find "$STAGE/tree" -type d -exec chmod 0755 {} +
  find "$STAGE/tree" -type f -exec chmod 0644 {} +
  # Only a directory no complete release left (an interrupted copy) can be
  # in the way: the key names the content.
  if [ -e "$WANT_DIR" ]; then mv -- "$WANT_DIR" "$STAGE/previous"; fi
  mv -- "$STAGE/tree" "$WANT_DIR"
  log "Moodle release $RELEASE_KEY in place"
fi
require_release_php "$WANT_DIR" "release $RELEASE_KEY"
# The host's wanted release: a site command that names none runs it.
printf '%s\\n' "$RELEASE_KEY" | put_file "$RELEASE_DIR/.current" 0644 root root
printf '%s\\n' "$RELEASE_ID" | put_file "$RELEASE_DIR/.release-id" 0644 root root
commit_files`,

    siteToolSection(paths),
    releaseCleanupSection(),
    `log "host ready"`,
  ].filter((s) => s !== "");

  return bashScript({
    title: [
      `Prepare host ${host.hostName} (${host.fqdn}) for its Moodle sites.`,
      tls ? "Standard input: the TLS private key (PEM)." : "Standard input: unused.",
    ],
    tag: `host ${host.hostName}`,
    vars,
    // The functions are the site tool's own lib.sh, from the copy checked
    // against the digest: the script's text (kept twice in the state) holds
    // only what is this host's.
    lib: { before: siteToolInstallSection(), source: '"$TOOL_NOW/lib.sh"' },
    body,
  });
}

/** The host configuration the site tool sources: its locations on this host, every value quoted. */
export function siteToolHostConf(paths: SystemPaths): string {
  return `# Locations of this host, for moodle-fleet-site (written by the host bootstrap)
${assignments([
  ["APACHE_DIR", paths.apacheDir],
  ["PHP_ETC", paths.phpEtcDir],
  ["PHP_RUN_DIR", paths.phpRunDir],
  ["CRON_DIR", paths.cronDir],
  ["TLS_DIR", paths.tlsDir],
  ["LOCK_FILE", `${paths.lockDir}/moodle-fleet-config.lock`],
  ["LOG_DIR", paths.logDir],
  ["SITES_DIR", `${paths.fleetEtcDir}/sites`],
  ["REDIS_ADMIN_USER", REDIS_ADMIN_USER],
  ["REDIS_ADMIN_SECRET", `${paths.stateDir}/redis-admin.secret`],
])}
`;
}

/**
 * The site tool, installed once per version, before anything else: the
 * script's shell functions are the tool's lib.sh, so this part has none of
 * them. The files uploaded beside this script by MoodleHost's copy step go
 * into a staging directory, are checked against the digest this script was
 * generated with, and move to `<siteToolDir>/<digest>`. A directory of that
 * digest is never written again. A missing or altered upload stops the
 * script before it changes anything on the host.
 */
function siteToolInstallSection(): string {
  const files = siteToolFiles();
  const executable = files.filter((f) => f.mode === 0o700).map((f) => `  chmod 0700 "$TOOL_STAGE/${f.path}"`);
  return `# The site tool of this version, from its upload, before anything else.
tool_fail() {
  printf '%s\\n' "moodle-fleet[$TAG]: error: $*" >&2
  exit 1
}
[ "$EUID" -eq 0 ] || tool_fail "must run as root"
TOOL_NOW=$SITE_TOOL_DIR/$SITE_TOOL_DIGEST
if [ ! -d "$TOOL_NOW" ]; then
  printf '%s\\n' "moodle-fleet[$TAG]: installing the site tool $SITE_TOOL_DIGEST" >&2
  (umask 022 && mkdir -p -- "$SITE_TOOL_DIR")
  chmod 0755 "$SITE_TOOL_DIR"
  chown root:root "$SITE_TOOL_DIR"
  [ -d "$SITE_TOOL_UPLOAD" ] || tool_fail "the site tool $SITE_TOOL_DIGEST was not uploaded to $SITE_TOOL_UPLOAD (the host's site-tool step copies it)"
  TOOL_STAGE=$(mktemp -d -- "$SITE_TOOL_DIR/.stage.XXXXXX")
  trap 'rm -rf -- "$TOOL_STAGE"' EXIT
  TOOL_FILES=(${files.map((f) => f.path).join(" ")})
  for TOOL_FILE in "\${TOOL_FILES[@]}"; do
    [ -f "$SITE_TOOL_UPLOAD/$TOOL_FILE" ] && [ ! -L "$SITE_TOOL_UPLOAD/$TOOL_FILE" ] || tool_fail "the site tool's files in $SITE_TOOL_UPLOAD do not match their digest ($TOOL_FILE is missing)"
    case $TOOL_FILE in */*) mkdir -p -- "$TOOL_STAGE/\${TOOL_FILE%/*}" ;; esac
    cp -- "$SITE_TOOL_UPLOAD/$TOOL_FILE" "$TOOL_STAGE/$TOOL_FILE"
    chmod 0600 "$TOOL_STAGE/$TOOL_FILE"
  done
${executable.join("\n")}
  TOOL_SUM=$(cd "$TOOL_STAGE" && sha256sum -- "\${TOOL_FILES[@]}" | sha256sum)
  [ "\${TOOL_SUM%% *}" = "$SITE_TOOL_DIGEST" ] || tool_fail "the site tool's files in $SITE_TOOL_UPLOAD do not match their digest"
  chmod 0755 "$TOOL_STAGE"
  mv -- "$TOOL_STAGE" "$TOOL_NOW"
  trap - EXIT
fi`;
}

/**
 * The site tool linked under its stable name, with the host configuration
 * it reads; uploads of other versions are removed.
 *
 * A new version then re-applies every site its sites directory records and
 * that another version last applied (`moodle-fleet-site reapply ID`), so a
 * changed tool reaches the sites through this one update per host, while
 * their own commands, which carry only their parameters, stay unchanged.
 * The re-apply needs no secret from the stack: a finished site's database
 * password is already on the host, in its site-config.php (0640
 * root:<site user>), and the tool copies that line as it is, without ever
 * putting it into an argument or the environment; the database account is
 * left alone. A site that never finished installing is skipped: its own
 * next install, which brings the secrets, finishes it. One site failing
 * does not stop the others; the bootstrap fails at the end, naming them,
 * and its next run retries only those (each site records the version that
 * last applied it).
 */
function siteToolSection(paths: SystemPaths): string {
  return `# The site tool and the host configuration it reads.
ensure_dir "$FLEET_ETC" 0755 root root
ensure_dir "$SITES_DIR" 0700 root root
put_file "$SITE_TOOL_HOST_CONF" 0644 root root ${heredoc(siteToolHostConf(paths)).trimEnd()}
commit_files
for UPLOAD in "\${SITE_TOOL_UPLOAD%/*}"/*; do
  [ -e "$UPLOAD" ] && [ "$UPLOAD" != "$SITE_TOOL_UPLOAD" ] || continue
  rm -rf -- "$UPLOAD"
done
if [ "$(readlink -- "$SITE_TOOL_LINK" || true)" != "$TOOL_NOW/moodle-fleet-site" ]; then
  ensure_dir "\${SITE_TOOL_LINK%/*}" 0755 root root
  ln -sfn -- "$TOOL_NOW/moodle-fleet-site" "$SITE_TOOL_LINK.new"
  mv -fT -- "$SITE_TOOL_LINK.new" "$SITE_TOOL_LINK"
  log "site tool $SITE_TOOL_DIGEST linked"
fi
REAPPLY_FAILED=()
for SPEC in "$SITES_DIR"/*.env; do
  [ -e "$SPEC" ] || continue
  SITE_ID=\${SPEC##*/}
  SITE_ID=\${SITE_ID%.env}
  APPLIED=""
  if [ -f "$SITES_DIR/$SITE_ID.applied" ]; then APPLIED=$(cat -- "$SITES_DIR/$SITE_ID.applied"); fi
  if [ "$APPLIED" != "$SITE_TOOL_DIGEST" ]; then
    log "re-applying site $SITE_ID with the site tool $SITE_TOOL_DIGEST"
    "$SITE_TOOL_LINK" reapply "$SITE_ID" || REAPPLY_FAILED+=("$SITE_ID")
  fi
done
for OLD_TOOL in "$SITE_TOOL_DIR"/*; do
  if [ -d "$OLD_TOOL" ] && [ "$OLD_TOOL" != "$TOOL_NOW" ]; then rm -rf -- "$OLD_TOOL"; fi
done
if [ "\${#REAPPLY_FAILED[@]}" -gt 0 ]; then
  die "the site tool could not re-apply site(s) \${REAPPLY_FAILED[*]} (see above); the next run retries them"
fi`;
}

/**
 * Releases no site runs or is being switched to, other than the wanted one,
 * are removed. A site's `<id>.release` records the code it was last
 * upgraded to and its recorded parameters the release it should run: both
 * stay. Only directories of this layout (a key holding .release-id) are
 * ever removed.
 */
function releaseCleanupSection(): string {
  return `# Releases no site uses any more.
for OLD_RELEASE in "$RELEASE_DIR"/*; do
  OLD_KEY=\${OLD_RELEASE##*/}
  [[ $OLD_KEY =~ ^[0-9a-f]{16}$ ]] && [ -d "$OLD_RELEASE" ] && [ -f "$OLD_RELEASE/.release-id" ] || continue
  [ "$OLD_KEY" != "$RELEASE_KEY" ] || continue
  IN_USE=no
  for RECORD in "$SITES_DIR"/*.release "$SITES_DIR"/*.env; do
    [ -f "$RECORD" ] || continue
    if grep -qxF -e "$OLD_RELEASE" -e "RELEASE_ID=$OLD_KEY" -- "$RECORD"; then IN_USE=yes; fi
  done
  if [ "$IN_USE" = no ]; then
    log "removing release $OLD_KEY: no site runs it"
    rm -rf -- "$OLD_RELEASE"
  fi
done`;
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/** MariaDB settings of a Moodle host (read after Debian's 50-server.cnf). */
export function mariadbConf(host: Pick<HostScriptInput, "phpWorkers" | "sitesPerHost">): string {
  return `# MariaDB for this host's Moodle sites (written by moodle-fleet)
[mysqld]
max_connections = ${mariadbMaxConnections(host)}
`;
}

/** logrotate for the sites' cron logs: copytruncate, because cron appends to them as the sites' users. */
export function cronLogrotateConf(logDir: string): string {
  return `# Moodle cron logs of this host's sites (written by moodle-fleet)
${logDir}/cron/*.log {
    daily
    rotate 14
    compress
    delaycompress
    missingok
    notifempty
    copytruncate
}
`;
}

/**
 * Redis with users: an ACL file Redis keeps (ACL SAVE rewrites it), the
 * default user switched off, and the fleet's admin user, whose password
 * (generated here, 0600 root) only ever reaches redis-cli on its standard
 * input. Sites get their own users, limited to their key prefix (site.ts).
 */
function redisSection(): string {
  return `# Redis: no anonymous access; the fleet's admin user, sites get their own.
REDIS_ADMIN_PASS=$(redis_secret "$REDIS_ADMIN_SECRET")
REDIS_ADMIN_HASH=$(sha256_hex "$REDIS_ADMIN_PASS")
REDIS_CHANGED=0
CHANGED=0
printf 'aclfile %s\n' "$REDIS_ACL_FILE" | put_file "$REDIS_FLEET_CONF" 0640 redis redis
REDIS_CHANGED=$CHANGED
if ! grep -qxF -- "include $REDIS_FLEET_CONF" "$REDIS_CONF"; then
  { cat -- "$REDIS_CONF"; printf 'include %s\n' "$REDIS_FLEET_CONF"; } | put_file "$REDIS_CONF" 0640 redis redis
  REDIS_CHANGED=1
fi
# The ACL file must hold the admin user with the current secret and the
# default user switched off; other lines (the sites' users) are kept.
if [ ! -f "$REDIS_ACL_FILE" ] ||
  ! grep -qE -- "^user $REDIS_ADMIN_USER( [^ ]+)* #$REDIS_ADMIN_HASH( |\$)" "$REDIS_ACL_FILE" ||
  ! grep -qE -- '^user default( [^ ]+)* off( |$)' "$REDIS_ACL_FILE"; then
  {
    if [ -f "$REDIS_ACL_FILE" ]; then grep -vE -- "^user ($REDIS_ADMIN_USER|default) " "$REDIS_ACL_FILE" || true; fi
    printf 'user default off resetchannels -@all\n'
    printf 'user %s on #%s ~* &* +@all\n' "$REDIS_ADMIN_USER" "$REDIS_ADMIN_HASH"
  } | put_file "$REDIS_ACL_FILE" 0640 redis redis
  REDIS_CHANGED=1
fi
commit_files
unset REDIS_ADMIN_PASS
if [ "$REDIS_CHANGED" = 1 ]; then
  log "restarting Redis with its users"
  systemctl restart redis-server
fi
redis_admin <<<'PING' | redis_expect OK PONG || die "Redis refuses the fleet's admin user"`;
}
