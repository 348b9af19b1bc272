/**
 * The host bootstrap: prepares a Debian 12 VM for its Moodle sites.
 *
 * Standard input: when the host has TLS, the wildcard certificate's private
 * key (PEM), the whole of stdin; otherwise nothing (stdin is ignored).
 */
import { bashScript, resolvePaths } from "./bash";
import { dataDiskVars, dataMountOf, mysqlOnDataDiskSection, requireDataMountSection } from "./datadisk";
import { hostApacheConf, hostDefaultVhost, hostPhpIni, hostWwwPoolOverride, tlsFiles } from "./configs";
import { releaseConfigPhp } from "./php";
import { heredoc } from "./quote";
import type { HostScriptInput, ScriptOptions } from "./types";
import { validateHostInput } from "./validate";

/** Packages the sites cannot do without; installed when missing. */
export const REQUIRED_PACKAGES = [
  "apache2",
  "php-fpm",
  "php-cli",
  "php-apcu",
  "php-mysql",
  "mariadb-server",
  "redis-server",
] as const;

/** Packages Moodle wants (and php-redis for sessions in Redis); tried once per host, skipped when unavailable. */
export const OPTIONAL_PACKAGES = [
  "php-redis",
  "php-curl",
  "php-gd",
  "php-intl",
  "php-mbstring",
  "php-xml",
  "php-zip",
  "php-soap",
] as const;

/**
 * Bump when the release's layout as written by the bootstrap changes (e.g.
 * its config.php), so hosts refresh their release on the next run.
 */
const RELEASE_LAYOUT = 1;

/** Identifies the wanted release; stored in `<releaseDir>/.release-id`. */
export function releaseId(host: HostScriptInput): string {
  const src =
    "git" in host.release
      ? `git ${host.release.git.url} ${host.release.git.branch}`
      : `tarball ${host.release.tarball.url} sha256:${host.release.tarball.sha256.toLowerCase()}`;
  const plugins = host.pluginBundle ? `plugins ${host.pluginBundle.url} sha256:${host.pluginBundle.sha256.toLowerCase()}` : "no plugins";
  return `${src}; ${plugins}; layout ${RELEASE_LAYOUT}`;
}

function fetchRelease(host: HostScriptInput): string {
  if ("git" in host.release) {
    return `if ! command -v git >/dev/null 2>&1; then apt_install git ca-certificates; fi
  git clone --quiet --depth 1 --single-branch --branch "$GIT_BRANCH" -- "$GIT_URL" "$STAGE/tree"
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
  # The plugin bundle's paths are relative to Moodle's root (mod/..., local/...).
  if ! command -v curl >/dev/null 2>&1; then apt_install curl ca-certificates; fi
  fetch "$PLUGINS_URL" "$STAGE/plugins.tar.gz" "$PLUGINS_SHA256"
  tar --extract --gzip --file "$STAGE/plugins.tar.gz" --directory "$STAGE/tree" --no-same-owner --no-same-permissions`;
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
    ["RELEASE_ID", releaseId(host)],
    ["PHP_ETC", paths.phpEtcDir],
    ["APACHE_DIR", paths.apacheDir],
    ["STATE_DIR", paths.stateDir],
    ["LOCK_FILE", `${paths.lockDir}/moodle-fleet-config.lock`],
    ["TLS_DIR", paths.tlsDir],
  ];
  if ("git" in host.release) {
    vars.push(["GIT_URL", host.release.git.url], ["GIT_BRANCH", host.release.git.branch]);
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
for P in ${OPTIONAL_PACKAGES.join(" ")}; do
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
commit_files`,

    `# Apache: FastCGI to the site pools, the shared release, a catch-all vhost.
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

    `# The Moodle release, fetched once per host into a staging directory next
# to RELEASE_DIR and swapped in when complete; root-owned and read-only.
CURRENT_RELEASE=""
if [ -f "$RELEASE_DIR/.release-id" ]; then CURRENT_RELEASE=$(cat -- "$RELEASE_DIR/.release-id"); fi
if [ "$CURRENT_RELEASE" = "$RELEASE_ID" ]; then
  log "Moodle release up to date in $RELEASE_DIR"
else
  log "fetching Moodle release: $RELEASE_ID"
  (umask 022 && mkdir -p -- "\${RELEASE_DIR%/*}")
  STAGE=$(mktemp -d -- "$RELEASE_DIR.stage.XXXXXX")
  CLEANUP+=("$STAGE")
  ${fetchRelease(host)}${fetchPlugins(host)}
  [ -f "$STAGE/tree/admin/cli/install_database.php" ] || die "the release has no admin/cli/install_database.php: not a Moodle tree"
  cat >"$STAGE/tree/config.php" ${heredoc(releaseConfigPhp()).trimEnd()}
  printf '%s\\n' "$RELEASE_ID" >"$STAGE/tree/.release-id"
  chown -R root:root -- "$STAGE/tree"
  find "$STAGE/tree" -type d -exec chmod 0755 {} +
  find "$STAGE/tree" -type f -exec chmod 0644 {} +
  if [ -e "$RELEASE_DIR" ]; then mv -- "$RELEASE_DIR" "$STAGE/previous"; fi
  mv -- "$STAGE/tree" "$RELEASE_DIR"
  log "Moodle release in place"
fi
log "host ready"`,
  ].filter((s) => s !== "");

  return bashScript({
    title: [
      `Prepare host ${host.hostName} (${host.fqdn}) for its Moodle sites.`,
      tls ? "Standard input: the TLS private key (PEM)." : "Standard input: unused.",
    ],
    tag: `host ${host.hostName}`,
    vars,
    fns: ["ensureDir", "putFile", "phpVersion", "lock", "reload", "packages", ...(!("git" in host.release) || host.pluginBundle ? (["fetch"] as const) : [])],
    body,
  });
}
