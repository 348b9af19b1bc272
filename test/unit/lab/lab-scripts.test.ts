import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { MOODLE_REQUIRED_EXTENSIONS, OPTIONAL_PACKAGES, REQUIRED_PACKAGES, releaseConfigPhp } from "../../../infra/scripts";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const repo = path.resolve(__dirname, "../../..");
const standin = path.join(repo, "lab/moodle-standin");

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(p) : [p];
  });
}

const phpFiles = listFiles(standin).filter((f) => f.endsWith(".php"));
const hasPhp = spawnSync("php", ["-v"]).status === 0;
if (!hasPhp && process.env.LAB !== "skip") {
  throw new Error("php (Debian's php-cli) is needed to check the Moodle stand-in: run toolchain/debian-packages.sh, or LAB=skip");
}

describe("lab shell scripts", () => {
  it.each(["lib.sh", "network.sh", "bind.sh", "boot-check.sh", "image/build.sh"])("%s parses", (file) => {
    const r = spawnSync("bash", ["-n", path.join(repo, "lab", file)], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("the image recipe hash is stable and 16 hex digits", () => {
    const a = execFileSync("bash", [path.join(repo, "lab/image/build.sh"), "--hash"], { encoding: "utf8" }).trim();
    const b = execFileSync("bash", [path.join(repo, "lab/image/build.sh"), "--hash"], { encoding: "utf8" }).trim();
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(b).toBe(a);
  });

  it("the image package list holds what cloud-init and the web stack need", () => {
    const pkgs = fs.readFileSync(path.join(repo, "lab/image/packages.txt"), "utf8")
      .split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean);
    for (const p of ["linux-image-cloud-amd64", "cloud-init", "e2fsprogs", "locales", "openssh-server", "apache2",
      "php-fpm", "php-mysql", "mariadb-server", "redis-server", "logrotate"]) {
      expect(pkgs).toContain(p);
    }
  });

  it("the image holds every package the bootstrap requires, so the lab runs what production runs (offline)", () => {
    const pkgs = fs.readFileSync(path.join(repo, "lab/image/packages.txt"), "utf8")
      .split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean);
    for (const p of [...REQUIRED_PACKAGES, ...OPTIONAL_PACKAGES]) expect(pkgs, p).toContain(p);
    expect(pkgs).not.toContain("php-apcu");
  });
});

describe.skipIf(!hasPhp)("Moodle stand-in (test double)", () => {
  it("says it is a test double, in its README and at the top of every file", () => {
    expect(fs.readFileSync(path.join(standin, "README.md"), "utf8")).toMatch(/TEST DOUBLE/);
    for (const f of phpFiles) {
      expect(fs.readFileSync(f, "utf8").split("\n").slice(0, 3).join("\n"), f).toMatch(/TEST DOUBLE/);
    }
  });

  it.each(phpFiles.map((f) => path.relative(standin, f)))("%s passes php -l", (rel) => {
    const r = spawnSync("php", ["-l", path.join(standin, rel)], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toMatch(/No syntax errors detected/);
    expect(r.status).toBe(0);
  });

  describe("command line contract, before any database is touched", () => {
    let tmp: string;
    let release: string;
    let data: string;

    const writeConfig = (overrides: Record<string, string> = {}, extra = "") => {
      const settings: Record<string, string> = {
        dbtype: "mariadb", dbhost: "127.0.0.1", dbname: "moodle", dbuser: "moodle", dbpass: "x",
        prefix: "mdl_", wwwroot: "http://school.moodle.lab.example", dataroot: data, ...overrides,
      };
      const lines = Object.entries(settings).map(([k, v]) => `$CFG->${k} = ${JSON.stringify(v)};`);
      fs.writeFileSync(path.join(release, "config.php"),
        ["<?php", "unset($CFG);", "global $CFG;", "$CFG = new stdClass();", ...lines, "$CFG->directorypermissions = 02770;",
          extra, "require_once(__DIR__ . '/lib/setup.php');", ""].join("\n"));
    };
    // Runs a stand-in CLI script; TMPDIR keeps /tmp/requestdir out of the real /tmp.
    const cli = (script: string, args: string[], opts: { php?: string[]; as?: string[] } = {}) =>
      spawnSync(opts.as?.[0] ?? "php", [...(opts.as?.slice(1) ?? []), ...(opts.as ? ["php"] : []), ...(opts.php ?? []),
        path.join(release, "admin/cli", script), ...args],
      { encoding: "utf8", cwd: tmp, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: path.join(tmp, "tmp") } });
    const install = ["--agree-license", "--adminpass=pw", "--fullname=School", "--shortname=school"];

    beforeEach(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "standin-"));
      // A release as the fleet unpacks it: a copy of the stand-in with config.php in its root.
      release = path.join(tmp, "release");
      data = path.join(tmp, "data");
      fs.cpSync(standin, release, { recursive: true });
      fs.mkdirSync(data);
      fs.mkdirSync(path.join(tmp, "tmp"));
      writeConfig();
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("refuses without --agree-license", () => {
      const r = cli("install_database.php", ["--adminpass=pw", "--fullname=School", "--shortname=school"]);
      expect(r.stderr).toMatch(/agree to the license/);
      expect(r.status).toBe(1);
    });

    it("prints help with Moodle's options and exits 0", () => {
      const r = cli("install_database.php", ["--help"]);
      expect(r.status).toBe(0);
      for (const o of ["--agree-license", "--adminemail", "--supportemail", "--noreplyemail", "--summary", "--lang"]) expect(r.stdout).toContain(o);
    });

    it("rejects unknown options without echoing their values", () => {
      const r = cli("install_database.php", ["--agree-license", "--adminpas=TopSecret123"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/Unrecognised options: --adminpas/);
      expect(r.stderr).not.toContain("TopSecret123");
    });

    it("requires the admin password", () => {
      const r = cli("install_database.php", ["--agree-license", "--fullname=School", "--shortname=school"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/specify admin password/);
    });

    it("refuses a bad --adminemail, --supportemail or --noreplyemail, as Moodle's validate_email()", () => {
      for (const o of ["adminemail", "supportemail", "noreplyemail"]) {
        for (const bad of ["admin@localhost", "<a@b.example>", "a..b@example.org"]) {
          const r = cli("install_database.php", [...install, `--${o}=${bad}`]);
          expect(r.status, `${o}=${bad}`).toBe(1);
          expect(r.stderr).toContain(`Incorrect value for the option '${o}'`);
        }
      }
    });

    it("accepts any --lang, --supportemail and --noreplyemail: they pass on to the environment check", () => {
      const r = cli("install_database.php", [...install, "--lang=de_kids", "--supportemail=support@example.org",
        "--noreplyemail=noreply@example.org"], { php: ["-n"] });
      expect(r.stderr).not.toMatch(/language|Incorrect value|Unrecognised/);
      expect(r.stdout).toMatch(/^== Environment ==$/m);
      expect(r.status).toBe(1);
    });

    it("refuses a PHP without Moodle's extensions (php -n: only what is compiled in), as install_database.php does", () => {
      const r = cli("install_database.php", install, { php: ["-n", "-d", "max_input_vars=5000"] });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/^== Environment ==$/m);
      for (const ext of ["ctype", "iconv", "mbstring", "intl", "fileinfo"]) {
        expect(r.stdout).toContain(`!! php_extension (${ext}) !!`);
      }
      expect(r.stdout).not.toContain("max_input_vars");
    });

    it("refuses max_input_vars below 5000 and memory_limit below 96M", () => {
      const low = cli("install_database.php", install, { php: ["-d", "max_input_vars=1000", "-d", "memory_limit=64M"] });
      expect(low.status).toBe(1);
      expect(low.stdout).toContain("!! custom_check (max_input_vars) !!");
      expect(low.stdout).toContain("max_input_vars must be at least 5000; it is 1000");
      expect(low.stdout).toContain("!! php_setting (memory_limit) !!");
      const ok = cli("install_database.php", install, { php: ["-d", "max_input_vars=5000", "-d", "memory_limit=-1"] });
      expect(ok.stdout).not.toMatch(/max_input_vars|memory_limit/);
    });

    it("stops with Moodle's message when the data directory does not exist, and does not create it", () => {
      fs.rmSync(data, { recursive: true });
      for (const script of ["install_database.php", "cron.php"]) {
        const r = cli(script, install.slice(0, script === "cron.php" ? 0 : undefined));
        expect(r.status, script).toBe(1);
        expect(r.stdout).toContain("Fatal error: $CFG->dataroot is not configured properly, directory does not exist or is not accessible! Exiting.");
        expect(fs.existsSync(data)).toBe(false);
      }
    });

    it("takes dirroot from its own location: a symlinked folder's own config.php is never read", () => {
      const site = path.join(tmp, "site");
      fs.mkdirSync(site);
      for (const entry of fs.readdirSync(release)) {
        if (entry !== "config.php") fs.symlinkSync(path.join(release, entry), path.join(site, entry));
      }
      fs.renameSync(path.join(release, "config.php"), path.join(site, "config.php"));
      const r = spawnSync("php", [path.join(site, "admin/cli/cron.php")], { encoding: "utf8", cwd: site });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/config\.php does not exist, can not continue/);

      fs.renameSync(path.join(site, "config.php"), path.join(release, "config.php"));
      const probe = spawnSync("php", ["-d", "max_input_vars=5000", "-r",
        `require ${JSON.stringify(path.join(site, "lib/locate.php"))}; standin_require_config(); echo $CFG->dirroot;`,
      ], { encoding: "utf8", cwd: site, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: path.join(tmp, "tmp") } });
      expect(probe.stderr).toBe("");
      expect(probe.stdout).toBe(fs.realpathSync(release));
    });

    it("runs with the fleet's shared config.php and a site's settings file", () => {
      fs.writeFileSync(path.join(release, "config.php"), releaseConfigPhp());
      const settings = path.join(tmp, "site-config.php");
      fs.writeFileSync(settings, ["<?php", `$CFG->dbtype = 'pgsql';`, `$CFG->dbhost = 'localhost';`, `$CFG->dbname = 'm';`,
        `$CFG->dbuser = 'm';`, `$CFG->dbpass = 'x';`, `$CFG->prefix = 'mdl_';`, `$CFG->wwwroot = 'http://a.example';`,
        `$CFG->dataroot = ${JSON.stringify(data)};`, ""].join("\n"));
      const r = spawnSync("php", [path.join(release, "admin/cli/cron.php")], {
        encoding: "utf8", cwd: tmp, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MOODLE_SITE_CONFIG: settings },
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/database type 'pgsql' is not supported/); // the site's file was read
    });

    it("without localrequestdir every site shares /tmp/requestdir, and the second site fails as Moodle does", () => {
      // The first site's user made <tmp>/requestdir (02770, its own group); the second site runs as another user.
      const requestdir = path.join(tmp, "tmp/requestdir");
      fs.mkdirSync(requestdir);
      const root = process.getuid?.() === 0;
      const setpriv = spawnSync("bash", ["-c", "command -v setpriv"]).status === 0;
      if (root && !setpriv) return;
      let as: string[] | undefined;
      if (root) {
        fs.chownSync(requestdir, 65533, 65533);
        fs.chmodSync(requestdir, 0o2770);
        fs.chownSync(data, 65534, 65534);
        fs.chmodSync(tmp, 0o755);
        as = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
      } else {
        fs.chmodSync(requestdir, 0o500);
      }
      const shared = cli("cron.php", [], { as });
      expect(shared.status).toBe(1);
      expect(shared.stderr).toContain("invalid_dataroot_permissions");

      writeConfig({}, `$CFG->localrequestdir = ${JSON.stringify(path.join(data, "localrequest"))};`);
      const own = cli("cron.php", [], { as });
      expect(own.stderr).not.toContain("invalid_dataroot_permissions");
      expect(fs.existsSync(path.join(data, "localrequest"))).toBe(true);
    });

    it("refuses to run cron while the site is in maintenance (climaintenance.html)", () => {
      fs.writeFileSync(path.join(data, "climaintenance.html"), "<p>maintenance</p>\n");
      const r = cli("cron.php", []);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain("CLI maintenance mode active, cron execution suspended.");
    });

    it("refuses database types Moodle's MariaDB driver does not cover", () => {
      writeConfig({ dbtype: "pgsql" });
      const r = cli("cron.php", []);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/not supported/);
    });

    it("sets rolesactive where Moodle does: after the admin account, before the default settings and the site's names", () => {
      const src = fs.readFileSync(path.join(standin, "admin/cli/install_database.php"), "utf8");
      const at = (needle: string) => {
        const i = src.indexOf(needle);
        expect(i, needle).toBeGreaterThan(-1);
        return i;
      };
      const admin = at("SET username = ?, password = ?, email = ? WHERE id = 2");
      const roles = at("standin_set_config($db, 'rolesactive', '1');");
      const names = at("SET fullname = ?, shortname = ?, summary = ? WHERE id = 1");
      expect(admin).toBeLessThan(roles);
      expect(roles).toBeLessThan(names);
      // Written once only.
      expect(src.split("standin_set_config($db, 'rolesactive'").length).toBe(2);
    });
  });

  describe("admin/cli/upgrade.php, as Moodle's", () => {
    const second = path.join(repo, "lab/image/standin-second/version.php");
    // One run of the upgrade over a settings store in memory (the database
    // part of the stand-in is only PDO around it): the release's version.php
    // as the code, `settings` as the site's recorded config; prints
    // [exit, stdout, stderr, settings after].
    const upgrade = (versionPhp: string, settings: Record<string, string> | null, options: Record<string, boolean> = { "non-interactive": true }) => {
      const r = spawnSync("php", ["-n", "-r", `
define('MOODLE_INTERNAL', true);
define('MATURITY_ALPHA', 50); define('MATURITY_BETA', 100); define('MATURITY_RC', 150); define('MATURITY_STABLE', 200);
require ${JSON.stringify(path.join(standin, "lib/upgradelib.php"))};
class memory_store implements standin_config_store {
    public function __construct(public ?array $values) {}
    public function get(string $name): ?string { return $this->values === null ? null : ($this->values[$name] ?? null); }
    public function set(string $name, string $value): void { $this->values[$name] = $value; }
}
$input = json_decode(stream_get_contents(STDIN), true);
$version = $release = $branch = $maturity = null;
include $input['code'];
$store = new memory_store($input['settings']);
$checked = false;
[$code, $out, $err] = standin_upgrade($store, compact('version', 'release', 'branch', 'maturity'), $input['options'],
    function () use (&$checked) { $checked = true; });
echo json_encode([$code, $out, $err, $store->values === null ? null : (object)$store->values, $checked]);`],
      { input: JSON.stringify({ code: versionPhp, settings, options }), encoding: "utf8" });
      expect(r.stderr).toBe("");
      return JSON.parse(r.stdout) as [number, string, string, Record<string, string> | null, boolean];
    };
    const first = { version: "2024100700.00", release: "4.5 (stand-in test double)", branch: "405", rolesactive: "1" };

    it("upgrades a site of the first release to the second: exit 0, the new version and release recorded", () => {
      const [code, out, err, after, checked] = upgrade(second, first);
      expect([code, err]).toEqual([0, ""]);
      expect(out).toBe("Command line upgrade from 4.5 (stand-in test double) (2024100700.00) to 4.5.1 (stand-in test double) (2024100701.00) completed successfully.\n");
      expect(after).toEqual({ ...first, version: "2024100701.00", release: "4.5.1 (stand-in test double)" });
      expect(checked).toBe(true); // the environment was checked first
    });

    it("refuses a downgrade with Moodle's message and exit 1, changing nothing", () => {
      const upgraded = { ...first, version: "2024100701.00", release: "4.5.1 (stand-in test double)" };
      const [code, out, err, after, checked] = upgrade(path.join(standin, "version.php"), upgraded);
      expect([code, out]).toEqual([1, ""]);
      expect(err).toBe("Error: The code you are using is older than the version recorded in the database.\n");
      expect(after).toEqual(upgraded);
      expect(checked).toBe(false);
    });

    it("refuses a site that is not installed (no version recorded, or no config table at all)", () => {
      for (const settings of [null, {}, { rolesactive: "1" }] as Array<Record<string, string> | null>) {
        const [code, , err, after] = upgrade(second, settings);
        expect(code).toBe(1);
        expect(err).toBe("Config table does not contain version, can not continue, sorry.\n");
        expect(after).toEqual(settings);
      }
    });

    it("exits 63 when there is nothing to upgrade, and asks in interactive mode", () => {
      const [code, , err] = upgrade(path.join(standin, "version.php"), first);
      expect(code).toBe(63);
      expect(err).toBe("No upgrade needed for the installed version 4.5 (stand-in test double) (2024100700.00). Thanks for coming anyway!\n");
      const [asked, , , after] = upgrade(second, first, {});
      expect(asked).toBe(1); // no "y" on standard input
      expect(after).toEqual(first);
    });

    it("is the lab's second release: the same code, a later version", () => {
      const versions = [path.join(standin, "version.php"), second].map((f) =>
        /^\$version\s*=\s*([0-9.]+);/m.exec(fs.readFileSync(f, "utf8"))![1]);
      expect(Number(versions[1])).toBeGreaterThan(Number(versions[0]));
    });

    it("runs from the command line with Moodle's options only", () => {
      const help = spawnSync("php", [path.join(standin, "admin/cli/upgrade.php"), "--help"], { encoding: "utf8" });
      expect(help.stderr).toMatch(/config\.php does not exist/); // like Moodle, config.php first
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "standin-up-"));
      try {
        const release = path.join(tmp, "release");
        fs.cpSync(standin, release, { recursive: true });
        fs.mkdirSync(path.join(tmp, "data"));
        fs.writeFileSync(path.join(release, "config.php"), ["<?php", "unset($CFG);", "global $CFG;", "$CFG = new stdClass();",
          ...Object.entries({ dbtype: "mariadb", dbhost: "127.0.0.1", dbname: "m", dbuser: "m", dbpass: "x", prefix: "mdl_",
            wwwroot: "http://a.example", dataroot: path.join(tmp, "data"), localrequestdir: path.join(tmp, "req") })
            .map(([k, v]) => `$CFG->${k} = ${JSON.stringify(v)};`), "require_once(__DIR__ . '/lib/setup.php');", ""].join("\n"));
        const cli = (...args: string[]) => spawnSync("php", [path.join(release, "admin/cli/upgrade.php"), ...args], { encoding: "utf8" });
        const h = cli("--help");
        expect(h.status).toBe(0);
        expect(h.stdout).toContain("--non-interactive");
        const unknown = cli("--non-interactive", "--force");
        expect(unknown.status).toBe(1);
        expect(unknown.stderr).toMatch(/Unrecognised options: --force/);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
  });

  describe("PHP minimum, as Moodle's lib/phpminimumversionlib.php", () => {
    it("states Moodle 4.5's minimum in the line the fleet's tools read", () => {
      expect(fs.readFileSync(path.join(standin, "lib/phpminimumversionlib.php"), "utf8")).toMatch(/^\s*\$minimumversion = '8\.1\.0';$/m);
    });

    it("stops every script on a PHP below the minimum, with Moodle's message", () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "standin-php-"));
      try {
        const release = path.join(tmp, "release");
        fs.cpSync(standin, release, { recursive: true });
        const lib = path.join(release, "lib/phpminimumversionlib.php");
        fs.writeFileSync(lib, fs.readFileSync(lib, "utf8").replace("$minimumversion = '8.1.0';", "$minimumversion = '99.0.0';"));
        fs.writeFileSync(path.join(release, "config.php"), "<?php\nunset($CFG);\nglobal $CFG;\n$CFG = new stdClass();\nrequire_once(__DIR__ . '/lib/setup.php');\n");
        for (const script of ["install_database.php", "upgrade.php", "cron.php"]) {
          const r = spawnSync("php", [path.join(release, "admin/cli", script)], { encoding: "utf8" });
          expect(r.status, script).toBe(1);
          expect(r.stderr).toMatch(/^Moodle 4\.5 or later requires at least PHP 99\.0\.0 \(currently using version 8\./);
        }
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
  });

  it("is pinned in Pulumi.lab.yaml by the digest of the tarball the image carries; the second release is another tarball", () => {
    const digests = execFileSync("bash", [path.join(repo, "lab/image/build.sh"), "--standin-digests"], { encoding: "utf8" });
    const first = /^LAB_STANDIN_SHA256=([0-9a-f]{64})$/m.exec(digests)![1];
    const secondSum = /^LAB_STANDIN2_SHA256=([0-9a-f]{64})$/m.exec(digests)![1];
    expect(secondSum).not.toBe(first);
    const lab = fs.readFileSync(path.join(repo, "Pulumi.lab.yaml"), "utf8");
    expect(lab).toContain("url: file:///opt/moodle-standin/moodle-standin.tgz\n");
    expect(lab).toContain(`sha256: ${first}\n`);
  });

  describe("environment check (pure: facts in, Moodle's complaints out)", () => {
    const run = (facts: Record<string, unknown>) => {
      const r = spawnSync("php", ["-n", "-r",
        `require ${JSON.stringify(path.join(standin, "lib/environment.php"))};` +
        `echo json_encode(standin_environment_problems(json_decode(stream_get_contents(STDIN), true)));`],
      { input: JSON.stringify(facts), encoding: "utf8" });
      expect(r.stderr).toBe("");
      return JSON.parse(r.stdout) as Array<[string, string]>;
    };
    const good = {
      php_version: "8.2.7",
      extensions: [...MOODLE_REQUIRED_EXTENSIONS, "core", "standard"],
      max_input_vars: "5000",
      memory_limit: "128M",
      db_version: "10.11.6-MariaDB-0+deb12u1",
    };

    it("requires the same extensions as the fleet's preflight", () => {
      const r = spawnSync("php", ["-n", "-r",
        `require ${JSON.stringify(path.join(standin, "lib/environment.php"))}; echo json_encode(standin_environment_requirements()['extensions']);`],
      { encoding: "utf8" });
      expect(JSON.parse(r.stdout)).toEqual([...MOODLE_REQUIRED_EXTENSIONS]);
    });

    it("passes a host that has everything", () => {
      expect(run(good)).toEqual([]);
      expect(run({ ...good, memory_limit: "-1", db_version: null })).toEqual([]);
    });

    it.each([...MOODLE_REQUIRED_EXTENSIONS])("refuses a host without %s", (ext) => {
      expect(run({ ...good, extensions: good.extensions.filter((e) => e !== ext) }).map((p) => p[0])).toEqual([`php_extension (${ext})`]);
    });

    it("refuses PHP below 8.1 or from 8.4, and MariaDB below 10.6.7", () => {
      expect(run({ ...good, php_version: "8.0.30" }).map((p) => p[0])).toEqual(["php (version 8.0.30)"]);
      expect(run({ ...good, php_version: "8.4.1" }).map((p) => p[0])).toEqual(["php (version 8.4.1)"]);
      expect(run({ ...good, db_version: "10.5.23-MariaDB-0+deb11u1" }).map((p) => p[0])).toEqual(["database (mariadb 10.5.23-MariaDB-0+deb11u1)"]);
      expect(run({ ...good, db_version: "8.0.36" })).toHaveLength(1);
      expect(run({ ...good, db_version: "5.5.5-10.11.6-MariaDB" })).toEqual([]);
    });

    it("refuses max_input_vars below 5000 and memory_limit below 96M", () => {
      expect(run({ ...good, max_input_vars: "4999" }).map((p) => p[0])).toEqual(["custom_check (max_input_vars)"]);
      expect(run({ ...good, memory_limit: "95M" }).map((p) => p[0])).toEqual(["php_setting (memory_limit)"]);
      expect(run({ ...good, memory_limit: "1G" })).toEqual([]);
    });
  });
});
