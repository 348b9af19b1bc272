/**
 * A sandbox that runs the generated scripts and the site tool for real with bash, with PATH
 * holding nothing but stubs. Every external command a script runs is a stub
 * that records its argv, environment and (for some) standard input, so tests
 * can inspect exactly what reached which process. Commands with system-wide
 * effects (users, MariaDB, PHP, services, packages, downloads) only log and
 * simulate their effect in a state directory; plain file commands pass
 * through to the real binaries, but refuse absolute paths outside the
 * sandbox. A command without a stub fails ("command not found").
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  siteToolDigest,
  siteToolFiles,
  siteToolHostConf,
  siteToolHostConfPath,
  siteToolPath,
  siteToolUploadDir,
  type HostScriptInput,
  type SiteScriptInput,
  type SystemPaths,
} from "../../infra/scripts";

export interface Call {
  name: string;
  argv: string[];
  env: string[];
  stdin?: Buffer;
  extra: Record<string, string>;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The standard input a stack made before the host kept its sites' passwords
 * gave the site tool's install: the database password, then the admin
 * password, one per line. Installs made since have none (the host makes the
 * passwords), but those older installs keep theirs.
 */
export function stackPasswordsStdin(secrets: { dbPassword: string; adminPassword: string }): string {
  for (const [k, v] of Object.entries(secrets)) {
    if (v === "" || /[\r\n\0]/.test(v)) throw new Error(`${k} must be non-empty and free of line breaks and NUL`);
  }
  return `${secrets.dbPassword}\n${secrets.adminPassword}\n`;
}

/** The release key the sandbox's sites run, and the commit its hosts pin. */
export const RELEASE_KEY = "0123456789abcdef";
export const RELEASE_COMMIT = "0123456789abcdef0123456789abcdef01234567";

const binaries = new Map<string, string>();

/** Looks the real binaries up with one shell: one process per name is slow on a busy machine. */
function resolveBinaries(names: readonly string[]): void {
  const missing = names.filter((n) => !binaries.has(n));
  if (missing.length === 0) return;
  const out = execFileSync("bash", ["-c", 'for n in "$@"; do printf "%s\\t%s\\n" "$n" "$(command -v "$n")"; done', "-", ...missing], {
    encoding: "utf8",
  });
  for (const line of out.split("\n")) {
    const [name, path] = line.split("\t");
    if (path?.startsWith("/")) binaries.set(name, path);
  }
}

function realBinary(name: string): string {
  resolveBinaries([name]);
  const p = binaries.get(name);
  if (p === undefined) throw new Error(`no ${name} binary on this machine`);
  return p;
}

const PASSTHROUGH = ["env", "date", "cmp", "mktemp", "flock", "sha256sum", "touch", "id", "base64", "gzip", "grep", "awk", "tail", "sh", "od", "tr", "readlink", "stat"];
const GUARDED = ["rm", "mv", "cp", "chmod", "mkdir", "find", "tar", "ln", "blkid", "mkfs.ext4"];

const STUB_HEAD = (name: string) => `#!/bin/bash
set -u
__n=${name}
__d="$SBX_ROOT/log/$(${realBinary("date")} +%s%N)-$$-$__n"
${realBinary("mkdir")} -p "$__d"
printf '%s\\0' "$__n" "$@" >"$__d/argv"
${realBinary("env")} -0 >"$__d/env"
`;

const R = (n: string) => realBinary(n);

/** Bodies of the log-and-simulate stubs. $__d is the call's log directory, $S the state directory. */
function simulatedStubs(): Record<string, string> {
  const cat = R("cat");
  const mkdir = R("mkdir");
  const rm = R("rm");
  const ln = R("ln");
  const stat = R("stat");
  const touch = R("touch");
  const cp = R("cp");
  return {
    mysql: `${cat} >"$__d/stdin"
[ -e "$S/mysql_fail" ] && exit 1
sql=$(${cat} "$__d/stdin")
case "$sql" in
  *"name = 'version'"*) ${cat} "$S/db_version" 2>/dev/null || echo 2024100700.00 ;;
  *information_schema.TABLES*) ${cat} "$S/config_tables" 2>/dev/null || echo 0 ;;
  *rolesactive*) ${cat} "$S/config_tables" 2>/dev/null || echo 0 ;;
  *information_schema.SCHEMATA*) ${cat} "$S/db_exists" 2>/dev/null || echo 0 ;;
esac
case "$sql" in *"DROP DATABASE"*) echo 0 >"$S/config_tables"; echo 0 >"$S/db_exists" ;; esac
case "$sql" in *"CREATE DATABASE"*) echo 1 >"$S/db_exists" ;; esac
exit 0`,
    mysqldump: `[ -e "$S/mysqldump_fail" ] && exit 2
echo "-- dump of the last argument: \${!#}"`,
    // php-preflight.php: exits 1 with $S/preflight_<cli|fpm> as its complaint when that file exists.
    // php -r (the version check) prints $S/php_full_version; upgrade.php
    // records whether the site's maintenance page was there and exits with
    // $S/upgrade_exit.
    php: `${cat} >"$__d/stdin"
if [ "\${1:-}" = -r ]; then ${cat} "$S/php_full_version" 2>/dev/null || echo 8.2.29; exit 0; fi
case "$*" in */admin/cli/upgrade.php*)
  data=$(${R("sed")} -n "s/^\\$CFG->dataroot  = '\\(.*\\)';$/\\1/p" "$MOODLE_SITE_CONFIG")
  if [ -e "$data/climaintenance.html" ]; then ${cp} "$data/climaintenance.html" "$__d/maintenance"; else echo none >"$__d/maintenance"; fi
  exit "$(${cat} "$S/upgrade_exit" 2>/dev/null || echo 0)" ;;
esac
for a in "$@"; do case $a in */php-preflight.php)
  ${cp} "$a" "$__d/preflight.php"
  for sapi in cli fpm; do
    if [ "$2" = "$sapi" ] || [ "\${4:-}" = "$sapi" ]; then
      if [ -e "$S/preflight_$sapi" ]; then ${cat} "$S/preflight_$sapi" >&2; exit 1; fi
    fi
  done
  exit 0 ;;
esac; done
if [ -e "\${1:-}" ]; then ${stat} -c '%a' "$1" >"$__d/arg1-mode"; fi
if [ -n "\${MOODLE_SITE_CONFIG:-}" ] && [ -e "$MOODLE_SITE_CONFIG" ]; then ${stat} -c '%a' "$MOODLE_SITE_CONFIG" >"$__d/config-mode"; fi
code=$(${cat} "$S/php_exit" 2>/dev/null || echo 0)
[ "$code" = 0 ] && echo 1 >"$S/config_tables"
exit "$code"`,
    runuser: `while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
shift
exec "$@"`,
    // Replies as redis-cli --raw prints them; users kept in $S/redis_users.
    "redis-cli": `${cat} >"$__d/stdin"
[ -e "$S/redis_fail" ] && exit 1
${mkdir} -p "$S/redis_users"
set -f
while IFS= read -r line; do
  set -- $line
  case "$1 \${2:-}" in
    "AUTH "*) if [ -e "$S/redis_auth_fail" ]; then echo "WRONGPASS invalid username-password pair or user is disabled."; else echo OK; fi ;;
    "PING "*) echo PONG ;;
    "ACL SETUSER") printf '%s\\n' "$line" >"$S/redis_users/$3"; echo OK ;;
    "ACL DELUSER") if [ -e "$S/redis_users/$3" ]; then ${rm} -f "$S/redis_users/$3"; echo 1; else echo 0; fi ;;
    "ACL SAVE") echo OK ;;
    "EVAL "*) if [ -s "$S/redis_keys" ]; then ${cat} "$S/redis_keys"; : >"$S/redis_keys"; else echo 0; fi ;;
    *) echo "ERR unknown command" ;;
  esac
done <"$__d/stdin"`,
    getent: `[ -e "$S/users/$2" ]`,
    useradd: `${mkdir} -p "$S/users"; ${touch} "$S/users/\${!#}"`,
    userdel: `${rm} -f "$S/users/$1"`,
    groupdel: `exit 0`,
    pkill: `exit 1`,
    chown: `for a in "$@"; do if [ -e "$a" ]; then ${stat} -c '%a %n' "$a" >>"$__d/modes"; fi; done
exit 0`,
    systemctl: `exit 0`,
    a2enmod: `exit 0`,
    a2enconf: `exit 0`,
    a2ensite: `for a in "$@"; do case $a in -*) ;; *) ${ln} -sfn "../sites-available/$a.conf" "$SBX_ROOT/etc/apache2/sites-enabled/$a.conf" ;; esac; done`,
    a2dissite: `for a in "$@"; do case $a in -*) ;; *) ${rm} -f "$SBX_ROOT/etc/apache2/sites-enabled/$a.conf" ;; esac; done`,
    apachectl: `[ ! -e "$S/apachectl_fail" ]`,
    "php-fpm8.2": `[ ! -e "$S/fpm_fail" ]`,
    // Mounts are simulated: $S/mounts lists the mount points, one a line.
    mountpoint: `[ -f "$S/mounts" ] && ${R("grep")} -qxF -- "\${!#}" "$S/mounts"`,
    mount: `[ -e "$S/mount_fail" ] && exit 32
printf '%s\\n' "\${!#}" >>"$S/mounts"`,
    udevadm: `exit 0`,
    "cloud-init": `if [ "\${1:-}" = status ] && [ "\${2:-}" = --wait ]; then exit "$(${cat} "$S/cloud_init_rc" 2>/dev/null || echo 0)"; fi
echo "status: done"`,
    "dpkg-query": `p=\${!#}
[ -e "$S/missing/$p" ] && exit 1
printf 'install ok installed'`,
    "apt-get": `[ -e "$S/apt_fail" ] && exit 100
if [ "$1" = install ]; then for a in "$@"; do ${rm} -f "$S/missing/$a"; done; fi
exit 0`,
    // A repository whose every commit is a small Moodle tree: checkout
    // writes it; rev-parse answers HEAD with the checked-out commit (or
    // $S/git_head) and a tag with $S/git_tag_commit.
    git: `[ -e "$S/git_fail" ] && exit 128
dir=""
while [ $# -gt 0 ]; do
  case $1 in
    -c) shift 2 ;;
    -C) dir=$2; shift 2 ;;
    *) break ;;
  esac
done
case $1 in
  init) ${mkdir} -p "\${!#}/.git" ;;
  remote|fetch) ;;
  checkout)
    dest=$dir
    ${mkdir} -p "$dest/admin/cli" "$dest/lib"
    echo '<?php // installer test double' >"$dest/admin/cli/install_database.php"
    echo '<?php // upgrade test double' >"$dest/admin/cli/upgrade.php"
    echo '<?php // setup test double' >"$dest/lib/setup.php"
    printf "<?php\\n\\$minimumversion = '%s';\\n" "$(${cat} "$S/php_minimum" 2>/dev/null || echo 8.1.0)" >"$dest/lib/phpminimumversionlib.php"
    printf '<?php\\n$version  = 2024100700.00;\\n' >"$dest/version.php"
    echo '<?php' >"$dest/index.php"
    printf '%s\\n' "\${!#}" >"$dest/.git/HEAD" ;;
  rev-parse)
    case "\${!#}" in
      HEAD) ${cat} "$S/git_head" 2>/dev/null || ${cat} "$dir/.git/HEAD" ;;
      *) ${cat} "$S/git_tag_commit" 2>/dev/null || exit 1 ;;
    esac ;;
  *) exit 1 ;;
esac`,
    nsupdate: `key=""; prev=""
for a in "$@"; do if [ "$prev" = -k ]; then key=$a; fi; prev=$a; done
${cat} >"$__d/stdin"
if [ -n "$key" ]; then ${stat} -c '%a' "$key" >"$__d/key-mode"; ${cp} "$key" "$__d/key-copy"; fi
[ ! -e "$S/nsupdate_fail" ]`,
    curl: `out=""; url=\${!#}
while [ $# -gt 0 ]; do if [ "$1" = --output ]; then out=$2; fi; shift; done
src="$S/fixtures/\${url##*/}"
[ -e "$src" ] || exit 22
${cp} "$src" "$out"`,
  };
}

/** Real commands, run as they are. `cat` also records the mode of the file its output goes to. */
function passthroughStubs(): Record<string, string> {
  const stat = R("stat");
  const readlink = R("readlink");
  const out: Record<string, string> = {};
  for (const n of PASSTHROUGH) {
    out[n] = `exec ${R(n)} "$@"`;
  }
  out.cat = `if [ -f "/proc/$$/fd/1" ]; then
  ${readlink} "/proc/$$/fd/1" >"$__d/stdout-path"
  ${stat} -L -c '%a' "/proc/$$/fd/1" >"$__d/stdout-mode"
fi
exec ${R("cat")} "$@"`;
  return out;
}

/** Real file commands that refuse absolute paths outside the sandbox. */
function guardedStubs(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of GUARDED) {
    out[n] = `for a in "$@"; do
  case $a in
    "$SBX_ROOT"/*|/dev/null) ;;
    /*) printf '%s\\0' "$__n" "$@" >>"$SBX_ROOT/violations"; exit 97 ;;
  esac
done
exec ${R(n)} "$@"`;
  }
  return out;
}

export class Sandbox {
  readonly root: string;
  readonly state: string;
  readonly paths: SystemPaths;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), "mfsbx"));
    this.state = join(this.root, "state");
    this.paths = {
      apacheDir: join(this.root, "etc/apache2"),
      phpEtcDir: join(this.root, "etc/php"),
      phpRunDir: join(this.root, "run/php"),
      cronDir: join(this.root, "etc/cron.d"),
      tlsDir: join(this.root, "etc/ssl/moodle-fleet"),
      lockDir: join(this.root, "run/lock"),
      stateDir: join(this.root, "var/lib/moodle-fleet"),
      fstab: join(this.root, "etc/fstab"),
      mysqlDataDir: join(this.root, "var/lib/mysql"),
      systemdDir: join(this.root, "etc/systemd/system"),
      mysqlConfDir: join(this.root, "etc/mysql/mariadb.conf.d"),
      redisConf: join(this.root, "etc/redis/redis.conf"),
      redisDataDir: join(this.root, "var/lib/redis"),
      logrotateDir: join(this.root, "etc/logrotate.d"),
      logDir: join(this.root, "var/log/moodle-fleet"),
      fleetEtcDir: join(this.root, "etc/moodle-fleet"),
      siteToolDir: join(this.root, "usr/local/lib/moodle-fleet/site-tool"),
      sbinDir: join(this.root, "usr/local/sbin"),
    };
    for (const d of [
      "bin",
      "log",
      "tmp",
      "home",
      "state/users",
      "state/missing",
      "state/fixtures",
      "etc/apache2/sites-available",
      "etc/apache2/sites-enabled",
      "etc/apache2/conf-available",
      "etc/php/8.2/fpm/pool.d",
      "etc/php/8.2/fpm/conf.d",
      "etc/php/8.2/cli/conf.d",
      "etc/cron.d",
      "run/php",
      "run/lock",
      "srv",
      "var/lib/mysql/mysql",
      "etc/systemd/system",
      "etc/mysql/mariadb.conf.d",
      "etc/redis",
      "var/lib/redis",
      "etc/logrotate.d",
    ]) {
      mkdirSync(join(this.root, d), { recursive: true });
    }
    // A host as cloud-init leaves it: the data disk mounted at <root>/srv,
    // MariaDB's data still on the root disk.
    writeFileSync(this.paths.fstab, "/dev/vda / ext4 errors=remount-ro 0 1\nLABEL=moodle-data /srv ext4 defaults,nofail 0 2\n");
    for (const [f, content] of [["ibdata1", "innodb\n"], ["mysql/user.frm", "users\n"]]) {
      writeFileSync(join(this.paths.mysqlDataDir, f), content);
      chmodSync(join(this.paths.mysqlDataDir, f), 0o660);
    }
    writeFileSync(join(this.state, "mounts"), `${join(this.root, "srv")}\n`);
    writeFileSync(this.paths.redisConf, "# Debian's redis.conf\nport 6379\n");
    this.uploadSiteTool();
    resolveBinaries(["bash", ...PASSTHROUGH, ...GUARDED]);
    const simulated = simulatedStubs();
    const stubs = { ...simulated, ...passthroughStubs(), ...guardedStubs() };
    for (const [name, body] of Object.entries(stubs)) {
      const head = STUB_HEAD(name) + (name in simulated ? 'S="$SBX_ROOT/state"\n' : "");
      writeFileSync(join(this.root, "bin", name), `${head}${body}\n`, { mode: 0o755 });
    }
  }

  /** A path inside the sandbox. */
  p(rel: string): string {
    return join(this.root, rel);
  }

  setState(name: string, value = ""): void {
    writeFileSync(join(this.state, name), value);
  }

  clearState(name: string): void {
    rmSync(join(this.state, name), { force: true });
  }

  /**
   * Runs a script with bash; stdin as given. The site tool finds the
   * sandbox's host.conf through MOODLE_FLEET_HOST_CONF. `env` adds to the
   * sandbox's few variables.
   */
  run(script: string, stdin = "", env: Record<string, string> = {}): RunResult {
    const file = join(this.root, `script-${Date.now()}-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(file, script);
    const r = spawnSync(R("bash"), [file], {
      input: stdin,
      env: {
        PATH: join(this.root, "bin"),
        HOME: join(this.root, "home"),
        TMPDIR: join(this.root, "tmp"),
        SBX_ROOT: this.root,
        MOODLE_FLEET_HOST_CONF: siteToolHostConfPath(this.paths),
        ...env,
      },
      encoding: "utf8",
      // A bootstrap run starts a few hundred stubs: minutes on a busy machine.
      timeout: 300_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Every stub call so far, in order. */
  calls(): Call[] {
    const dir = join(this.root, "log");
    return readdirSync(dir)
      .sort((a, b) => {
        const [ta, tb] = [BigInt(a.split("-")[0]), BigInt(b.split("-")[0])];
        return ta < tb ? -1 : ta > tb ? 1 : 0;
      })
      .map((entry) => {
        const d = join(dir, entry);
        const argv = readFileSync(join(d, "argv"), "utf8").split("\0").slice(0, -1);
        const env = readFileSync(join(d, "env"), "utf8").split("\0").slice(0, -1);
        const extra: Record<string, string> = {};
        for (const f of readdirSync(d)) {
          if (!["argv", "env", "stdin"].includes(f)) extra[f] = readFileSync(join(d, f), "utf8").trim();
        }
        const stdinFile = join(d, "stdin");
        return {
          name: argv[0],
          argv: argv.slice(1),
          env,
          stdin: existsSync(stdinFile) ? readFileSync(stdinFile) : undefined,
          extra,
        };
      });
  }

  callsOf(name: string): Call[] {
    return this.calls().filter((c) => c.name === name);
  }

  clearLog(): void {
    rmSync(join(this.root, "log"), { recursive: true, force: true });
    mkdirSync(join(this.root, "log"));
  }

  /** Calls of guarded commands that tried to leave the sandbox. */
  violations(): string {
    const f = join(this.root, "violations");
    return existsSync(f) ? readFileSync(f, "utf8").replace(/\0/g, " ") : "";
  }

  /** Site input whose directories lie in the sandbox. */
  site(overrides: Partial<SiteScriptInput> = {}): SiteScriptInput {
    const id = overrides.schoolId ?? "04123456";
    return {
      schoolId: id,
      fullName: "Grundschule Am Bach",
      shortName: id,
      fqdn: `${id}.moodle.example.org`,
      url: `https://${id}.moodle.example.org`,
      adminUser: "admin",
      adminEmail: "admin@example.org",
      linuxUser: `m${id}`,
      dbName: `moodle_${id}`,
      dbUser: `moodle_${id}`,
      dataDir: this.p(`srv/moodle/data/${id}`),
      phpWorkers: 4,
      releaseDir: this.p("srv/moodle/release"),
      releaseId: RELEASE_KEY,
      siteRoot: this.p(`srv/moodle/sites/${id}`),
      archiveDir: this.p("srv/moodle/archive"),
      ...overrides,
    };
  }

  host(overrides: Partial<HostScriptInput> = {}): HostScriptInput {
    return {
      hostName: "moodle-vm-0001",
      fqdn: "moodle-vm-0001.hosts.example.org",
      address: "10.20.0.11",
      prefixLength: 24,
      gateway: "10.20.0.1",
      nameservers: ["10.20.0.2"],
      sshUser: "root",
      sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOk3TestKeyOnlyForUnitTests fleet@example",
      phpWorkers: 2,
      release: { git: { url: "https://git.example.org/moodle.git", commit: RELEASE_COMMIT } },
      releaseDir: this.p("srv/moodle/release"),
      timezone: "Europe/Berlin",
      dataMount: this.p("srv"),
      ...overrides,
    };
  }

  /**
   * A minimal stand-in of a Moodle release in <releaseDir>/<key> (Moodle
   * `version`, PHP minimum, the 5.1 public/ layout and the router as asked)
   * and the Redis admin secret, as if the bootstrap had run.
   */
  fakeRelease(key = RELEASE_KEY, opts: { version?: string; phpMinimum?: string; public?: boolean; router?: boolean } = {}): string {
    const dir = this.p(`srv/moodle/release/${key}`);
    const web = opts.public ? join(dir, "public") : dir;
    mkdirSync(join(web, "admin/cli"), { recursive: true });
    mkdirSync(join(web, "lib"), { recursive: true });
    writeFileSync(join(web, "admin/cli/install_database.php"), "<?php\n");
    writeFileSync(join(web, "admin/cli/upgrade.php"), "<?php\n");
    writeFileSync(join(web, "lib/phpminimumversionlib.php"), `<?php\n    $minimumversion = '${opts.phpMinimum ?? "8.1.0"}';\n`);
    writeFileSync(join(web, "version.php"), `<?php\n$version  = ${opts.version ?? "2024100700.00"};              // YYYYMMDD\n`);
    if (opts.router) writeFileSync(join(web, "r.php"), "<?php\n");
    writeFileSync(join(dir, ".release-id"), `release ${key}\n`);
    // The Redis admin secret the bootstrap leaves (0600 root).
    mkdirSync(this.paths.stateDir, { recursive: true });
    writeFileSync(join(this.paths.stateDir, "redis-admin.secret"), `${"ab".repeat(32)}\n`, { mode: 0o600 });
    return dir;
  }

  /**
   * The site tool's files where the host's copy step puts them for the
   * bootstrap (siteToolUploadDir): every sandbox starts with them there.
   */
  uploadSiteTool(files: ReadonlyArray<{ path: string; content: string }> = siteToolFiles(), digest = siteToolDigest()): string {
    const dir = siteToolUploadDir(this.paths, digest);
    for (const f of files) {
      mkdirSync(join(dir, f.path, ".."), { recursive: true });
      writeFileSync(join(dir, f.path), f.content, { mode: 0o644 });
    }
    return dir;
  }

  /**
   * The site tool as the host bootstrap installs it (its test in
   * bootstrap.test.ts checks that the bootstrap does the same): host.conf,
   * the files under <siteToolDir>/<digest>/, the stable link. Returns the
   * command that runs it.
   */
  installSiteTool(files: ReadonlyArray<{ path: string; content: string; mode: number }> = siteToolFiles(), digest = siteToolDigest()): string {
    mkdirSync(this.paths.fleetEtcDir, { recursive: true });
    writeFileSync(siteToolHostConfPath(this.paths), siteToolHostConf(this.paths), { mode: 0o644 });
    const dir = join(this.paths.siteToolDir, digest);
    for (const f of files) {
      mkdirSync(join(dir, f.path, ".."), { recursive: true });
      writeFileSync(join(dir, f.path), f.content, { mode: f.mode });
    }
    mkdirSync(this.paths.sbinDir, { recursive: true });
    const link = siteToolPath(this.paths);
    rmSync(link, { force: true });
    symlinkSync(join(dir, "moodle-fleet-site"), link);
    return link;
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Every argv element and environment entry of every call, for secret scans. */
export function everythingPassedAsArgsOrEnv(calls: Call[]): string {
  return calls.map((c) => [c.name, ...c.argv, ...c.env].join("\n")).join("\n");
}
