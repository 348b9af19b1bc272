import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  SITE_CONFIG_ENV,
  ScriptInputError,
  phpQuote,
  siteDeleteCommand,
  siteInstallCommand,
  siteToolDigest,
  siteToolFiles,
  shellQuote,
  sqlQuote,
  type SiteScriptInput,
} from "../../infra/scripts";
import { LIB_SH_PATH } from "../../infra/scripts/bash";
import { siteScriptInput } from "../../infra/components/script-inputs";
import { withRepairRequests } from "../../infra/components/moodle-site";
import type { FleetSettings, PlannedHost, PlannedSite } from "../../infra/plan";
import { createHash } from "node:crypto";
import { RELEASE_COMMIT, RELEASE_KEY, Sandbox, everythingPassedAsArgsOrEnv, stackPasswordsStdin } from "../support/sandbox";

const PAYLOAD = `/tmp/PWNED_${randomBytes(6).toString("hex")}`;
const HOSTILE_NAME = `$(touch ${PAYLOAD}) 'single' "double" \`touch ${PAYLOAD}\` \`id\`\nSchüle Öhringen; rm -rf / ; touch ${PAYLOAD} & $HOME \\`;
// Distinctive tokens inside each secret make even partial leaks visible.
const DB_PASS = `DBSECRET7Qz'"\\$(touch ${PAYLOAD})%s%n\`id\`-x`;
const ADMIN_PASS = `ADMINSECRET9Lk'\\"$HOME;|&%d`;
const SECRET_TOKENS = ["DBSECRET7Qz", "ADMINSECRET9Lk"];
const STDIN = stackPasswordsStdin({ dbPassword: DB_PASS, adminPassword: ADMIN_PASS });
const MAINTENANCE_MARK = "<!-- moodle-fleet: reinstalling -->";

function mode(path: string): string {
  return (statSync(path).mode & 0o7777).toString(8);
}

/** Files in the sandbox (outside the stubs' own logs and state) that contain a secret token. */
function filesWithSecrets(sbx: Sandbox, tokens: readonly string[] = SECRET_TOKENS): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (p === sbx.p("log") || p === sbx.p("state")) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && tokens.some((t) => readFileSync(p).includes(t))) found.push(relative(sbx.root, p));
    }
  };
  walk(sbx.root);
  return found.sort();
}

/**
 * Everything in the sandbox but the stubs' call log and the scripts it ran:
 * path -> type, mode, owner and content digest, to show that a run changed
 * nothing.
 */
function sandboxFiles(sbx: Sandbox): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      const rel = relative(sbx.root, p);
      if (rel === "log" || /^script-[^/]*\.sh$/.test(rel)) continue;
      const st = lstatSync(p);
      const how = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (e.isSymbolicLink()) out[rel] = `link ${readlinkSync(p)}`;
      else if (e.isDirectory()) {
        out[rel] = `dir ${how}`;
        walk(p);
      } else out[rel] = `file ${how} ${createHash("sha256").update(readFileSync(p)).digest("hex")}`;
    }
  };
  walk(sbx.root);
  return out;
}

/** Calls that change a host: any of them in a refused run is a change. */
const HOST_CHANGING = ["mysql", "redis-cli", "useradd", "chown", "chmod", "mv", "cp", "ln", "php", "runuser", "systemctl", "a2ensite", "tar"];

const SPECIALS = "-_.+=:,%";

/** The rules of the passwords the host makes (lib.sh's new_password). */
function expectHostPassword(p: string): void {
  const count = (re: RegExp) => (p.match(re) ?? []).length;
  expect(p, p).toMatch(/^[A-Za-z][A-Za-z0-9\-_.+=:,%]{23}$/);
  expect(count(/[a-z]/g), p).toBeGreaterThanOrEqual(2);
  expect(count(/[A-Z]/g), p).toBeGreaterThanOrEqual(2);
  expect(count(/[0-9]/g), p).toBeGreaterThanOrEqual(2);
  expect(count(/[-_.+=:,%]/g), p).toBe(2);
}

function redisSecret(s: SiteScriptInput): string {
  return readFileSync(join(s.siteRoot, "redis.secret"), "utf8").trim();
}

function redisInput(sbx: Sandbox): string {
  return sbx
    .callsOf("redis-cli")
    .map((c) => c.stdin?.toString("utf8") ?? "")
    .join("");
}

function mysqlInput(sbx: Sandbox): string {
  return sbx
    .callsOf("mysql")
    .map((c) => c.stdin?.toString("utf8") ?? "")
    .join("\n");
}

/** PHP running Moodle's scripts; `php -r` is the tool asking PHP for its version. */
const moodleRuns = () => sbx.callsOf("php").filter((c) => c.argv[0] !== "-r");

/** For tests that run the scripts more than once: each run starts a few hundred stub processes. */
const SLOW = 240_000;

let sbx: Sandbox;
let site: SiteScriptInput;

/** The site's install command as its remote command carries it (the sandbox's tool path aside). */
function installCommand(s: SiteScriptInput = site): string {
  return siteInstallCommand(s, { paths: sbx.paths });
}

function deleteCommand(s: SiteScriptInput = site): string {
  return siteDeleteCommand(s, { paths: sbx.paths });
}

beforeEach(() => {
  sbx = new Sandbox();
  sbx.fakeRelease();
  sbx.installSiteTool();
  site = sbx.site({ fullName: HOSTILE_NAME });
}, 60_000);

// Removing a sandbox after several runs of the tool takes a while on a busy machine.
afterEach(() => {
  sbx.dispose();
  rmSync(PAYLOAD, { force: true });
}, 60_000);

describe("moodle-fleet-site install", () => {
  it("is one line of the installed tool with the site's parameters, each one shell word", () => {
    const line = installCommand();
    expect(line.split("\n").filter((l) => !l.startsWith("'") && l !== "")[0]).toMatch(/^\S+\/moodle-fleet-site install --print-admin-password --school-id=04123456 /);
    const words = spawnSync("bash", ["-c", `printf '%s\\0' ${line.replace(/^\S+/, "")}`], { encoding: "utf8" }).stdout.split("\0").slice(0, -1);
    expect(words).toContain(`--full-name=${HOSTILE_NAME}`);
    expect(words).toContain(`--data-dir=${site.dataDir}`);
    expect(words).toContain(`--release-id=${RELEASE_KEY}`);
    expect(words).not.toContain("--site-uid");
    expect(installCommand({ ...site, uid: 204123 })).toContain("--site-uid=204123");
    expect(existsSync(PAYLOAD)).toBe(false);
  });

  it("keeps a site's commands small: create and delete together (no update: the provider re-runs create)", () => {
    const host = { name: "moodle-vm-0007", phpWorkers: 4 } as PlannedHost;
    const settings = {
      domain: "moodle.example.org",
      moodle: { releaseDir: "/srv/moodle/release", release: { git: { url: "https://git.example.org/moodle.git", commit: RELEASE_COMMIT } } },
    } as FleetSettings;
    const planned = {
      schoolId: "04123456",
      name: "Grundschule am Lindenplatz Öhringen",
      email: "office@04123456.moodle.example.org",
      fqdn: "04123456.moodle.example.org",
      url: "https://04123456.moodle.example.org",
      linuxUser: "m04123456",
      dbName: "moodle_04123456",
      dbUser: "m04123456",
      dataDir: "/srv/moodledata/04123456",
      adminUser: "admin",
    } as PlannedSite;
    const typical = siteScriptInput(planned, host, settings);
    expect(typical.releaseId).toMatch(/^[0-9a-f]{16}$/);
    const create = withRepairRequests(siteInstallCommand(typical), 0);
    const bytes = Buffer.byteLength(create) + Buffer.byteLength(siteDeleteCommand(typical));
    console.log(`site command text (create + delete): ${bytes} bytes`);
    expect(bytes).toBeLessThan(1000);
    expect(siteDeleteCommand(typical)).toBe("/usr/local/sbin/moodle-fleet-site delete 04123456");
  });

  it("installs a site with a hostile name: nothing injected, name and secrets delivered exactly", () => {
    const r = sbx.run(installCommand(), STDIN);
    expect(r.status, r.stderr).toBe(0);
    // Its only output: the admin password, for the stack's secret outputs.
    expect(r.stdout).toBe(`admin-password: ${ADMIN_PASS}\n`);
    expect(existsSync(PAYLOAD)).toBe(false);
    expect(sbx.violations()).toBe("");

    // The installer: run as the site user, with the name as one exact argument
    // and the admin password on its standard input only.
    const runuser = sbx.callsOf("runuser");
    expect(runuser).toHaveLength(1);
    expect(runuser[0].argv.slice(0, 3)).toEqual(["-u", site.linuxUser, "--"]);
    const php = moodleRuns();
    expect(php).toHaveLength(1);
    expect(php[0].argv).toContain(`--fullname=${HOSTILE_NAME}`);
    expect(php[0].argv).toContain(`--shortname=${site.shortName}`);
    expect(php[0].argv).toContain("--agree-license");
    expect(php[0].argv[1]).toBe(join(site.releaseDir, site.releaseId!, "admin/cli/install_database.php"));
    expect(php[0].stdin?.toString("utf8")).toBe(`${ADMIN_PASS}\n`);
    expect(php[0].env).toContain(`MOODLE_SITE_CONFIG=${site.siteRoot}/site-config.php`);
    expect(php[0].extra["arg1-mode"]).toBe("640"); // the wrapper
    expect(php[0].extra["config-mode"]).toBe("640");

    // No secret in any process's arguments or environment.
    const exposed = everythingPassedAsArgsOrEnv(sbx.calls());
    for (const t of SECRET_TOKENS) expect(exposed).not.toContain(t);

    // The database password reaches MariaDB inside the SQL on stdin, escaped.
    const sql = mysqlInput(sbx);
    expect(sql).toContain("SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '');");
    expect(sql).toContain(`CREATE USER IF NOT EXISTS '${site.dbUser}'@'localhost' IDENTIFIED BY ${sqlQuote(DB_PASS)};`);
    expect(sql).toContain(`ALTER USER '${site.dbUser}'@'localhost' IDENTIFIED BY ${sqlQuote(DB_PASS)};`);
    expect(sql).toContain(`GRANT ALL PRIVILEGES ON \`${site.dbName}\`.* TO '${site.dbUser}'@'localhost';`);
    expect(sql).toContain(`CREATE DATABASE \`${site.dbName}\` CHARACTER SET utf8mb4`);

    // The only files left holding a secret: the site's passwords, exactly as
    // stdin brought them, 0600 root; site-config.php, exact, 0640, written
    // while its temporary file was still 0600.
    const configPath = join(site.siteRoot, "site-config.php");
    const passwordsPath = join(site.siteRoot, "passwords");
    expect(filesWithSecrets(sbx)).toEqual([relative(sbx.root, passwordsPath), relative(sbx.root, configPath)].sort());
    expect(readFileSync(passwordsPath, "utf8")).toBe(STDIN);
    expect(mode(passwordsPath)).toBe("600");
    const passwordsChown = sbx.callsOf("chown").find((c) => c.argv.some((a) => a.startsWith(`${passwordsPath}.new.`)));
    expect(passwordsChown?.argv).toContain("root:root");
    const config = readFileSync(configPath, "utf8");
    expect(config).toContain(`\n$CFG->dbpass    = ${phpQuote(DB_PASS)};\n`);
    expect(config).toContain(`\n$CFG->dbname    = '${site.dbName}';\n$CFG->dbuser    = '${site.dbUser}';\n`);
    expect(config).toContain(`\n$CFG->wwwroot   = '${site.url}';\n$CFG->dataroot  = '${site.dataDir}';\n`);
    expect(config).toContain(`\n$CFG->localrequestdir = '${site.dataDir}/localrequest';\n`);
    expect(config).toContain(`\n$CFG->session_redis_auth = ['moodle-04123456', '${redisSecret(site)}'];\n`);
    expect(config).not.toMatch(/\{\{|\}\}/);
    expect(mode(configPath)).toBe("640");
    const configWrite = sbx.callsOf("cat").find((c) => (c.extra["stdout-path"] ?? "").startsWith(`${configPath}.new.`));
    expect(configWrite?.extra["stdout-mode"]).toBe("600");
    const configChown = sbx.callsOf("chown").find((c) => c.argv.some((a) => a.startsWith(`${configPath}.new.`)));
    expect(configChown?.argv).toContain(`root:${site.linuxUser}`);
    expect(configChown?.extra.modes).toMatch(/^640 /);

    // Directories, marker, wrapper.
    expect(mode(site.dataDir)).toBe("700");
    expect(mode(site.siteRoot)).toBe("750");
    expect(sbx.callsOf("chown").some((c) => c.argv.join(" ") === `-- ${site.linuxUser}:${site.linuxUser} ${site.dataDir}`)).toBe(true);
    expect(existsSync(join(site.siteRoot, ".installed"))).toBe(true);
    expect(existsSync(join(site.siteRoot, "install-wrapper.php"))).toBe(false);

    // Account, pool, vhost, cron, reloads.
    const useradd = sbx.callsOf("useradd")[0];
    expect(useradd.argv).toEqual(expect.arrayContaining(["--system", "--shell", "/usr/sbin/nologin", site.linuxUser]));
    const pool = join(sbx.paths.phpEtcDir, "8.2/fpm/pool.d/moodle-04123456.conf");
    const poolText = readFileSync(pool, "utf8");
    expect(poolText).toMatch(/^pm\.max_children = 4$/m);
    expect(poolText).toContain(`[moodle-04123456]\nuser = ${site.linuxUser}\ngroup = ${site.linuxUser}\nlisten = ${sbx.paths.phpRunDir}/moodle-04123456.sock\n`);
    expect(poolText).toContain(`\nenv[${SITE_CONFIG_ENV}] = ${site.siteRoot}/site-config.php\n`);
    // Trailing slashes: open_basedir entries are prefixes.
    expect(poolText).toContain(`\nphp_admin_value[open_basedir] = ${site.siteRoot}/:${site.dataDir}/:${site.releaseDir}/${site.releaseId}/:/tmp/\n`);
    const vhost = join(sbx.paths.apacheDir, "sites-available/moodle-04123456.conf");
    const vhostText = readFileSync(vhost, "utf8");
    expect(vhostText).toContain(`<VirtualHost *:80>\n    ServerName ${site.fqdn}\n    Redirect permanent / ${site.url}/\n</VirtualHost>\n`);
    expect(vhostText).toContain(`<VirtualHost *:443>\n    ServerName ${site.fqdn}\n    DocumentRoot ${site.releaseDir}/${site.releaseId}\n    AcceptPathInfo On\n    # no Moodle router (r.php) in this release\n`);
    expect(vhostText).toContain(`SetHandler "proxy:unix:${sbx.paths.phpRunDir}/moodle-04123456.sock|fcgi://moodle-04123456"`);
    expect(vhostText).toContain(`SSLCertificateFile ${sbx.paths.tlsDir}/wildcard.crt\n    SSLCertificateKeyFile ${sbx.paths.tlsDir}/wildcard.key\n`);
    expect(existsSync(join(sbx.paths.apacheDir, "sites-enabled/moodle-04123456.conf"))).toBe(true);
    const cron = join(sbx.paths.cronDir, "moodle-04123456");
    expect(readFileSync(cron, "utf8")).toContain(`\n${SITE_CONFIG_ENV}=${site.siteRoot}/site-config.php\n* * * * * ${site.linuxUser} flock -n ${site.dataDir}/.cron.lock php ${site.releaseDir}/${site.releaseId}/admin/cli/cron.php `);
    expect(mode(cron)).toBe("644");
    // Cron's output goes to the site's own log, which only the site's user may write.
    const cronLog = join(sbx.paths.logDir, "cron/moodle-04123456.log");
    expect(readFileSync(cron, "utf8")).toContain(`cron.php >>${cronLog} 2>&1`);
    expect(mode(cronLog)).toBe("640");
    expect(sbx.callsOf("chown").some((c) => c.argv.join(" ") === `-- ${site.linuxUser}:${site.linuxUser} ${cronLog}`)).toBe(true);
    const reloads = sbx.callsOf("systemctl").map((c) => c.argv.join(" "));
    expect(reloads).toEqual(expect.arrayContaining(["reload-or-restart php8.2-fpm", "reload-or-restart apache2"]));
    expect(sbx.callsOf("apachectl").map((c) => c.argv.join(" "))).toEqual(["configtest"]);

    // No temporary files left behind.
    expect(readdirSync(sbx.p("tmp"))).toEqual([]);
    expect(readdirSync(site.siteRoot).sort()).toEqual([".installed", "passwords", "redis.secret", "site-config.php"]);
    // A first install has nothing to archive and leaves no maintenance page behind.
    expect(existsSync(site.archiveDir)).toBe(false);
    expect(existsSync(join(site.dataDir, "climaintenance.html"))).toBe(false);
  });

  it("gives the site its own Redis user, limited to its key prefix; the password stays on the host", () => {
    const script = installCommand();
    expect(sbx.run(script, STDIN).status).toBe(0);
    const secret = redisSecret(site);
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(mode(join(site.siteRoot, "redis.secret"))).toBe("600");
    const sha = createHash("sha256").update(secret).digest("hex");
    const redis = redisInput(sbx);
    // As the fleet's admin (its secret from the bootstrap's 0600 file, on stdin only).
    expect(redis.startsWith(`AUTH moodle-fleet-admin ${"ab".repeat(32)}\n`)).toBe(true);
    const setuser = redis.split("\n").find((l) => l.startsWith("ACL SETUSER "));
    expect(setuser).toBe(
      `ACL SETUSER moodle-04123456 reset on #${sha} ~moodle:04123456:* resetchannels +@all -@dangerous -@admin +info -scan -randomkey -select`,
    );
    expect(redis).toContain("ACL SAVE\n");
    expect(redis).not.toContain(secret); // only its hash reaches Redis
    const exposed = everythingPassedAsArgsOrEnv(sbx.calls());
    expect(exposed).not.toContain(secret);
    expect(exposed).not.toContain("ab".repeat(32));
    expect(readFileSync(join(site.siteRoot, "site-config.php"), "utf8")).toContain(
      `$CFG->session_redis_auth = ['moodle-04123456', '${secret}'];`,
    );

    // The next run keeps the password.
    sbx.clearLog();
    expect(sbx.run(script, STDIN).status).toBe(0);
    expect(redisSecret(site)).toBe(secret);
  }, SLOW);

  it("stops when Redis refuses the site's user", () => {
    sbx.setState("redis_auth_fail");
    const r = sbx.run(installCommand(), STDIN);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/WRONGPASS/);
    expect(moodleRuns()).toHaveLength(0);
  });

  it("a reinstall keeps the site in maintenance from before the reset until it is served again", () => {
    const script = installCommand();
    expect(sbx.run(script, STDIN).status).toBe(0);
    const page = join(site.dataDir, "climaintenance.html");
    sbx.setState("config_tables", "0\n"); // the database lost its tables
    sbx.setState("php_exit", "1"); // and the installer fails this time
    sbx.clearLog();
    expect(sbx.run(script, STDIN).status).not.toBe(0);
    // The page went up before the database was dropped and is still there.
    const calls = sbx.calls();
    const pageWrite = calls.findIndex((c) => (c.extra["stdout-path"] ?? "").startsWith(`${page}.new.`));
    const drop = calls.findIndex((c) => c.name === "mysql" && (c.stdin?.toString() ?? "").includes("DROP DATABASE"));
    expect(pageWrite).toBeGreaterThan(-1);
    expect(drop).toBeGreaterThan(pageWrite);
    expect(readFileSync(page, "utf8").split("\n")[0]).toBe(MAINTENANCE_MARK);
    expect(mode(page)).toBe("644"); // Moodle, as the site's user, must read it

    sbx.clearState("php_exit");
    sbx.clearLog();
    const r = sbx.run(script, STDIN);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(page)).toBe(false);
    // Removed only after the vhost and pool were in place and reloaded.
    expect(r.stderr.indexOf("maintenance page removed")).toBeGreaterThan(r.stderr.indexOf("running Moodle's installer"));
  }, SLOW);

  it("leaves a maintenance page it did not write", () => {
    const script = installCommand();
    expect(sbx.run(script, STDIN).status).toBe(0);
    writeFileSync(join(site.dataDir, "climaintenance.html"), "<p>Back on Monday</p>\n");
    expect(sbx.run(script, STDIN).status).toBe(0);
    expect(readFileSync(join(site.dataDir, "climaintenance.html"), "utf8")).toBe("<p>Back on Monday</p>\n");
  }, SLOW);

  it("leaves a finished site alone on the next run", () => {
    const script = installCommand();
    expect(sbx.run(script, STDIN).status).toBe(0);
    writeFileSync(join(site.dataDir, "filedir-content"), "uploaded by a teacher");
    sbx.clearLog();

    const r = sbx.run(script, STDIN);
    expect(r.status, r.stderr).toBe(0);
    expect(mysqlInput(sbx)).not.toContain("DROP DATABASE");
    expect(sbx.callsOf("php")).toHaveLength(0);
    expect(sbx.callsOf("useradd")).toHaveLength(0);
    expect(sbx.callsOf("systemctl")).toHaveLength(0); // configuration unchanged: no reloads
    expect(sbx.callsOf("a2ensite")).toHaveLength(0);
    expect(existsSync(join(site.dataDir, "filedir-content"))).toBe(true);
  }, SLOW);

  it("resets and reinstalls when the marker exists but the database lost its tables", () => {
    const script = installCommand();
    expect(sbx.run(script, STDIN).status).toBe(0);
    sbx.setState("config_tables", "0\n");
    writeFileSync(join(site.dataDir, "stale"), "x");
    sbx.clearLog();

    sbx.setState("redis_keys", "7\n");
    const r = sbx.run(script, STDIN);
    expect(r.status, r.stderr).toBe(0);
    expect(mysqlInput(sbx)).toContain(`DROP DATABASE IF EXISTS \`${site.dbName}\`;`);
    expect(existsSync(join(site.dataDir, "stale"))).toBe(false);
    expect(moodleRuns()).toHaveLength(1);
    expect(existsSync(join(site.siteRoot, ".installed"))).toBe(true);

    // What was there is archived first, and the site's sessions are gone.
    const archives = readdirSync(site.archiveDir).filter((f) => f.endsWith(".tar.gz"));
    expect(archives).toEqual([expect.stringMatching(/^04123456-\d{8}T\d{6}Z-reset\.tar\.gz$/)]);
    const listing = execFileSync("tar", ["-tzf", join(site.archiveDir, archives[0])], { encoding: "utf8" });
    expect(listing).toContain("04123456/stale");
    const calls = sbx.calls();
    const tarAt = calls.findIndex((c) => c.name === "tar");
    const dropAt = calls.findIndex((c) => c.name === "mysql" && (c.stdin?.toString() ?? "").includes("DROP DATABASE"));
    const evalAt = calls.findIndex((c) => c.name === "redis-cli" && (c.stdin?.toString() ?? "").includes("EVAL "));
    expect(tarAt).toBeGreaterThan(-1);
    expect(dropAt).toBeGreaterThan(tarAt);
    expect(evalAt).toBeGreaterThan(-1);
    expect(evalAt).toBeLessThan(dropAt);
    expect(redisInput(sbx)).toMatch(/EVAL ".*SCAN.*UNLINK.*" 0 "moodle:04123456:\*"\n/);
    expect(r.stderr).toMatch(/deleted 7 Redis keys/);
  }, SLOW);

  it("archives a half-installed database (with a dump) before dropping it", () => {
    const script = installCommand();
    expect(sbx.run(script, STDIN).status).toBe(0);
    // No marker, but tables in the database: an install cut off half-way.
    rmSync(join(site.siteRoot, ".installed"));
    sbx.setState("config_tables", "1\n");
    sbx.clearLog();
    const r = sbx.run(script, STDIN);
    expect(r.status, r.stderr).toBe(0);
    const dump = sbx.callsOf("mysqldump");
    expect(dump).toHaveLength(1);
    expect(dump[0].argv).toEqual(expect.arrayContaining(["--databases", site.dbName]));
    const calls = sbx.calls();
    const dumpAt = calls.findIndex((c) => c.name === "mysqldump");
    const dropAt = calls.findIndex((c) => c.name === "mysql" && (c.stdin?.toString() ?? "").includes("DROP DATABASE"));
    expect(dropAt).toBeGreaterThan(dumpAt);
    const [archive] = readdirSync(site.archiveDir).filter((f) => f.endsWith("-reset.tar.gz"));
    expect(execFileSync("tar", ["-tzf", join(site.archiveDir, archive)], { encoding: "utf8" })).toContain("database.sql");
    expect(mode(join(site.archiveDir, archive))).toBe("600");
  }, SLOW);

  it("destroys nothing when the archive of a reset cannot be written", () => {
    const script = installCommand();
    expect(sbx.run(script, STDIN).status).toBe(0);
    rmSync(join(site.siteRoot, ".installed"));
    sbx.setState("config_tables", "1\n");
    writeFileSync(join(site.dataDir, "homework"), "x");
    sbx.setState("mysqldump_fail");
    sbx.clearLog();
    expect(sbx.run(script, STDIN).status).not.toBe(0);
    expect(mysqlInput(sbx)).not.toContain("DROP DATABASE");
    expect(existsSync(join(site.dataDir, "homework"))).toBe(true);
    expect(sbx.callsOf("redis-cli").some((c) => (c.stdin?.toString() ?? "").includes("EVAL "))).toBe(false);
  }, SLOW);

  it("a failed installer leaves no marker, no vhost and no cron; the next run cleans up and finishes", () => {
    const script = installCommand();
    sbx.setState("php_exit", "1");
    const failed = sbx.run(script, STDIN);
    expect(failed.status).not.toBe(0);
    expect(failed.stdout).toBe("");
    expect(existsSync(join(site.siteRoot, "site-config.php"))).toBe(true);
    expect(existsSync(join(site.siteRoot, ".installed"))).toBe(false);
    expect(existsSync(join(site.siteRoot, "install-wrapper.php"))).toBe(false);
    expect(existsSync(join(sbx.paths.apacheDir, "sites-enabled/moodle-04123456.conf"))).toBe(false);
    expect(existsSync(join(sbx.paths.cronDir, "moodle-04123456"))).toBe(false);
    writeFileSync(join(site.dataDir, "half-written"), "x");

    sbx.clearState("php_exit");
    sbx.clearLog();
    const r = sbx.run(script, STDIN);
    expect(r.status, r.stderr).toBe(0);
    expect(mysqlInput(sbx)).toContain("DROP DATABASE IF EXISTS");
    expect(existsSync(join(site.dataDir, "half-written"))).toBe(false);
    expect(existsSync(join(site.siteRoot, ".installed"))).toBe(true);
    expect(existsSync(PAYLOAD)).toBe(false);
  }, SLOW);

  it("rolls back a vhost that Apache rejects and leaves other sites untouched", () => {
    const other = join(sbx.paths.apacheDir, "sites-available/moodle-other.conf");
    writeFileSync(other, "# another site\n");
    sbx.setState("apachectl_fail");
    const r = sbx.run(installCommand(), STDIN);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Apache rejected the vhost/);
    expect(existsSync(join(sbx.paths.apacheDir, "sites-available/moodle-04123456.conf"))).toBe(false);
    expect(existsSync(join(sbx.paths.apacheDir, "sites-enabled/moodle-04123456.conf"))).toBe(false);
    expect(existsSync(join(sbx.paths.phpEtcDir, "8.2/fpm/pool.d/moodle-04123456.conf"))).toBe(false);
    expect(readFileSync(other, "utf8")).toBe("# another site\n");
    expect(sbx.callsOf("systemctl")).toHaveLength(0);
  });

  it("accepts a last line without a newline", () => {
    const r = sbx.run(installCommand(), `${DB_PASS}\n${ADMIN_PASS}`);
    expect(r.status, r.stderr).toBe(0);
    expect(moodleRuns()[0].stdin?.toString("utf8")).toBe(`${ADMIN_PASS}\n`);
  });

  it("records the site's parameters first, 0600 root in a 0700 directory, the hostile name exactly", () => {
    expect(sbx.run(installCommand({ ...site, uid: 204123 }), STDIN).status).toBe(0);
    const spec = join(sbx.paths.fleetEtcDir, "sites/04123456.env");
    expect(mode(spec)).toBe("600");
    expect(mode(join(sbx.paths.fleetEtcDir, "sites"))).toBe("700");
    const reread = spawnSync("bash", ["-c", 'source "$1"; printf "%s\\0" "$FULL_NAME" "$DATA_DIR" "$SITE_UID"', "-", spec], { encoding: "utf8" });
    expect(reread.stdout.split("\0").slice(0, -1)).toEqual([HOSTILE_NAME, site.dataDir, "204123"]);
    expect(existsSync(PAYLOAD)).toBe(false);
    for (const t of SECRET_TOKENS) expect(readFileSync(spec, "utf8")).not.toContain(t);
    // The optional uid reaches useradd.
    expect(sbx.callsOf("useradd")[0].argv).toEqual(expect.arrayContaining(["--uid", "204123"]));
    expect(readFileSync(join(sbx.paths.fleetEtcDir, "sites/04123456.applied"), "utf8").trim()).toBe(siteToolDigest());
  });

  it("re-applies a finished site with a new tool version from what is on the host, no secrets needed", () => {
    expect(sbx.run(installCommand(), STDIN).status).toBe(0);
    const configBefore = readFileSync(join(site.siteRoot, "site-config.php"), "utf8");
    const newer = siteToolFiles().map((f) =>
      f.path === "templates/pool.conf" ? { ...f, content: `${f.content}php_admin_value[memory_limit] = 256M\n` } : f,
    );
    const tool = sbx.installSiteTool(newer, "f".repeat(64));
    sbx.clearLog();

    const passwordsBefore = statSync(join(site.siteRoot, "passwords")).mtimeMs;
    const r = sbx.run(`${tool} reapply 04123456`, "");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(statSync(join(site.siteRoot, "passwords")).mtimeMs).toBe(passwordsBefore);
    const pool = readFileSync(join(sbx.paths.phpEtcDir, "8.2/fpm/pool.d/moodle-04123456.conf"), "utf8");
    expect(pool).toContain("php_admin_value[memory_limit] = 256M\n");
    expect(sbx.callsOf("systemctl").map((c) => c.argv.join(" "))).toEqual(["reload-or-restart php8.2-fpm"]);
    // The database password line is copied as it was; the account, the data and Moodle are left alone.
    expect(readFileSync(join(site.siteRoot, "site-config.php"), "utf8")).toBe(configBefore);
    expect(mysqlInput(sbx)).not.toMatch(/ALTER USER|CREATE USER|DROP DATABASE/);
    expect(sbx.callsOf("php")).toHaveLength(0);
    expect(readFileSync(join(sbx.paths.fleetEtcDir, "sites/04123456.applied"), "utf8").trim()).toBe("f".repeat(64));
    const exposed = everythingPassedAsArgsOrEnv(sbx.calls());
    for (const t of SECRET_TOKENS) expect(exposed).not.toContain(t);
  }, SLOW);

  it("leaves a site that never finished installing to its own next install when re-applying", () => {
    sbx.setState("php_exit", "1");
    expect(sbx.run(installCommand(), STDIN).status).not.toBe(0);
    writeFileSync(join(site.dataDir, "half-written"), "x");
    sbx.clearLog();
    const r = sbx.run(`${sbx.installSiteTool()} reapply 04123456`, "");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/not a finished install: left for the site's own install/);
    expect(existsSync(join(site.dataDir, "half-written"))).toBe(true);
    expect(mysqlInput(sbx)).not.toContain("DROP DATABASE");
    expect(sbx.callsOf("redis-cli")).toHaveLength(0);
  }, SLOW);

  it("refuses what validation refuses, also when the command line is written by hand", () => {
    const tool = installCommand().split(" ")[0];
    for (const [flag, value] of [
      ["site-user", "root"],
      ["db-name", "x`; DROP"],
      ["data-dir", "/srv/../etc/x"],
      ["url", "https://other.example.org"],
      ["php-workers", "0"],
      ["site-uid", "0"],
    ]) {
      const line = installCommand().replace(new RegExp(`--${flag}=\\S+`), "") + ` --${flag}=${shellQuote(value)}`;
      const r = sbx.run(line, STDIN);
      expect(r.status, `${flag}=${value}`).not.toBe(0);
      expect(r.stderr, `${flag}=${value}`).toContain(flag);
    }
    expect(sbx.run(`${tool} install --school-id=04123456`, STDIN).stderr).toMatch(/--full-name is missing/);
    expect(sbx.run(`${installCommand()} --colour=red`, STDIN).stderr).toMatch(/unknown parameter --colour/);
    expect(sbx.callsOf("useradd")).toHaveLength(0);
    expect(sbx.callsOf("mysql")).toHaveLength(0);
  }, SLOW);

  it("rejects inputs that would not be safe as names or paths", () => {
    const bad: Array<Partial<SiteScriptInput>> = [
      { linuxUser: "Bad User" },
      { linuxUser: "root" },
      { dbName: "x`; DROP" },
      { schoolId: "../etc" },
      { dataDir: sbx.p("srv/moodle/release/data") },
      { siteRoot: "/srv/../etc" },
      { url: "https://other.example.org" },
      { url: "https://04123456.moodle.example.org/" },
      { fqdn: "bad name.example.org" },
      { fullName: "a\0b" },
      { fullName: "   " },
      { shortName: "a\nb" },
      { phpWorkers: 0 },
      // Addresses Moodle's installer would refuse (exit 1, mid-up).
      { adminEmail: "admin@localhost" },
      { adminEmail: "a..b@example.org" },
      { adminEmail: "<admin@example.org>" },
      { adminEmail: `${"a".repeat(90)}@example.org` },
    ];
    for (const b of bad) {
      expect(() => siteInstallCommand({ ...site, ...b }), JSON.stringify(b)).toThrow(ScriptInputError);
    }
  });

});

describe("moodle-fleet-site install: the site's passwords", () => {
  const passwordsPath = () => join(site.siteRoot, "passwords");
  const specPath = (id = site.schoolId) => join(sbx.paths.fleetEtcDir, `sites/${id}.env`);
  const passwordLines = (s: SiteScriptInput = site) => {
    const text = readFileSync(join(s.siteRoot, "passwords"), "utf8");
    expect(text).toMatch(/^[^\n]+\n[^\n]+\n$/);
    const [db, admin] = text.split("\n");
    return { db, admin };
  };
  const accountSql = (db: string) => [
    `CREATE USER IF NOT EXISTS '${site.dbUser}'@'localhost' IDENTIFIED BY ${sqlQuote(db)};`,
    `ALTER USER '${site.dbUser}'@'localhost' IDENTIFIED BY ${sqlQuote(db)};`,
  ];

  it("makes a new site's passwords on the host when no stdin comes, keeps them first, and uses them everywhere", () => {
    const r = sbx.run(installCommand(), "");
    expect(r.status, r.stderr).toBe(0);
    expect(sbx.violations()).toBe("");
    expect(existsSync(PAYLOAD)).toBe(false);
    expect(mode(passwordsPath())).toBe("600");
    const { db, admin } = passwordLines();
    expectHostPassword(db);
    expectHostPassword(admin);
    expect(db).not.toBe(admin);
    // The admin password the stack keeps for the mail-out is the host's.
    expect(r.stdout).toBe(`admin-password: ${admin}\n`);
    // The database account, site-config.php and Moodle's installer got them.
    const sql = mysqlInput(sbx);
    for (const line of accountSql(db)) expect(sql).toContain(line);
    expect(readFileSync(join(site.siteRoot, "site-config.php"), "utf8")).toContain(`\n$CFG->dbpass    = ${phpQuote(db)};\n`);
    expect(moodleRuns()[0].stdin?.toString("utf8")).toBe(`${admin}\n`);
    // No password in any process's arguments or environment (od's included),
    // and no copy beyond the passwords file and site-config.php.
    const exposed = everythingPassedAsArgsOrEnv(sbx.calls());
    expect(exposed).not.toContain(db);
    expect(exposed).not.toContain(admin);
    expect(sbx.callsOf("od").length).toBeGreaterThan(0);
    expect(filesWithSecrets(sbx, [db, admin])).toEqual(
      [relative(sbx.root, passwordsPath()), relative(sbx.root, join(site.siteRoot, "site-config.php"))].sort(),
    );

    // Kept before the database account got one, in a site root that was
    // root's alone until the site's group got it; the file 0600 root:root
    // from its first byte.
    const calls = sbx.calls();
    const kept = calls.findIndex((c) => c.name === "mv" && c.argv.at(-1) === passwordsPath());
    const account = calls.findIndex((c) => c.name === "mysql" && (c.stdin?.toString() ?? "").includes("CREATE USER"));
    expect(kept).toBeGreaterThan(-1);
    expect(account).toBeGreaterThan(kept);
    const passwordsWrite = sbx.callsOf("cat").find((c) => (c.extra["stdout-path"] ?? "").startsWith(`${passwordsPath()}.new.`));
    expect(passwordsWrite?.extra["stdout-mode"]).toBe("600");
    const passwordsChown = sbx.callsOf("chown").find((c) => c.argv.some((a) => a.startsWith(`${passwordsPath()}.new.`)));
    expect(passwordsChown?.argv).toContain("root:root");
    const rootModes = sbx.callsOf("chmod").filter((c) => c.argv.at(-1) === site.siteRoot).map((c) => c.argv.at(-2));
    expect(rootModes).toEqual(["0700", "0750"]);
    const rootOwners = sbx.callsOf("chown").filter((c) => c.argv.at(-1) === site.siteRoot).map((c) => c.argv.at(-2));
    expect(rootOwners).toEqual(["root:root", `root:${site.linuxUser}`]);
    expect(mode(site.siteRoot)).toBe("750");
    // ...and before the site's parameters were recorded.
    const recorded = calls.findIndex((c) => c.name === "mv" && c.argv.at(-1) === specPath());
    expect(recorded).toBeGreaterThan(kept);

    // The next run, again without stdin, keeps them.
    sbx.clearLog();
    const again = sbx.run(installCommand(), "");
    expect(again.status, again.stderr).toBe(0);
    expect(passwordLines()).toEqual({ db, admin });
    expect(again.stdout).toBe(`admin-password: ${admin}\n`);
    for (const line of accountSql(db)) expect(mysqlInput(sbx)).toContain(line);
    expect(again.stderr).not.toMatch(/warning/);

    // Another site gets passwords of its own.
    const other = sbx.site({ schoolId: "04123457" });
    sbx.clearState("config_tables");
    const second = sbx.run(installCommand(other), "");
    expect(second.status, second.stderr).toBe(0);
    const theirs = passwordLines(other);
    expectHostPassword(theirs.db);
    expectHostPassword(theirs.admin);
    expect([theirs.db, theirs.admin]).not.toContain(db);
    expect([theirs.db, theirs.admin]).not.toContain(admin);
    expect(second.stdout).toBe(`admin-password: ${theirs.admin}\n`);
  }, SLOW);

  it("keeps the site's own passwords over another pair on stdin, and prints the admin password only when asked", () => {
    expect(sbx.run(installCommand(), STDIN).status).toBe(0);
    expect(readFileSync(passwordsPath(), "utf8")).toBe(STDIN);
    const other = stackPasswordsStdin({ dbPassword: "OtherDb1-x", adminPassword: "OtherAdmin2-y" });
    const otherTokens = ["OtherDb1-x", "OtherAdmin2-y"];
    const unasked = installCommand().replace(" --print-admin-password ", " ");
    expect(unasked).not.toContain("print-admin-password");
    sbx.clearLog();
    const r = sbx.run(unasked, other);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`warning: the site keeps its own passwords (${passwordsPath()}); the ones on standard input are not used`);
    for (const t of [...SECRET_TOKENS, ...otherTokens]) expect(r.stderr).not.toContain(t);
    expect(readFileSync(passwordsPath(), "utf8")).toBe(STDIN);
    expect(mode(passwordsPath())).toBe("600");
    // The database account keeps the site's password; the other pair went nowhere.
    const sql = mysqlInput(sbx);
    for (const line of accountSql(DB_PASS)) expect(sql).toContain(line);
    for (const t of otherTokens) expect(sql).not.toContain(t);
    expect(filesWithSecrets(sbx, otherTokens)).toEqual([]);
    expect(everythingPassedAsArgsOrEnv(sbx.calls())).not.toContain("OtherDb1");

    const asked = sbx.run(installCommand(), other);
    expect(asked.status, asked.stderr).toBe(0);
    expect(asked.stdout).toBe(`admin-password: ${ADMIN_PASS}\n`);
    expect(filesWithSecrets(sbx, otherTokens)).toEqual([]);
  }, SLOW);

  it("takes an older stack's pair for an installed site that has no passwords file yet", () => {
    expect(sbx.run(installCommand(), STDIN).status).toBe(0);
    rmSync(passwordsPath());
    const r = sbx.run(installCommand(), STDIN);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(passwordsPath(), "utf8")).toBe(STDIN);
    expect(mode(passwordsPath())).toBe("600");
    expect(r.stdout).toBe(`admin-password: ${ADMIN_PASS}\n`);
  }, SLOW);

  it("refuses an installed site without its passwords file and without stdin, changing nothing", () => {
    expect(sbx.run(installCommand(), STDIN).status).toBe(0);
    rmSync(passwordsPath());
    const spec = readFileSync(specPath());
    const before = sandboxFiles(sbx);
    sbx.clearLog();
    // With other parameters too: a refused install must not record them.
    const r = sbx.run(installCommand({ ...site, phpWorkers: 7 }), "");
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      `the site is installed (${site.siteRoot}/.installed) but has no passwords file (${passwordsPath()}) and none came on standard input`,
    );
    expect(r.stderr).toContain("nothing was changed");
    expect(sandboxFiles(sbx)).toEqual(before);
    expect(readFileSync(specPath())).toEqual(spec);
    expect(existsSync(passwordsPath())).toBe(false);
    expect(sbx.calls().filter((c) => HOST_CHANGING.includes(c.name))).toEqual([]);
  }, SLOW);

  it("refuses one password on stdin, naming the empty line, before anything is recorded", () => {
    for (const [stdin, line] of [
      ["only-one-line\n", "line 2 (admin password)"],
      ["only-one-line", "line 2 (admin password)"],
      [`\n${ADMIN_PASS}\n`, "line 1 (database password)"],
    ]) {
      const before = sandboxFiles(sbx);
      sbx.clearLog();
      const r = sbx.run(installCommand(), stdin);
      expect(r.status, JSON.stringify(stdin)).not.toBe(0);
      expect(r.stderr).toContain(`standard input ${line} is empty`);
      expect(r.stdout).toBe("");
      expect(sandboxFiles(sbx)).toEqual(before);
      expect(existsSync(specPath())).toBe(false);
      expect(existsSync(site.siteRoot)).toBe(false);
      expect(sbx.calls().filter((c) => HOST_CHANGING.includes(c.name))).toEqual([]);
    }

    // An installed site with its passwords file: refused all the same.
    expect(sbx.run(installCommand(), STDIN).status).toBe(0);
    const before = sandboxFiles(sbx);
    sbx.clearLog();
    const r = sbx.run(installCommand(), `${DB_PASS}\n`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("standard input line 2 (admin password) is empty");
    expect(sandboxFiles(sbx)).toEqual(before);
    expect(sbx.calls().filter((c) => HOST_CHANGING.includes(c.name))).toEqual([]);
  }, SLOW);

  it("refuses a passwords file that is a symlink, not root's, open to others or incomplete", () => {
    expect(sbx.run(installCommand(), STDIN).status).toBe(0);
    const elsewhere = sbx.p("srv/elsewhere-passwords");
    writeFileSync(elsewhere, STDIN, { mode: 0o600 });
    const cases: Array<[string, () => void, string]> = [
      ["group-readable", () => chmodSync(passwordsPath(), 0o640), "must be a regular file (no symlink) owned by root"],
      ["world-readable", () => chmodSync(passwordsPath(), 0o604), "must be a regular file (no symlink) owned by root"],
      ["group-writable", () => chmodSync(passwordsPath(), 0o620), "must be a regular file (no symlink) owned by root"],
      ["not root's", () => chownSync(passwordsPath(), 1000, 1000), "must be a regular file (no symlink) owned by root"],
      ["a symlink", () => { rmSync(passwordsPath()); symlinkSync(elsewhere, passwordsPath()); }, "must be a regular file (no symlink) owned by root"],
      ["a dangling symlink", () => { rmSync(passwordsPath()); symlinkSync(sbx.p("srv/nothing"), passwordsPath()); }, "must be a regular file (no symlink) owned by root"],
      ["a directory", () => { rmSync(passwordsPath()); mkdirSync(passwordsPath(), { mode: 0o700 }); }, "must be a regular file (no symlink) owned by root"],
      ["one line", () => writeFileSync(passwordsPath(), `${DB_PASS}\n`, { mode: 0o600 }), "must hold two non-empty lines"],
    ];
    for (const [name, spoil, message] of cases) {
      rmSync(passwordsPath(), { recursive: true, force: true });
      writeFileSync(passwordsPath(), STDIN, { mode: 0o600 });
      spoil();
      const before = sandboxFiles(sbx);
      sbx.clearLog();
      for (const stdin of ["", STDIN]) {
        const r = sbx.run(installCommand(), stdin);
        expect(r.status, name).not.toBe(0);
        expect(r.stderr, name).toContain(`${passwordsPath()} ${message}`);
        expect(r.stdout, name).toBe("");
        for (const t of SECRET_TOKENS) expect(r.stderr, name).not.toContain(t);
      }
      expect(sandboxFiles(sbx), name).toEqual(before);
      expect(sbx.calls().filter((c) => HOST_CHANGING.includes(c.name)), name).toEqual([]);
    }
    // Mended, the file is the site's again.
    rmSync(passwordsPath(), { recursive: true, force: true });
    writeFileSync(passwordsPath(), STDIN, { mode: 0o600 });
    const r = sbx.run(installCommand(), "");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`admin-password: ${ADMIN_PASS}\n`);
  }, SLOW);
});

describe("new_password (lib.sh)", () => {
  it("makes distinct passwords by the rules, the classes at no fixed place", () => {
    // lib.sh's password section alone, with the die it calls.
    const lib = readFileSync(LIB_SH_PATH, "utf8");
    const start = lib.indexOf("\n#@ password\n");
    expect(start).toBeGreaterThan(-1);
    const end = lib.indexOf("\n#@ ", start + 1);
    const section = lib.slice(start, end < 0 ? undefined : end);
    const script = `set -euo pipefail\ndie() { printf '%s\\n' "$*" >&2; exit 1; }\n${section}\nfor ((n = 0; n < 200; n++)); do new_password; printf '\\n'; done\n`;
    const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const passwords = r.stdout.split("\n").slice(0, -1);
    expect(passwords).toHaveLength(200);
    for (const p of passwords) expectHostPassword(p);
    expect(new Set(passwords).size).toBe(200);
    // Shuffled: 400 specials turn up at every one of the 23 places after
    // the first (each missing one has a chance of about e^-17); and all 70
    // characters are used.
    const specialPlaces = new Set(passwords.flatMap((p) => [...p].flatMap((c, i) => (SPECIALS.includes(c) ? [i] : []))));
    expect([...specialPlaces].sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    expect(new Set(passwords.join("")).size).toBe(70);
  });
});

describe("moodle-fleet-site install: a new release", () => {
  const NEXT = "fedcba9876543210";
  const UPGRADE_MARK = "<!-- moodle-fleet: upgrading -->";
  const page = () => join(site.dataDir, "climaintenance.html");
  const recorded = () => readFileSync(join(sbx.paths.fleetEtcDir, "sites/04123456.release"), "utf8").trim();
  const vhost = () => readFileSync(join(sbx.paths.apacheDir, "sites-available/moodle-04123456.conf"), "utf8");
  const pool = () => readFileSync(join(sbx.paths.phpEtcDir, "8.2/fpm/pool.d/moodle-04123456.conf"), "utf8");
  const cronText = () => readFileSync(join(sbx.paths.cronDir, "moodle-04123456"), "utf8");
  const upgrades = () => sbx.callsOf("php").filter((c) => c.argv.some((a) => a.endsWith("/admin/cli/upgrade.php")));
  let oldDir: string;
  let newDir: string;

  beforeEach(() => {
    oldDir = join(site.releaseDir, RELEASE_KEY);
    expect(sbx.run(installCommand(), STDIN).status).toBe(0);
    expect(recorded()).toBe(oldDir);
    newDir = sbx.fakeRelease(NEXT, { version: "2024100701.00" });
    sbx.setState("db_version", "2024100700.00\n");
    sbx.clearLog();
  }, SLOW);

  it("upgrades a finished site: maintenance on, code switched, upgrade.php as the site's user, maintenance off", () => {
    const r = sbx.run(installCommand({ ...site, releaseId: NEXT }), STDIN);
    expect(r.status, r.stderr).toBe(0);
    const up = upgrades();
    expect(up).toHaveLength(1);
    expect(up[0].argv).toEqual([join(newDir, "admin/cli/upgrade.php"), "--non-interactive"]);
    expect(up[0].env).toContain(`MOODLE_SITE_CONFIG=${site.siteRoot}/site-config.php`);
    expect(sbx.callsOf("runuser").at(-1)!.argv.slice(0, 3)).toEqual(["-u", site.linuxUser, "--"]);
    // Moodle's maintenance page was in the dataroot while the upgrade ran, and is gone after.
    expect(up[0].extra.maintenance.split("\n")[0]).toBe(UPGRADE_MARK);
    expect(existsSync(page())).toBe(false);
    // The site's code is the new release: vhost, pool, cron and its record.
    expect(vhost()).toContain(`DocumentRoot ${newDir}\n`);
    expect(pool()).toContain(`:${newDir}/:`);
    expect(cronText()).toContain(`php ${newDir}/admin/cli/cron.php`);
    expect(recorded()).toBe(newDir);
    expect(existsSync(join(oldDir, "admin/cli/install_database.php"))).toBe(true); // the tool never removes a release
    // Nothing was reinstalled or reset.
    expect(sbx.callsOf("php").filter((c) => c.argv.some((a) => a.endsWith("install_database.php")))).toHaveLength(0);
    expect(mysqlInput(sbx)).not.toContain("DROP DATABASE");
    expect(r.stderr).toContain(`upgrading from ${oldDir} (Moodle 2024100700.00) to release ${NEXT} (Moodle 2024100701.00)`);

    // The next run with the same release changes nothing and runs no upgrade.
    sbx.clearLog();
    expect(sbx.run(installCommand({ ...site, releaseId: NEXT }), STDIN).status).toBe(0);
    expect(upgrades()).toHaveLength(0);
  }, SLOW);

  it("a failed upgrade leaves the site in maintenance, fails naming the school, and the next run finishes it", () => {
    sbx.setState("upgrade_exit", "1");
    const r = sbx.run(installCommand({ ...site, releaseId: NEXT }), STDIN);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`school 04123456: Moodle's upgrade to release ${NEXT} failed (exit 1): the site stays in maintenance`);
    expect(readFileSync(page(), "utf8").split("\n")[0]).toBe(UPGRADE_MARK);
    expect(recorded()).toBe(oldDir); // not upgraded yet

    // A re-apply by a new tool version leaves the pending upgrade alone: still in maintenance.
    sbx.clearLog();
    const reapply = sbx.run(`${sbx.installSiteTool(siteToolFiles(), "f".repeat(64))} reapply 04123456`, "");
    expect(reapply.status, reapply.stderr).toBe(0);
    expect(reapply.stderr).toContain(`the switch to release ${NEXT} is pending: left for the site's own install`);
    expect(existsSync(page())).toBe(true);
    expect(upgrades()).toHaveLength(0);

    sbx.clearState("upgrade_exit");
    sbx.clearLog();
    const again = sbx.run(installCommand({ ...site, releaseId: NEXT }), STDIN);
    expect(again.status, again.stderr).toBe(0);
    expect(upgrades()).toHaveLength(1);
    expect(existsSync(page())).toBe(false);
    expect(recorded()).toBe(newDir);
  }, SLOW);

  it("takes upgrade.php's exit 63 (no upgrade needed) as done", () => {
    sbx.setState("upgrade_exit", "63");
    const r = sbx.run(installCommand({ ...site, releaseId: NEXT }), STDIN);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(page())).toBe(false);
    expect(recorded()).toBe(newDir);
  }, SLOW);

  it("refuses a downgrade before touching the site, as Moodle refuses it", () => {
    sbx.setState("db_version", "2024100702.00\n");
    const r = sbx.run(installCommand({ ...site, releaseId: NEXT }), STDIN);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      `school 04123456: refusing to downgrade: its database is at Moodle version 2024100702.00, release ${NEXT} has 2024100701.00`,
    );
    expect(upgrades()).toHaveLength(0);
    expect(existsSync(page())).toBe(false);
    expect(vhost()).toContain(`DocumentRoot ${oldDir}\n`);
    expect(recorded()).toBe(oldDir);
  }, SLOW);

  it("refuses a release whose PHP minimum is above the host's PHP, before maintenance or any switch", () => {
    sbx.fakeRelease("0000aaaa0000aaaa", { version: "2025100600.00", phpMinimum: "8.3.0" });
    sbx.setState("php_full_version", "8.2.29");
    const r = sbx.run(installCommand({ ...site, releaseId: "0000aaaa0000aaaa" }), STDIN);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("school 04123456: release 0000aaaa0000aaaa needs PHP 8.3.0 or later (lib/phpminimumversionlib.php); this host has PHP 8.2.29");
    expect(upgrades()).toHaveLength(0);
    expect(existsSync(page())).toBe(false);
    expect(vhost()).toContain(`DocumentRoot ${oldDir}\n`);
  }, SLOW);

  it("serves Moodle 5.1's public/ and routes what no file answers to r.php; the CLI scripts are run from public/", () => {
    const v51 = sbx.fakeRelease("5151515151515151", { version: "2025100600.00", phpMinimum: "8.2.0", public: true, router: true });
    const r = sbx.run(installCommand({ ...site, releaseId: "5151515151515151" }), STDIN);
    expect(r.status, r.stderr).toBe(0);
    expect(vhost()).toContain(`DocumentRoot ${v51}/public\n    AcceptPathInfo On\n    FallbackResource /r.php\n`);
    expect(upgrades()[0].argv[0]).toBe(join(v51, "public/admin/cli/upgrade.php"));
    expect(cronText()).toContain(`php ${v51}/public/admin/cli/cron.php`);
    // open_basedir takes the whole release: config.php stays in its root.
    expect(pool()).toContain(`:${v51}/:/tmp/`);

    // A new site on it is installed from public/ as well.
    const other = sbx.site({ schoolId: "04123457", releaseId: "5151515151515151" });
    sbx.clearState("config_tables");
    sbx.clearLog();
    expect(sbx.run(installCommand(other), STDIN).status).toBe(0);
    expect(sbx.callsOf("php").some((c) => c.argv[1] === join(v51, "public/admin/cli/install_database.php"))).toBe(true);
  }, SLOW);

  it("without a release named, a new site runs the host's current one and records it", () => {
    writeFileSync(join(site.releaseDir, ".current"), `${NEXT}\n`);
    const other = sbx.site({ schoolId: "04123457", releaseId: undefined });
    sbx.clearState("config_tables");
    expect(sbx.run(installCommand(other), STDIN).status).toBe(0);
    expect(readFileSync(join(sbx.paths.fleetEtcDir, "sites/04123457.env"), "utf8")).toContain(`\nRELEASE_ID=${NEXT}\n`);
    expect(readFileSync(join(sbx.paths.fleetEtcDir, "sites/04123457.release"), "utf8").trim()).toBe(newDir);
  }, SLOW);
});

describe("moodle-fleet-site delete", () => {
  let configBefore = "";
  function install(): void {
    const r = sbx.run(installCommand(), STDIN);
    expect(r.status, r.stderr).toBe(0);
    configBefore = readFileSync(join(site.siteRoot, "site-config.php"), "utf8");
    sbx.setState("users/" + site.linuxUser);
    writeFileSync(join(site.dataDir, "uploaded.txt"), "homework");
    sbx.clearLog();
  }

  function archives(): string[] {
    return existsSync(site.archiveDir) ? readdirSync(site.archiveDir).filter((f) => f.endsWith(".tar.gz")) : [];
  }


  it("archives database, data and config, then removes everything", () => {
    install();
    const r = sbx.run(deleteCommand(), "");
    expect(r.status, r.stderr).toBe(0);
    expect(sbx.violations()).toBe("");
    expect(existsSync(PAYLOAD)).toBe(false);

    const [archive] = archives();
    expect(archive).toMatch(/^04123456-\d{8}T\d{6}Z\.tar\.gz$/);
    const archivePath = join(site.archiveDir, archive);
    expect(mode(archivePath)).toBe("600");
    expect(mode(site.archiveDir)).toBe("700");
    const listing = execFileSync("tar", ["-tzf", archivePath], { encoding: "utf8" }).split("\n");
    expect(listing).toEqual(expect.arrayContaining(["manifest.txt", "database.sql", "site-config.php", "04123456/uploaded.txt"]));
    expect(listing).toContain("moodle-04123456.log"); // the cron log goes with it
    const config = execFileSync("tar", ["-xzOf", archivePath, "site-config.php"], { encoding: "utf8" });
    expect(config).toBe(configBefore);

    const dump = sbx.callsOf("mysqldump");
    expect(dump).toHaveLength(1);
    expect(dump[0].argv).toEqual(expect.arrayContaining(["--single-transaction", "--databases", site.dbName]));
    const calls = sbx.calls();
    const dumpAt = calls.findIndex((c) => c.name === "mysqldump");
    const dropAt = calls.findIndex((c) => c.name === "mysql" && (c.stdin?.toString() ?? "").includes("DROP DATABASE"));
    expect(dumpAt).toBeGreaterThan(-1);
    expect(dropAt).toBeGreaterThan(dumpAt);
    expect(mysqlInput(sbx)).toContain(`DROP USER IF EXISTS '${site.dbUser}'@'localhost';`);

    expect(existsSync(site.dataDir)).toBe(false);
    expect(existsSync(site.siteRoot)).toBe(false);
    expect(existsSync(join(sbx.paths.cronDir, "moodle-04123456"))).toBe(false);
    expect(existsSync(join(sbx.paths.apacheDir, "sites-available/moodle-04123456.conf"))).toBe(false);
    expect(existsSync(join(sbx.paths.apacheDir, "sites-enabled/moodle-04123456.conf"))).toBe(false);
    expect(existsSync(join(sbx.paths.phpEtcDir, "8.2/fpm/pool.d/moodle-04123456.conf"))).toBe(false);
    expect(sbx.callsOf("userdel").map((c) => c.argv)).toEqual([[site.linuxUser]]);
    expect(sbx.callsOf("pkill").map((c) => c.argv)).toEqual([["-KILL", "-u", site.linuxUser]]);
    expect(existsSync(join(sbx.paths.logDir, "cron/moodle-04123456.log"))).toBe(false);
    // The site's sessions and its Redis user are gone.
    const redis = redisInput(sbx);
    expect(redis).toMatch(/EVAL ".*" 0 "moodle:04123456:\*"\n/);
    expect(redis).toContain("ACL DELUSER moodle-04123456\nACL SAVE\n");
    expect(existsSync(join(sbx.state, "redis_users/moodle-04123456"))).toBe(false);

    const exposed = everythingPassedAsArgsOrEnv(sbx.calls());
    for (const t of SECRET_TOKENS) expect(exposed).not.toContain(t);
    // No plain-text copy of a secret is left; the (compressed) archive holds
    // site-config.php and is 0600 in a 0700 directory, checked above.
    expect(filesWithSecrets(sbx)).toEqual([]);
  }, SLOW);

  it("succeeds again when everything is already gone, without a new archive", () => {
    install();
    const spec = join(sbx.paths.fleetEtcDir, "sites/04123456.env");
    const recorded = readFileSync(spec);
    const script = deleteCommand();
    expect(sbx.run(script, "").status).toBe(0);
    expect(existsSync(spec)).toBe(false); // the recorded parameters go last
    const first = archives();

    // A delete cut off just before its last step: everything but the record is gone.
    writeFileSync(spec, recorded, { mode: 0o600 });
    sbx.clearLog();
    const again = sbx.run(script, "");
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/nothing left to archive/);
    expect(archives()).toEqual(first);
    expect(sbx.callsOf("mysqldump")).toHaveLength(0);
    expect(existsSync(spec)).toBe(false);

    const third = sbx.run(script, "");
    expect(third.status, third.stderr).toBe(0);
    expect(third.stderr).toMatch(/no site 04123456 recorded on this host: nothing to remove/);
  }, SLOW);

  it("archives what an install cut off early left (data only), knowing only the school id", () => {
    // The install records the site's parameters before anything else
    // (the site's passwords aside), here before it finds the host's PHP too
    // old for the release.
    sbx.setState("php_full_version", "7.4.33");
    const cut = sbx.run(installCommand(), "");
    expect(cut.status).not.toBe(0);
    expect(cut.stderr).toContain("needs PHP 8.1.0 or later");
    sbx.clearState("php_full_version");
    mkdirSync(site.dataDir, { recursive: true });
    writeFileSync(join(site.dataDir, "orphan"), "x");
    const r = sbx.run(deleteCommand(), "");
    expect(r.status, r.stderr).toBe(0);
    const [archive] = archives();
    const listing = execFileSync("tar", ["-tzf", join(site.archiveDir, archive)], { encoding: "utf8" });
    expect(listing).toContain("04123456/orphan");
    expect(listing).not.toContain("database.sql");
    expect(execFileSync("tar", ["-xzOf", join(site.archiveDir, archive), "manifest.txt"], { encoding: "utf8" })).toContain(
      `school: 04123456\nfqdn: ${site.fqdn}\nurl: ${site.url}\n`,
    );
    expect(existsSync(site.dataDir)).toBe(false);
  }, SLOW);

  it("only warns when Redis cannot be reached", () => {
    install();
    sbx.setState("redis_fail");
    const r = sbx.run(deleteCommand(), "");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: could not delete the site's Redis keys/);
    expect(r.stderr).toMatch(/warning: could not remove the site's Redis user/);
    expect(existsSync(site.dataDir)).toBe(false);
  }, SLOW);

  it("destroys nothing when the dump fails", () => {
    install();
    sbx.setState("mysqldump_fail");
    const r = sbx.run(deleteCommand(), "");
    expect(r.status).not.toBe(0);
    expect(existsSync(join(site.dataDir, "uploaded.txt"))).toBe(true);
    expect(existsSync(join(site.siteRoot, "site-config.php"))).toBe(true);
    expect(mysqlInput(sbx)).not.toContain("DROP DATABASE");
    expect(archives()).toEqual([]);
    expect(readdirSync(site.archiveDir)).toEqual([]); // no partial archive or staging left
  }, SLOW);
});
