import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DEFAULT_SYSTEM_PATHS,
  OPTIONAL_PACKAGES,
  PREFLIGHT_EXTENSIONS,
  REQUIRED_PACKAGES,
  hostBootstrapScript,
  mariadbMaxConnections,
  releaseConfigPhp,
  releaseDescription,
  releaseId,
  siteInstallCommand,
  siteToolDigest,
  siteToolFiles,
  siteToolHostConf,
  siteToolHostConfPath,
  siteToolPath,
  siteToolUploadDir,
  type HostScriptInput,
} from "../../infra/scripts";
import { cronLogrotateConf } from "../../infra/scripts/bootstrap";
import { hostApacheConf, hostPhpIni, hostWwwPoolOverride } from "../../infra/scripts/configs";
import { RELEASE_COMMIT, Sandbox, everythingPassedAsArgsOrEnv, stackPasswordsStdin } from "../support/sandbox";

const PAYLOAD = `/tmp/PWNED_${randomBytes(6).toString("hex")}`;
const KEY_TOKEN = "KEYSECRETq8Zr";
const TLS_KEY = `-----BEGIN PRIVATE KEY-----\nMIIE${KEY_TOKEN}'"$(touch ${PAYLOAD})\`id\`\n-----END PRIVATE KEY-----`;
// A certificate is public, but its text still must not be able to run anything.
const CERT = `subject=CN = *.moodle.example.org $(touch ${PAYLOAD}) \`id\` '\n-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\nMOODLE_FLEET_EOF\n-----BEGIN CERTIFICATE-----\nMIIBchain\n-----END CERTIFICATE-----\n`;

function mode(path: string): string {
  return (statSync(path).mode & 0o7777).toString(8);
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Modes of everything below dir, by kind. */
function modes(dir: string): { dirs: Set<string>; files: Set<string> } {
  const out = { dirs: new Set<string>(), files: new Set<string>() };
  const walk = (d: string) => {
    out.dirs.add(mode(d));
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.files.add(mode(join(d, e.name)));
    }
  };
  walk(dir);
  return out;
}

/** For tests that run the bootstrap more than once: each run starts a few hundred stub processes. */
const SLOW = 240_000;

let sbx: Sandbox;
let release: string;

beforeEach(() => {
  sbx = new Sandbox();
  release = sbx.p("srv/moodle/release");
}, 60_000);

// Removing a sandbox after several bootstrap runs takes a while on a busy machine.
afterEach(() => {
  sbx.dispose();
  rmSync(PAYLOAD, { force: true });
}, 60_000);

/** Builds a tar.gz fixture that the curl stub serves for URLs ending in `name`. */
function tarFixture(name: string, files: Record<string, string>): string {
  const src = sbx.p(`fixture-src-${name}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(src, path, ".."), { recursive: true });
    writeFileSync(join(src, path), content, { mode: 0o600 });
  }
  const out = join(sbx.state, "fixtures", name);
  execFileSync("tar", ["-czf", out, "-C", src, ...Object.keys(files).map((f) => f.split("/")[0]).filter((v, i, a) => a.indexOf(v) === i)]);
  return sha256(out);
}

describe("hostBootstrapScript", () => {
  it("is valid bash for every kind of release and with or without TLS", () => {
    const variants: HostScriptInput[] = [
      sbx.host(),
      sbx.host({ tls: { certificate: CERT } }),
      sbx.host({ release: { tarball: { url: "https://dl.example.org/moodle.tgz", sha256: "a".repeat(64) } } }),
      sbx.host({ pluginBundle: { url: "https://dl.example.org/plugins.tgz", sha256: "b".repeat(64) } }),
    ];
    for (const h of variants) {
      const r = spawnSync("bash", ["-n"], { input: hostBootstrapScript(h, { paths: sbx.paths }) });
      expect(r.status, r.stderr.toString()).toBe(0);
    }
  });

  it("prepares a host from git with TLS: key only on stdin, 0600; release read-only", () => {
    sbx.setState("cloud_init_rc", "2");
    const host = sbx.host({ tls: { certificate: CERT } });
    const r = sbx.run(hostBootstrapScript(host, { paths: sbx.paths }), `${TLS_KEY}\n`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/degraded/);
    expect(existsSync(PAYLOAD)).toBe(false);
    expect(sbx.violations()).toBe("");

    // TLS material.
    const key = join(sbx.paths.tlsDir, "wildcard.key");
    expect(readFileSync(key, "utf8")).toBe(`${TLS_KEY}\n`);
    expect(mode(key)).toBe("600");
    const keyWrite = sbx.callsOf("cat").find((c) => (c.extra["stdout-path"] ?? "").startsWith(`${key}.new.`));
    expect(keyWrite?.extra["stdout-mode"]).toBe("600");
    const cert = join(sbx.paths.tlsDir, "wildcard.crt");
    expect(readFileSync(cert, "utf8")).toBe(CERT);
    expect(mode(cert)).toBe("644");
    expect(everythingPassedAsArgsOrEnv(sbx.calls())).not.toContain(KEY_TOKEN);

    // Packages were all present: no apt. Services enabled.
    expect(sbx.callsOf("apt-get")).toHaveLength(0);
    expect(sbx.callsOf("systemctl").map((c) => c.argv.join(" "))).toEqual(
      expect.arrayContaining(["enable --now apache2 mariadb redis-server php8.2-fpm", "reload-or-restart apache2", "reload-or-restart php8.2-fpm"]),
    );
    expect(sbx.callsOf("a2enmod")[0].argv).toEqual(["-q", "proxy_fcgi", "setenvif", "rewrite", "headers", "ssl"]);
    expect(readFileSync(join(sbx.paths.apacheDir, "conf-available/moodle-fleet.conf"), "utf8")).toBe(hostApacheConf(release));
    expect(readFileSync(join(sbx.paths.phpEtcDir, "8.2/fpm/pool.d/zz-moodle-fleet-www.conf"), "utf8")).toBe(hostWwwPoolOverride(2));
    expect(readFileSync(join(sbx.paths.apacheDir, "sites-available/000-moodle-fleet-default.conf"), "utf8")).toMatch(/SSLCertificateKeyFile .*wildcard\.key/);

    // The release: the pinned commit fetched once, shallow, over https or
    // ssh only, checked out and checked, without .git, in its own directory
    // named by its key, with the dispatching config.php.
    const git = sbx.callsOf("git").map((c) => c.argv.filter((a) => !a.startsWith("protocol.") && a !== "-c").join(" "));
    const stage = sbx.callsOf("git")[0].argv.at(-1)!;
    expect(git).toEqual([
      `init --quiet -- ${stage}`,
      `-C ${stage} remote add origin https://git.example.org/moodle.git`,
      `-C ${stage} fetch --quiet --depth 1 origin ${RELEASE_COMMIT}`,
      `-C ${stage} advice.detachedHead=false checkout --quiet ${RELEASE_COMMIT}`,
      `-C ${stage} rev-parse HEAD`,
    ]);
    expect(sbx.callsOf("git")[1].argv.slice(0, 6)).toEqual(["-c", "protocol.allow=never", "-c", "protocol.https.allow=always", "-c", "protocol.ssh.allow=always"]);
    const tree = join(release, releaseId(host));
    expect(releaseId(host)).toMatch(/^[0-9a-f]{16}$/);
    expect(readFileSync(join(tree, ".release-id"), "utf8")).toBe(`${releaseDescription(host)}\n`);
    expect(readFileSync(join(release, ".current"), "utf8")).toBe(`${releaseId(host)}\n`);
    expect(readFileSync(join(tree, "config.php"), "utf8")).toBe(releaseConfigPhp());
    expect(existsSync(join(tree, ".git"))).toBe(false);
    expect(existsSync(join(tree, "admin/cli/install_database.php"))).toBe(true);
    const m = modes(tree);
    expect([...m.dirs]).toEqual(["755"]);
    expect([...m.files]).toEqual(["644"]);
    expect(sbx.callsOf("chown").some((c) => c.argv.join(" ") === `-R root:root -- ${c.argv[3]}` && c.argv[3].startsWith(`${release}/.stage.`))).toBe(true);
    expect(readdirSync(release).sort()).toEqual([".current", ".release-id", releaseId(host)]); // no staging left
  });

  it("is idempotent: the second run fetches and installs nothing", () => {
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    expect(sbx.run(script).status).toBe(0);
    const idBefore = readFileSync(join(release, releaseId(sbx.host()), ".release-id"), "utf8");
    sbx.clearLog();
    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    expect(sbx.callsOf("git")).toHaveLength(0);
    expect(sbx.callsOf("apt-get")).toHaveLength(0);
    expect(r.stderr).toMatch(/release up to date/);
    expect(readFileSync(join(release, releaseId(sbx.host()), ".release-id"), "utf8")).toBe(idBefore);
  }, SLOW);

  it("fetches a new release beside the one a site runs, keeps that one while it is used, and removes it after", () => {
    const old = sbx.host();
    expect(sbx.run(hostBootstrapScript(old, { paths: sbx.paths })).status).toBe(0);
    const oldTree = join(release, releaseId(old));
    // A site runs the old release; a directory that is not a release of this layout lies beside it.
    mkdirSync(join(sbx.paths.fleetEtcDir, "sites"), { recursive: true });
    writeFileSync(join(sbx.paths.fleetEtcDir, "sites/04100001.release"), `${oldTree}\n`);
    mkdirSync(join(release, "legacy-tree/admin"), { recursive: true });
    const newer = sbx.host({ release: { git: { url: "https://git.example.org/moodle.git", commit: "f".repeat(40) } } });
    expect(releaseId(newer)).not.toBe(releaseId(old));
    const r = sbx.run(hostBootstrapScript(newer, { paths: sbx.paths }));
    expect(r.status, r.stderr).toBe(0);
    const newTree = join(release, releaseId(newer));
    expect(readFileSync(join(newTree, ".release-id"), "utf8")).toBe(`${releaseDescription(newer)}\n`);
    expect(readFileSync(join(release, ".current"), "utf8")).toBe(`${releaseId(newer)}\n`);
    expect(existsSync(join(oldTree, "admin/cli/install_database.php"))).toBe(true); // in use: untouched
    expect(r.stderr).not.toMatch(/removing release/);

    // The site moved on: the next run removes the old release, nothing else.
    writeFileSync(join(sbx.paths.fleetEtcDir, "sites/04100001.release"), `${newTree}\n`);
    const again = sbx.run(hostBootstrapScript(newer, { paths: sbx.paths }));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain(`removing release ${releaseId(old)}: no site runs it`);
    expect(readdirSync(release).sort()).toEqual([".current", ".release-id", releaseId(newer), "legacy-tree"].sort());
  }, SLOW);

  it("keeps a release a site's recorded parameters still want (its upgrade pending)", () => {
    const old = sbx.host();
    expect(sbx.run(hostBootstrapScript(old, { paths: sbx.paths })).status).toBe(0);
    mkdirSync(join(sbx.paths.fleetEtcDir, "sites"), { recursive: true });
    writeFileSync(join(sbx.paths.fleetEtcDir, "sites/04100001.env"), `SCHOOL_ID=04100001\nRELEASE_ID=${releaseId(old)}\n`);
    // Applied by this tool version already: the run does not re-apply it.
    writeFileSync(join(sbx.paths.fleetEtcDir, "sites/04100001.applied"), `${siteToolDigest()}\n`);
    const newer = sbx.host({ release: { git: { url: "https://git.example.org/moodle.git", commit: "f".repeat(40) } } });
    const r = sbx.run(hostBootstrapScript(newer, { paths: sbx.paths }));
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(release, releaseId(old), ".release-id"))).toBe(true);
  }, SLOW);

  it("checks that the tag resolves to the pinned commit, and refuses the release when it does not", () => {
    const tagged = sbx.host({ release: { git: { url: "git@git.example.org:moodle.git", commit: RELEASE_COMMIT, tag: "v4.5.7" } } });
    sbx.setState("git_tag_commit", `${"a".repeat(40)}\n`);
    const moved = sbx.run(hostBootstrapScript(tagged, { paths: sbx.paths }));
    expect(moved.status).not.toBe(0);
    expect(moved.stderr).toContain(`tag v4.5.7 is commit ${"a".repeat(40)}, not the pinned ${RELEASE_COMMIT}: refusing the release`);
    expect(existsSync(join(release, releaseId(tagged)))).toBe(false);
    expect(existsSync(join(release, ".current"))).toBe(false);
    expect(sbx.callsOf("git").some((c) => c.argv.includes("checkout"))).toBe(false);

    sbx.setState("git_tag_commit", `${RELEASE_COMMIT}\n`);
    sbx.clearLog();
    const ok = sbx.run(hostBootstrapScript(tagged, { paths: sbx.paths }));
    expect(ok.status, ok.stderr).toBe(0);
    expect(sbx.callsOf("git").some((c) => c.argv.join(" ").endsWith("fetch --quiet --depth 1 origin +refs/tags/v4.5.7:refs/tags/v4.5.7"))).toBe(true);
    expect(existsSync(join(release, releaseId(tagged), "admin/cli/install_database.php"))).toBe(true);
  }, SLOW);

  it("refuses a release whose PHP minimum is above the host's PHP, before any site could use it", () => {
    sbx.setState("php_minimum", "8.3.0");
    sbx.setState("php_full_version", "8.2.29");
    const host = sbx.host();
    const r = sbx.run(hostBootstrapScript(host, { paths: sbx.paths }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`release ${releaseId(host)} needs PHP 8.3.0 or later (lib/phpminimumversionlib.php); this host has PHP 8.2.29: no site is switched to it`);
    expect(existsSync(join(release, releaseId(host)))).toBe(false);
    expect(existsSync(join(release, ".current"))).toBe(false);

    sbx.setState("php_full_version", "8.3.1");
    sbx.clearLog();
    expect(sbx.run(hostBootstrapScript(host, { paths: sbx.paths })).status).toBe(0);
  }, SLOW);

  it("takes Moodle 5.1's layout: plugins unpacked under public/, config.php in the release's root", () => {
    const sum = tarFixture("moodle-5.1.tgz", {
      "moodle/public/admin/cli/install_database.php": "<?php\n",
      "moodle/public/lib/phpminimumversionlib.php": "<?php\n    $minimumversion = '8.2.0';\n",
      "moodle/public/r.php": "<?php\n",
      "moodle/composer.json": "{}\n",
    });
    const plugins = tarFixture("plugins.tgz", { "local/fleet/version.php": "<?php\n" });
    const host = sbx.host({
      release: { tarball: { url: "https://dl.example.org/moodle-5.1.tgz", sha256: sum } },
      pluginBundle: { url: "https://dl.example.org/plugins.tgz", sha256: plugins },
    });
    const r = sbx.run(hostBootstrapScript(host, { paths: sbx.paths }));
    expect(r.status, r.stderr).toBe(0);
    const tree = join(release, releaseId(host));
    expect(existsSync(join(tree, "public/local/fleet/version.php"))).toBe(true);
    expect(existsSync(join(tree, "local"))).toBe(false);
    expect(readFileSync(join(tree, "config.php"), "utf8")).toBe(releaseConfigPhp());
    expect(releaseConfigPhp()).toContain("require_once(__DIR__ . '/public/lib/setup.php');");
  }, SLOW);

  it("installs only missing packages; Moodle's PHP extensions are required, php-soap is tried once", () => {
    sbx.setState("missing/redis-server");
    sbx.setState("missing/php-intl");
    sbx.setState("missing/php-soap");
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    const apt = sbx.callsOf("apt-get").map((c) => c.argv.filter((a) => !a.startsWith("-") && !a.startsWith("Dpkg")));
    expect(apt).toEqual([["update"], ["install", "php-intl", "redis-server"], ["install", "php-soap"]]);

    // php-soap cannot be had (offline image): warned about, and not retried.
    sbx.setState("missing/php-soap");
    sbx.setState("apt_fail");
    sbx.clearLog();
    const again = sbx.run(script);
    expect(again.status, again.stderr).toBe(0);
    expect(sbx.callsOf("apt-get")).toHaveLength(0);
  }, SLOW);

  it("lists every extension package Moodle needs as required, and no APCu", () => {
    for (const p of ["php-xml", "php-mbstring", "php-intl", "php-curl", "php-gd", "php-zip", "php-mysql", "php-redis"]) {
      expect(REQUIRED_PACKAGES, p).toContain(p);
    }
    expect([...REQUIRED_PACKAGES, ...OPTIONAL_PACKAGES]).not.toContain("php-apcu");
    expect(hostPhpIni()).not.toMatch(/apc/);
  });

  it("fails, and retries on the next run, when an extension package cannot be installed", () => {
    sbx.setState("missing/php-intl");
    sbx.setState("apt_fail");
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    expect(sbx.run(script).status).not.toBe(0);
    sbx.clearState("apt_fail");
    sbx.clearLog();
    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    expect(sbx.callsOf("apt-get").map((c) => c.argv.filter((a) => !a.startsWith("-") && !a.startsWith("Dpkg")))).toContainEqual(["install", "php-intl"]);
  }, SLOW);

  it("checks every required extension and setting in the CLI and in php-fpm before configuring Apache", () => {
    const r = sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths }));
    expect(r.status, r.stderr).toBe(0);
    const preflight = sbx.callsOf("php").filter((c) => c.argv.some((a) => a.endsWith("/php-preflight.php")));
    expect(preflight).toHaveLength(2);
    const [cli, fpm] = preflight;
    expect(cli.argv.slice(1)).toEqual(["cli", "5000", "96", ...PREFLIGHT_EXTENSIONS]);
    expect(fpm.argv.slice(0, 2)).toEqual(["-c", join(sbx.paths.phpEtcDir, "8.2/fpm/php.ini")]);
    expect(fpm.argv.slice(3)).toEqual(["fpm", "5000", "96", ...PREFLIGHT_EXTENSIONS]);
    expect(fpm.env).toContain(`PHP_INI_SCAN_DIR=${join(sbx.paths.phpEtcDir, "8.2/fpm/conf.d")}`);
    expect(cli.extra["preflight.php"]).toBe(readFileSync(join(__dirname, "../../infra/scripts/php-preflight.php"), "utf8").trim());
    for (const e of ["iconv", "mbstring", "curl", "openssl", "ctype", "zip", "zlib", "gd", "simplexml", "spl", "pcre", "dom", "xml",
      "xmlreader", "intl", "json", "hash", "fileinfo", "sodium", "mysqli", "redis"]) {
      expect(PREFLIGHT_EXTENSIONS, e).toContain(e);
    }
  });

  it("stops with a clear error when php-fpm lacks an extension, before Apache is configured", () => {
    sbx.setState("preflight_fpm", "PHP (fpm) 8.2.7: missing PHP extensions: intl\n");
    const r = sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("PHP (fpm) 8.2.7: missing PHP extensions: intl");
    expect(r.stderr).toMatch(/PHP 8\.2 is not ready for Moodle .*php-intl/);
    expect(sbx.callsOf("a2enmod")).toHaveLength(0);
    expect(existsSync(release)).toBe(false);
  });

  it("sizes MariaDB's max_connections from the host's plan", () => {
    const host = sbx.host({ phpWorkers: 4, sitesPerHost: 50 });
    const r = sbx.run(hostBootstrapScript(host, { paths: sbx.paths }));
    expect(r.status, r.stderr).toBe(0);
    // 50 sites x (4 workers + cron) + the default pool's 4 + 20 in reserve.
    expect(mariadbMaxConnections(host)).toBe(274);
    const cnf = readFileSync(join(sbx.paths.mysqlConfDir, "90-moodle-fleet.cnf"), "utf8");
    expect(cnf).toMatch(/^\[mysqld\]\nmax_connections = 274$/m);
    expect(sbx.callsOf("mysql").map((c) => c.stdin?.toString())).toContain("SET GLOBAL max_connections = 274;\n");
    expect(mariadbMaxConnections({ phpWorkers: 8, sitesPerHost: 25 })).toBe(25 * 9 + 8 + 20);
    expect(mariadbMaxConnections({ phpWorkers: 2 })).toBe(50 * 3 + 2 + 20);
    expect(() => hostBootstrapScript(sbx.host({ sitesPerHost: 0 }))).toThrow(/sitesPerHost/);
  });

  it("sets up Redis users: default off, the fleet's admin with a host-made secret that stays off argv", () => {
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    const secretFile = join(sbx.paths.stateDir, "redis-admin.secret");
    const secret = readFileSync(secretFile, "utf8").trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(mode(secretFile)).toBe("600");
    const sha = createHash("sha256").update(secret).digest("hex");
    const acl = readFileSync(join(sbx.paths.redisDataDir, "moodle-fleet.acl"), "utf8");
    expect(acl).toBe(`user default off resetchannels -@all\nuser moodle-fleet-admin on #${sha} ~* &* +@all\n`);
    expect(acl).not.toContain(secret);
    expect(readFileSync(sbx.paths.redisConf, "utf8")).toMatch(new RegExp(`\ninclude ${join(sbx.paths.redisConf, "../moodle-fleet.conf")}\n$`));
    expect(readFileSync(join(sbx.paths.redisConf, "../moodle-fleet.conf"), "utf8")).toBe(`aclfile ${join(sbx.paths.redisDataDir, "moodle-fleet.acl")}\n`);
    expect(sbx.callsOf("systemctl").map((c) => c.argv.join(" "))).toContain("restart redis-server");
    const cli = sbx.callsOf("redis-cli");
    expect(cli.map((c) => c.stdin?.toString())).toEqual([`AUTH moodle-fleet-admin ${secret}\nPING\n`]);
    expect(everythingPassedAsArgsOrEnv(sbx.calls())).not.toContain(secret);

    // Next run: same secret, nothing restarted; a site's user in the file is kept.
    writeFileSync(join(sbx.paths.redisDataDir, "moodle-fleet.acl"), `${acl}user moodle-04123456 on #x ~moodle:04123456:*\n`);
    sbx.clearLog();
    expect(sbx.run(script).status).toBe(0);
    expect(readFileSync(secretFile, "utf8").trim()).toBe(secret);
    expect(sbx.callsOf("systemctl").map((c) => c.argv.join(" "))).not.toContain("restart redis-server");

    // A lost admin line is put back, the sites' users stay.
    writeFileSync(join(sbx.paths.redisDataDir, "moodle-fleet.acl"), "user moodle-04123456 on #x ~moodle:04123456:*\nuser default on nopass ~* +@all\n");
    sbx.clearLog();
    expect(sbx.run(script).status).toBe(0);
    expect(readFileSync(join(sbx.paths.redisDataDir, "moodle-fleet.acl"), "utf8")).toBe(
      `user moodle-04123456 on #x ~moodle:04123456:*\nuser default off resetchannels -@all\nuser moodle-fleet-admin on #${sha} ~* &* +@all\n`,
    );
    expect(sbx.callsOf("systemctl").map((c) => c.argv.join(" "))).toContain("restart redis-server");
  }, SLOW);

  it("stops when Redis refuses the admin user", () => {
    sbx.setState("redis_auth_fail");
    const r = sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Redis refuses the fleet's admin user/);
  });

  it("rotates the sites' cron logs", () => {
    expect(sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths })).status).toBe(0);
    expect(readFileSync(join(sbx.paths.logrotateDir, "moodle-fleet"), "utf8")).toBe(cronLogrotateConf(sbx.paths.logDir));
    expect(cronLogrotateConf("/var/log/moodle-fleet")).toMatch(/^\/var\/log\/moodle-fleet\/cron\/\*\.log \{$[\s\S]*copytruncate/m);
    expect(mode(join(sbx.paths.logDir, "cron"))).toBe("755");
  });

  it("fails when a required package cannot be installed", () => {
    sbx.setState("missing/mariadb-server");
    sbx.setState("apt_fail");
    const r = sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths }));
    expect(r.status).not.toBe(0);
    expect(existsSync(release)).toBe(false);
  });

  it("continues when cloud-init reports errors, and says so", () => {
    sbx.setState("cloud_init_rc", "1");
    const r = sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths }));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cloud-init status exited with 1/);
  });

  it("fetches a tarball, checks its sha256, strips the top directory and adds plugins", () => {
    const sum = tarFixture("moodle-4.5.tgz", {
      "moodle/admin/cli/install_database.php": "<?php\n",
      "moodle/lib/phpminimumversionlib.php": "<?php\n    $minimumversion = '8.1.0';\n",
      "moodle/index.php": "<?php\n",
      "moodle/.htaccess": "deny\n",
    });
    const plugins = tarFixture("plugins.tgz", { "local/fleet/version.php": "<?php\n" });
    const host = sbx.host({
      release: { tarball: { url: "https://dl.example.org/moodle-4.5.tgz", sha256: sum.toUpperCase() } },
      pluginBundle: { url: "https://dl.example.org/plugins.tgz", sha256: plugins },
    });
    const r = sbx.run(hostBootstrapScript(host, { paths: sbx.paths }));
    expect(r.status, r.stderr).toBe(0);
    const tree = join(release, releaseId(host));
    expect(existsSync(join(tree, "admin/cli/install_database.php"))).toBe(true);
    expect(existsSync(join(tree, ".htaccess"))).toBe(true);
    expect(existsSync(join(tree, "local/fleet/version.php"))).toBe(true);
    expect(existsSync(join(tree, "moodle"))).toBe(false);
    expect([...modes(tree).files]).toEqual(["644"]);
    expect(sbx.callsOf("sha256sum").filter((c) => c.argv.includes("--check"))).toHaveLength(2);
  });

  it("keeps the current release when a download does not match its checksum", () => {
    const sum = tarFixture("moodle-4.5.tgz", { "moodle/admin/cli/install_database.php": "<?php\n" });
    expect(sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths })).status).toBe(0);
    const before = readFileSync(join(release, ".release-id"), "utf8");
    const wrong = sum.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    const host = sbx.host({ release: { tarball: { url: "https://dl.example.org/moodle-4.5.tgz", sha256: wrong } } });
    const r = sbx.run(hostBootstrapScript(host, { paths: sbx.paths }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/checksum mismatch/);
    expect(readFileSync(join(release, ".release-id"), "utf8")).toBe(before);
    expect(readdirSync(release).sort()).toEqual([".current", ".release-id", releaseId(sbx.host())]); // no staging left
  }, SLOW);

  it("refuses a TLS host without the key on stdin, before touching anything", () => {
    const r = sbx.run(hostBootstrapScript(sbx.host({ tls: { certificate: CERT } }), { paths: sbx.paths }), "");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/private key/);
    expect(sbx.callsOf("cloud-init")).toHaveLength(0);
  });

  it("rejects a private key in the certificate field and other unsafe inputs", () => {
    const bad: Array<Partial<HostScriptInput>> = [
      { tls: { certificate: `${CERT}${TLS_KEY}` } },
      { hostName: "bad host" },
      { sshPublicKey: "ssh-ed25519 AAAA\nssh-rsa BBBB" },
      { release: { git: { url: "ext::sh -c touch% /tmp/x", commit: RELEASE_COMMIT } } },
      { release: { git: { url: "http://git.example.org/m.git", commit: RELEASE_COMMIT } } },
      { release: { git: { url: "git://git.example.org/m.git", commit: RELEASE_COMMIT } } },
      { release: { git: { url: "https://git.example.org/m.git", commit: "main" } } },
      { release: { git: { url: "https://git.example.org/m.git", commit: RELEASE_COMMIT, tag: "--upload-pack=x" } } },
      { release: { tarball: { url: "http://x.example/m.tgz", sha256: "a".repeat(64) } } },
      { release: { tarball: { url: "https://x.example/m.tgz", sha256: "abc" } } },
      { releaseDir: "/srv" },
      { gateway: "fe80::1" },
      { timezone: "Europe/Berlin; rm" },
    ];
    for (const b of bad) {
      expect(() => hostBootstrapScript({ ...sbx.host(), ...b }), JSON.stringify(b)).toThrow(/HostScriptInput\./);
    }
  });
});

describe("hostBootstrapScript: MariaDB's data on the data disk", () => {
  const names = (calls: ReturnType<Sandbox["calls"]>) =>
    calls
      .filter((c) => ["systemctl", "mount", "cp"].includes(c.name))
      .filter((c) => c.name !== "cp" || c.argv[0] === "-a")
      .filter((c) => c.name !== "systemctl" || !["enable", "reload-or-restart"].includes(c.argv[0]))
      .filter((c) => c.name !== "systemctl" || c.argv.join(" ") !== "restart redis-server")
      .map((c) => `${c.name} ${c.argv.join(" ")}`);

  it("copies the datadir once, bind-mounts it through fstab, and does nothing on the next run", () => {
    const mysql = sbx.paths.mysqlDataDir;
    const onDisk = sbx.p("srv/mysql");
    const bindLine = `${onDisk} ${mysql} none bind,nofail,x-systemd.requires-mounts-for=${sbx.p("srv")} 0 0`;
    const fstabBefore = readFileSync(sbx.paths.fstab, "utf8");
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    expect(sbx.violations()).toBe("");
    expect(r.stderr).toMatch(/moving MariaDB's data/);

    // The copy keeps the tree, its contents and modes.
    expect(readFileSync(join(onDisk, "ibdata1"), "utf8")).toBe("innodb\n");
    expect(readFileSync(join(onDisk, "mysql/user.frm"), "utf8")).toBe("users\n");
    expect(mode(join(onDisk, "ibdata1"))).toBe("660");
    expect(mode(onDisk)).toBe(mode(mysql));
    expect(existsSync(`${onDisk}.partial`)).toBe(false);

    // fstab: the old lines, then the bind mount; 0644. MariaDB waits for the mount.
    expect(readFileSync(sbx.paths.fstab, "utf8")).toBe(`${fstabBefore}${bindLine}\n`);
    expect(mode(sbx.paths.fstab)).toBe("644");
    const dropIn = join(sbx.paths.systemdDir, "mariadb.service.d/moodle-fleet-datadir.conf");
    expect(readFileSync(dropIn, "utf8")).toMatch(new RegExp(`^RequiresMountsFor=${mysql}$`, "m"));

    // In this order: MariaDB stopped, copied, systemd told, mounted, started.
    const steps = names(sbx.calls());
    const stop = steps.indexOf("systemctl stop mariadb");
    const copy = steps.indexOf(`cp -a -- ${mysql} ${onDisk}.partial`);
    const reload = steps.indexOf("systemctl daemon-reload");
    const mount = steps.indexOf(`mount --fstab ${sbx.paths.fstab} ${mysql}`);
    const start = steps.indexOf("systemctl start mariadb");
    expect([stop, copy, reload, mount, start].every((i) => i >= 0), steps.join("\n")).toBe(true);
    expect(stop < copy && copy < reload && reload < mount && mount < start, steps.join("\n")).toBe(true);
    // The bind mount is in place before anything else of the bootstrap runs.
    const firstConfig = sbx.calls().findIndex((c) => c.name === "a2enmod");
    expect(sbx.calls().findIndex((c) => c.name === "mount")).toBeLessThan(firstConfig);

    // Second run: nothing stopped, copied, mounted or rewritten.
    writeFileSync(join(onDisk, "ibdata1"), "innodb with site data\n");
    const fstabAfter = readFileSync(sbx.paths.fstab, "utf8");
    sbx.clearLog();
    const again = sbx.run(script);
    expect(again.status, again.stderr).toBe(0);
    expect(names(sbx.calls())).toEqual([]);
    expect(again.stderr).toMatch(/already on the data disk/);
    expect(readFileSync(sbx.paths.fstab, "utf8")).toBe(fstabAfter);
    expect(readFileSync(join(onDisk, "ibdata1"), "utf8")).toBe("innodb with site data\n");
  }, SLOW);

  it("refuses to run when the data disk is not mounted, before changing anything", () => {
    sbx.clearState("mounts");
    const r = sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${sbx.p("srv")} is not a mount point: the data disk \\(/dev/vdb, label moodle-data\\) is missing`));
    expect(sbx.callsOf("dpkg-query")).toHaveLength(0);
    expect(sbx.callsOf("systemctl")).toHaveLength(0);
    expect(existsSync(sbx.p("srv/mysql"))).toBe(false);
    expect(existsSync(release)).toBe(false);
  });

  it("mounts the data disk's copy as it is when the root disk was replaced", () => {
    mkdirSync(sbx.p("srv/mysql"));
    writeFileSync(sbx.p("srv/mysql/ibdata1"), "the sites' data\n");
    const r = sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths }));
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(sbx.p("srv/mysql/ibdata1"), "utf8")).toBe("the sites' data\n");
    expect(names(sbx.calls())).toEqual([
      "systemctl daemon-reload",
      "systemctl stop mariadb",
      `mount --fstab ${sbx.paths.fstab} ${sbx.paths.mysqlDataDir}`,
      "systemctl start mariadb",
    ]);
  });

  it("redoes a copy that was cut off", () => {
    mkdirSync(sbx.p("srv/mysql.partial"));
    writeFileSync(sbx.p("srv/mysql.partial/half"), "x");
    const r = sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths }));
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(sbx.p("srv/mysql")).sort()).toEqual(["ibdata1", "mysql"]);
    expect(existsSync(sbx.p("srv/mysql.partial"))).toBe(false);
  });

  it("leaves a datadir alone that fstab already mounts from elsewhere", () => {
    writeFileSync(sbx.paths.fstab, `/dev/vda / ext4 defaults 0 1\n/elsewhere ${sbx.paths.mysqlDataDir} none bind 0 0\n`);
    const r = sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/mounts something else on/);
    expect(existsSync(sbx.p("srv/mysql"))).toBe(false);
    expect(sbx.callsOf("mount")).toHaveLength(0);
  });

  it("keeps MariaDB on the root disk of a host without a data disk", () => {
    sbx.clearState("mounts");
    const fstab = readFileSync(sbx.paths.fstab, "utf8");
    const script = hostBootstrapScript(sbx.host({ dataMount: null }), { paths: sbx.paths });
    expect(script).not.toMatch(/mountpoint|BIND_LINE/);
    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    expect(sbx.callsOf("mount")).toHaveLength(0);
    expect(readFileSync(sbx.paths.fstab, "utf8")).toBe(fstab);
  });

  it("is valid bash and rejects a data mount that is no plain absolute path", () => {
    for (const dataMount of ["/srv", "/data/moodle", null]) {
      const r = spawnSync("bash", ["-n"], { input: hostBootstrapScript(sbx.host({ dataMount }), { paths: sbx.paths }) });
      expect(r.status, r.stderr.toString()).toBe(0);
    }
    for (const dataMount of ["srv", "/", "/srv/../etc", "/srv data", sbx.p("srv/moodle/release"), ""]) {
      expect(() => hostBootstrapScript(sbx.host({ dataMount })), dataMount).toThrow(/HostScriptInput\.dataMount/);
    }
  });
});

/** Bootstrap runs and site installs in one test. */
const SITE_TOOL_SLOW = 3 * SLOW;

describe("hostBootstrapScript: the site tool", () => {
  const STDIN = stackPasswordsStdin({ dbPassword: "DBSECRET4Tq'x", adminPassword: "ADMINSECRET2Wp\"y" });
  const toolDir = () => join(sbx.paths.siteToolDir, siteToolDigest());

  it("installs the tool content-addressed, checked against its digest, with a stable link; the next run leaves it be", () => {
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    expect(sbx.violations()).toBe("");
    expect(siteToolDigest()).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(sbx.paths.siteToolDir)).toEqual([siteToolDigest()]); // no staging left
    expect(mode(toolDir())).toBe("755");
    for (const f of siteToolFiles()) {
      expect(readFileSync(join(toolDir(), f.path), "utf8"), f.path).toBe(f.content);
      expect(mode(join(toolDir(), f.path)), f.path).toBe(f.path === "moodle-fleet-site" ? "700" : "600");
    }
    const listing = execFileSync("sha256sum", ["--", ...siteToolFiles().map((f) => f.path)], { cwd: toolDir() });
    expect(createHash("sha256").update(listing).digest("hex")).toBe(siteToolDigest());
    expect(readlinkSync(siteToolPath(sbx.paths))).toBe(join(toolDir(), "moodle-fleet-site"));
    const conf = siteToolHostConfPath(sbx.paths);
    expect(readFileSync(conf, "utf8")).toBe(siteToolHostConf(sbx.paths));
    expect(mode(conf)).toBe("644");
    expect(mode(join(sbx.paths.fleetEtcDir, "sites"))).toBe("700");
    // The tool's built-in host.conf is the one the bootstrap writes on a real host.
    expect(readFileSync(join(toolDir(), "moodle-fleet-site"), "utf8")).toContain(
      `HOST_CONF=\${MOODLE_FLEET_HOST_CONF:-${siteToolHostConfPath(DEFAULT_SYSTEM_PATHS)}}`,
    );
    // The digest is in the bootstrap's text: a new tool version is an update of the host's bootstrap.
    expect(script).toContain(siteToolDigest());

    sbx.clearLog();
    const again = sbx.run(script);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/installing the site tool|site tool .* linked|re-applying/);
  }, SITE_TOOL_SLOW);

  it("installs only what was uploaded for its digest: a missing or altered upload stops it before anything of the tool is installed", () => {
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    const upload = siteToolUploadDir(sbx.paths);
    rmSync(upload, { recursive: true });
    const missing = sbx.run(script);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`the site tool ${siteToolDigest()} was not uploaded to ${upload}`);

    sbx.uploadSiteTool();
    writeFileSync(join(upload, "lib.sh"), "# not the tool\n");
    const altered = sbx.run(script);
    expect(altered.status).not.toBe(0);
    expect(altered.stderr).toContain(`the site tool's files in ${upload} do not match their digest`);
    for (const r of [missing, altered]) expect(r.stderr).not.toMatch(/site tool .* linked/);
    expect(existsSync(siteToolPath(sbx.paths))).toBe(false);
    expect(readdirSync(sbx.paths.siteToolDir)).toEqual([]); // no version, no staging left

    // An older version's upload goes once this one is installed; this one's stays.
    sbx.uploadSiteTool();
    const older = sbx.uploadSiteTool(siteToolFiles(), "e".repeat(64));
    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(older)).toBe(false);
    expect(readdirSync(join(upload, ".."))).toEqual([siteToolDigest()]);
  }, SITE_TOOL_SLOW);

  it("re-applies the recorded sites with a new tool version once, without their secrets, and drops the old version", () => {
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    expect(sbx.run(script).status).toBe(0);
    // Two sites installed by an older version of the tool: one finished, one whose installer failed.
    const older = siteToolFiles().map((f) => (f.path === "templates/pool.conf" ? { ...f, content: `${f.content}; older tool\n` } : f));
    const oldTool = sbx.installSiteTool(older, "e".repeat(64));
    // The sites run the release the bootstrap fetched.
    const done = sbx.site({ schoolId: "04100001", releaseId: releaseId(sbx.host()) });
    const unfinished = sbx.site({ schoolId: "04100002", releaseId: releaseId(sbx.host()) });
    expect(sbx.run(siteInstallCommand(done, { paths: sbx.paths }), STDIN).status).toBe(0);
    sbx.setState("php_exit", "1");
    expect(sbx.run(siteInstallCommand(unfinished, { paths: sbx.paths }), STDIN).status).not.toBe(0);
    sbx.clearState("php_exit");
    // The MariaDB stub keeps one database state for all sites: the finished one's again.
    sbx.setState("config_tables", "1\n");
    const pool = join(sbx.paths.phpEtcDir, "8.2/fpm/pool.d/moodle-04100001.conf");
    expect(readFileSync(pool, "utf8")).toContain("; older tool\n");
    const config = readFileSync(join(done.siteRoot, "site-config.php"), "utf8");
    expect(readlinkSync(oldTool)).toContain("e".repeat(64));
    sbx.clearLog();

    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/re-applying site 04100001/);
    expect(r.stderr).toMatch(/re-applying site 04100002/);
    expect(r.stderr).toMatch(/04100002\]: not a finished install/);
    expect(readFileSync(pool, "utf8")).not.toContain("; older tool");
    expect(readFileSync(pool, "utf8")).toMatch(/^pm\.max_children = 4$/m);
    expect(readFileSync(join(done.siteRoot, "site-config.php"), "utf8")).toBe(config);
    expect(readFileSync(join(sbx.paths.fleetEtcDir, "sites/04100001.applied"), "utf8").trim()).toBe(siteToolDigest());
    expect(existsSync(join(sbx.paths.fleetEtcDir, "sites/04100002.applied"))).toBe(false);
    expect(readdirSync(sbx.paths.siteToolDir)).toEqual([siteToolDigest()]);
    expect(readlinkSync(siteToolPath(sbx.paths))).toBe(join(toolDir(), "moodle-fleet-site"));
    const sql = sbx.callsOf("mysql").map((c) => c.stdin?.toString() ?? "").join("\n");
    expect(sql).not.toMatch(/ALTER USER|DROP DATABASE/);
    expect(sbx.callsOf("runuser")).toHaveLength(0);
    const exposed = everythingPassedAsArgsOrEnv(sbx.calls());
    for (const t of ["DBSECRET4Tq", "ADMINSECRET2Wp"]) expect(exposed).not.toContain(t);

    sbx.clearLog();
    const again = sbx.run(script);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/re-applying site 04100002/); // still waiting for its own install
    expect(again.stderr).not.toMatch(/re-applying site 04100001/);
  }, SITE_TOOL_SLOW);

  it("goes on past a site it cannot re-apply, then fails naming it", () => {
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    expect(sbx.run(script).status).toBe(0);
    sbx.installSiteTool(siteToolFiles(), "e".repeat(64));
    const broken = sbx.site({ schoolId: "04100001", releaseId: releaseId(sbx.host()) });
    const fine = sbx.site({ schoolId: "04100002", releaseId: releaseId(sbx.host()) });
    for (const s of [broken, fine]) expect(sbx.run(siteInstallCommand(s, { paths: sbx.paths }), STDIN).status).toBe(0);
    // Someone edited the settings and lost the database password.
    const configPath = join(broken.siteRoot, "site-config.php");
    writeFileSync(configPath, readFileSync(configPath, "utf8").replace(/^\$CFG->dbpass .*\n/m, ""));

    const r = sbx.run(script);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/could not re-apply site\(s\) 04100001 /);
    expect(readFileSync(join(sbx.paths.fleetEtcDir, "sites/04100002.applied"), "utf8").trim()).toBe(siteToolDigest());
    expect(readFileSync(join(sbx.paths.fleetEtcDir, "sites/04100001.applied"), "utf8").trim()).toBe("e".repeat(64));
  }, SITE_TOOL_SLOW);
});
