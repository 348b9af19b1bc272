import { describe, it, expect, beforeAll, afterAll } from "vitest";
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
      "php-fpm", "php-apcu", "php-mysql", "mariadb-server", "redis-server"]) {
      expect(pkgs).toContain(p);
    }
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
    let site: string;
    let data: string;

    const writeConfig = (overrides: Record<string, string> = {}) => {
      const settings: Record<string, string> = {
        dbtype: "mariadb", dbhost: "127.0.0.1", dbname: "moodle", dbuser: "moodle", dbpass: "x",
        prefix: "mdl_", wwwroot: "http://school.moodle.lab.example", dataroot: data, ...overrides,
      };
      const lines = Object.entries(settings).map(([k, v]) => `$CFG->${k} = ${JSON.stringify(v)};`);
      fs.writeFileSync(path.join(site, "config.php"),
        ["<?php", "unset($CFG);", "global $CFG;", "$CFG = new stdClass();", ...lines,
          "require_once(__DIR__ . '/lib/setup.php');", ""].join("\n"));
    };
    const cli = (script: string, args: string[], cwd = tmp) =>
      spawnSync("php", [path.join(site, "admin/cli", script), ...args], { encoding: "utf8", cwd });

    beforeAll(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "standin-"));
      // The layout the fleet uses: a site folder of symlinks into a shared
      // release, with the site's own config.php.
      site = path.join(tmp, "site");
      data = path.join(tmp, "data");
      fs.mkdirSync(site);
      for (const entry of fs.readdirSync(standin)) fs.symlinkSync(path.join(standin, entry), path.join(site, entry));
      writeConfig();
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("finds the site's config.php through the symlinked admin folder and refuses without --agree-license", () => {
      const r = cli("install_database.php", ["--adminpass=pw", "--fullname=School", "--shortname=school"]);
      expect(r.stderr).toMatch(/agree to the license/);
      expect(r.status).toBe(1);
      expect(fs.existsSync(data)).toBe(true); // dataroot created by setup.php
    });

    it("prints help and exits 0", () => {
      const r = cli("install_database.php", ["--help"]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/--agree-license/);
    });

    it("rejects unknown options without echoing their values", () => {
      const r = cli("install_database.php", ["--agree-license", "--adminpas=TopSecret123"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/Unrecognised options: --adminpas/);
      expect(r.stderr).not.toContain("TopSecret123");
    });

    it("requires the admin password, full name and short name", () => {
      const r = cli("install_database.php", ["--agree-license", "--fullname=School", "--shortname=school"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/--adminpass is required/);
    });

    it("reports an unreachable database with exit 1", () => {
      writeConfig({ dbhost: "127.0.0.1", dbuser: "nobody" });
      // Port 1 on loopback: nothing listens there.
      const cfg = fs.readFileSync(path.join(site, "config.php"), "utf8")
        .replace("require_once", "$CFG->dboptions = ['dbport' => 1];\nrequire_once");
      fs.writeFileSync(path.join(site, "config.php"), cfg);
      const r = cli("install_database.php", ["--agree-license", "--adminpass=pw", "--fullname=S", "--shortname=s"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/Database connection failed|could not find driver/);
      writeConfig();
    });

    it("refuses database types Moodle's MariaDB driver does not cover", () => {
      writeConfig({ dbtype: "pgsql" });
      const r = cli("cron.php", []);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/not supported/);
      writeConfig();
    });

    it("stops with exit 1 when the site has no config.php", () => {
      fs.renameSync(path.join(site, "config.php"), path.join(site, "config.off"));
      try {
        const r = cli("cron.php", []);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/config\.php does not exist/);
      } finally {
        fs.renameSync(path.join(site, "config.off"), path.join(site, "config.php"));
      }
    });

    it("takes the site's root from config.php, not from the release the scripts live in", () => {
      const probe = spawnSync("php", ["-r",
        `$_SERVER['SCRIPT_FILENAME'] = ${JSON.stringify(path.join(site, "index.php"))};` +
        `require ${JSON.stringify(path.join(site, "lib/locate.php"))}; standin_require_config(0); echo $CFG->dirroot;`,
      ], { encoding: "utf8", cwd: tmp });
      expect(probe.stderr).toBe("");
      expect(probe.stdout).toBe(site);
    });
  });
});
