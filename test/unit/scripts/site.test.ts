import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ScriptInputError,
  siteConfigPhp,
  siteDeleteScript,
  siteInstallScript,
  siteInstallStdin,
  sqlQuote,
  type SiteScriptInput,
} from "../../../infra/scripts";
import { siteCronFile, sitePoolConf, siteVhostConf } from "../../../infra/scripts/configs";
import { MAINTENANCE_MARK } from "../../../infra/scripts/site";
import { createHash } from "node:crypto";
import { Sandbox, everythingPassedAsArgsOrEnv } from "./sandbox";

const PAYLOAD = `/tmp/PWNED_${randomBytes(6).toString("hex")}`;
const HOSTILE_NAME = `$(touch ${PAYLOAD}) 'single' "double" \`touch ${PAYLOAD}\` \`id\`\nSchüle Öhringen; rm -rf / ; touch ${PAYLOAD} & $HOME \\`;
// Distinctive tokens inside each secret make even partial leaks visible.
const DB_PASS = `DBSECRET7Qz'"\\$(touch ${PAYLOAD})%s%n\`id\`-x`;
const ADMIN_PASS = `ADMINSECRET9Lk'\\"$HOME;|&%d`;
const SECRET_TOKENS = ["DBSECRET7Qz", "ADMINSECRET9Lk"];
const STDIN = siteInstallStdin({ dbPassword: DB_PASS, adminPassword: ADMIN_PASS });

function mode(path: string): string {
  return (statSync(path).mode & 0o7777).toString(8);
}

/** Files in the sandbox (outside the stubs' own logs and state) that contain a secret token. */
function filesWithSecrets(sbx: Sandbox): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (p === sbx.p("log") || p === sbx.p("state")) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && SECRET_TOKENS.some((t) => readFileSync(p).includes(t))) found.push(relative(sbx.root, p));
    }
  };
  walk(sbx.root);
  return found.sort();
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

/** For tests that run the scripts more than once: each run starts a few hundred stub processes. */
const SLOW = 240_000;

let sbx: Sandbox;
let site: SiteScriptInput;

beforeEach(() => {
  sbx = new Sandbox();
  sbx.fakeRelease();
  site = sbx.site({ fullName: HOSTILE_NAME });
});

afterEach(() => {
  sbx.dispose();
  rmSync(PAYLOAD, { force: true });
});

describe("siteInstallScript", () => {
  it("is valid bash", () => {
    for (const s of [site, sbx.site(), sbx.site({ url: "http://04123456.moodle.example.org" })]) {
      const r = spawnSync("bash", ["-n"], { input: siteInstallScript(s, { paths: sbx.paths }) });
      expect(r.status, r.stderr.toString()).toBe(0);
    }
  });

  it("installs a site with a hostile name: nothing injected, name and secrets delivered exactly", () => {
    const r = sbx.run(siteInstallScript(site, { paths: sbx.paths }), STDIN);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(PAYLOAD)).toBe(false);
    expect(sbx.violations()).toBe("");

    // The installer: run as the site user, with the name as one exact argument
    // and the admin password on its standard input only.
    const runuser = sbx.callsOf("runuser");
    expect(runuser).toHaveLength(1);
    expect(runuser[0].argv.slice(0, 3)).toEqual(["-u", site.linuxUser, "--"]);
    const php = sbx.callsOf("php");
    expect(php).toHaveLength(1);
    expect(php[0].argv).toContain(`--fullname=${HOSTILE_NAME}`);
    expect(php[0].argv).toContain(`--shortname=${site.shortName}`);
    expect(php[0].argv).toContain("--agree-license");
    expect(php[0].argv[1]).toBe(join(site.releaseDir, "admin/cli/install_database.php"));
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

    // The only file left holding a secret is site-config.php: exact, 0640, and it
    // was written while its temporary file was still 0600.
    const configPath = join(site.siteRoot, "site-config.php");
    expect(filesWithSecrets(sbx)).toEqual([relative(sbx.root, configPath)]);
    expect(readFileSync(configPath, "utf8")).toBe(siteConfigPhp(site, DB_PASS, redisSecret(site)));
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
    expect(readFileSync(pool, "utf8")).toBe(sitePoolConf(site, sbx.paths));
    expect(readFileSync(pool, "utf8")).toMatch(/^pm\.max_children = 4$/m);
    const vhost = join(sbx.paths.apacheDir, "sites-available/moodle-04123456.conf");
    expect(readFileSync(vhost, "utf8")).toBe(siteVhostConf(site, sbx.paths));
    expect(existsSync(join(sbx.paths.apacheDir, "sites-enabled/moodle-04123456.conf"))).toBe(true);
    const cron = join(sbx.paths.cronDir, "moodle-04123456");
    expect(readFileSync(cron, "utf8")).toBe(siteCronFile(site, sbx.paths));
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
    expect(readdirSync(site.siteRoot).sort()).toEqual([".installed", "redis.secret", "site-config.php"]);
    // A first install has nothing to archive and leaves no maintenance page behind.
    expect(existsSync(site.archiveDir)).toBe(false);
    expect(existsSync(join(site.dataDir, "climaintenance.html"))).toBe(false);
  });

  it("gives the site its own Redis user, limited to its key prefix; the password stays on the host", () => {
    const script = siteInstallScript(site, { paths: sbx.paths });
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
    const r = sbx.run(siteInstallScript(site, { paths: sbx.paths }), STDIN);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/WRONGPASS/);
    expect(sbx.callsOf("php")).toHaveLength(0);
  });

  it("a reinstall keeps the site in maintenance from before the reset until it is served again", () => {
    const script = siteInstallScript(site, { paths: sbx.paths });
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
    const script = siteInstallScript(site, { paths: sbx.paths });
    expect(sbx.run(script, STDIN).status).toBe(0);
    writeFileSync(join(site.dataDir, "climaintenance.html"), "<p>Back on Monday</p>\n");
    expect(sbx.run(script, STDIN).status).toBe(0);
    expect(readFileSync(join(site.dataDir, "climaintenance.html"), "utf8")).toBe("<p>Back on Monday</p>\n");
  }, SLOW);

  it("leaves a finished site alone on the next run", () => {
    const script = siteInstallScript(site, { paths: sbx.paths });
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
    const script = siteInstallScript(site, { paths: sbx.paths });
    expect(sbx.run(script, STDIN).status).toBe(0);
    sbx.setState("config_tables", "0\n");
    writeFileSync(join(site.dataDir, "stale"), "x");
    sbx.clearLog();

    sbx.setState("redis_keys", "7\n");
    const r = sbx.run(script, STDIN);
    expect(r.status, r.stderr).toBe(0);
    expect(mysqlInput(sbx)).toContain(`DROP DATABASE IF EXISTS \`${site.dbName}\`;`);
    expect(existsSync(join(site.dataDir, "stale"))).toBe(false);
    expect(sbx.callsOf("php")).toHaveLength(1);
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
    const script = siteInstallScript(site, { paths: sbx.paths });
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
    const script = siteInstallScript(site, { paths: sbx.paths });
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
    const script = siteInstallScript(site, { paths: sbx.paths });
    sbx.setState("php_exit", "1");
    const failed = sbx.run(script, STDIN);
    expect(failed.status).not.toBe(0);
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
    const r = sbx.run(siteInstallScript(site, { paths: sbx.paths }), STDIN);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Apache rejected the vhost/);
    expect(existsSync(join(sbx.paths.apacheDir, "sites-available/moodle-04123456.conf"))).toBe(false);
    expect(existsSync(join(sbx.paths.apacheDir, "sites-enabled/moodle-04123456.conf"))).toBe(false);
    expect(existsSync(join(sbx.paths.phpEtcDir, "8.2/fpm/pool.d/moodle-04123456.conf"))).toBe(false);
    expect(readFileSync(other, "utf8")).toBe("# another site\n");
    expect(sbx.callsOf("systemctl")).toHaveLength(0);
  });

  it("refuses to start without both secrets on stdin", () => {
    const r = sbx.run(siteInstallScript(site, { paths: sbx.paths }), "only-one-line\n");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/line 2/);
    expect(sbx.callsOf("mysql")).toHaveLength(0);
    expect(sbx.callsOf("useradd")).toHaveLength(0);
  });

  it("accepts a last line without a newline", () => {
    const r = sbx.run(siteInstallScript(site, { paths: sbx.paths }), `${DB_PASS}\n${ADMIN_PASS}`);
    expect(r.status, r.stderr).toBe(0);
    expect(sbx.callsOf("php")[0].stdin?.toString("utf8")).toBe(`${ADMIN_PASS}\n`);
  });

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
      expect(() => siteInstallScript({ ...site, ...b }), JSON.stringify(b)).toThrow(ScriptInputError);
    }
  });

  it("builds stdin only from single-line secrets", () => {
    expect(siteInstallStdin({ dbPassword: "a", adminPassword: "b" })).toBe("a\nb\n");
    expect(() => siteInstallStdin({ dbPassword: "a\nb", adminPassword: "c" })).toThrow();
    expect(() => siteInstallStdin({ dbPassword: "", adminPassword: "c" })).toThrow();
  });
});

describe("siteDeleteScript", () => {
  let redisSecretBefore = "";
  function install(): void {
    const r = sbx.run(siteInstallScript(site, { paths: sbx.paths }), STDIN);
    expect(r.status, r.stderr).toBe(0);
    redisSecretBefore = redisSecret(site);
    sbx.setState("users/" + site.linuxUser);
    writeFileSync(join(site.dataDir, "uploaded.txt"), "homework");
    sbx.clearLog();
  }

  function archives(): string[] {
    return existsSync(site.archiveDir) ? readdirSync(site.archiveDir).filter((f) => f.endsWith(".tar.gz")) : [];
  }

  it("is valid bash", () => {
    const r = spawnSync("bash", ["-n"], { input: siteDeleteScript(site, { paths: sbx.paths }) });
    expect(r.status, r.stderr.toString()).toBe(0);
  });

  it("archives database, data and config, then removes everything", () => {
    install();
    const r = sbx.run(siteDeleteScript(site, { paths: sbx.paths }), "");
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
    expect(config).toBe(siteConfigPhp(site, DB_PASS, redisSecretBefore));

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
    const script = siteDeleteScript(site, { paths: sbx.paths });
    expect(sbx.run(script, "").status).toBe(0);
    const first = archives();
    sbx.clearLog();
    const again = sbx.run(script, "");
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/nothing left to archive/);
    expect(archives()).toEqual(first);
    expect(sbx.callsOf("mysqldump")).toHaveLength(0);
  }, SLOW);

  it("archives what a partial removal left (data only)", () => {
    mkdirSync(site.dataDir, { recursive: true });
    writeFileSync(join(site.dataDir, "orphan"), "x");
    const r = sbx.run(siteDeleteScript(site, { paths: sbx.paths }), "");
    expect(r.status, r.stderr).toBe(0);
    const [archive] = archives();
    const listing = execFileSync("tar", ["-tzf", join(site.archiveDir, archive)], { encoding: "utf8" });
    expect(listing).toContain("04123456/orphan");
    expect(listing).not.toContain("database.sql");
    expect(existsSync(site.dataDir)).toBe(false);
  });

  it("only warns when Redis cannot be reached", () => {
    install();
    sbx.setState("redis_fail");
    const r = sbx.run(siteDeleteScript(site, { paths: sbx.paths }), "");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: could not delete the site's Redis keys/);
    expect(r.stderr).toMatch(/warning: could not remove the site's Redis user/);
    expect(existsSync(site.dataDir)).toBe(false);
  }, SLOW);

  it("destroys nothing when the dump fails", () => {
    install();
    sbx.setState("mysqldump_fail");
    const r = sbx.run(siteDeleteScript(site, { paths: sbx.paths }), "");
    expect(r.status).not.toBe(0);
    expect(existsSync(join(site.dataDir, "uploaded.txt"))).toBe(true);
    expect(existsSync(join(site.siteRoot, "site-config.php"))).toBe(true);
    expect(mysqlInput(sbx)).not.toContain("DROP DATABASE");
    expect(archives()).toEqual([]);
    expect(readdirSync(site.archiveDir)).toEqual([]); // no partial archive or staging left
  }, SLOW);
});
