import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releaseConfigPhp, siteInstallCommand, siteToolFiles, type SiteScriptInput } from "../../../infra/scripts";
import { Sandbox, stackPasswordsStdin } from "../../support/sandbox";

// These run the PHP the fleet writes for real; they need a php binary.
const hasPhp = spawnSync("bash", ["-c", "command -v php"]).status === 0;

const NAME = "$(touch /tmp/never) 'Schüle' \"Öhringen\"\n`id`; rm -rf / \\ --adminpass=fake";
const DB_PASS = `db'pa\\ss"$x\`y\`%s\\\\'`;
const ADMIN_PASS = `ad'min\\"$HOME --x=y`;

let sbx: Sandbox;
let site: SiteScriptInput;
let dir: string;
let redisPass: string;

/** The site's files as the site tool writes them (run in the sandbox), beside a stand-in release. */
beforeAll(() => {
  sbx = new Sandbox();
  sbx.fakeRelease();
  sbx.installSiteTool();
  dir = sbx.p("srv/moodle");
  site = sbx.site({ fullName: NAME, dataDir: join(dir, "data"), releaseDir: join(dir, "release"), siteRoot: join(dir, "site"), archiveDir: join(dir, "archive") });
  const r = sbx.run(siteInstallCommand(site, { paths: sbx.paths }), stackPasswordsStdin({ dbPassword: DB_PASS, adminPassword: ADMIN_PASS }));
  if (r.status !== 0) throw new Error(r.stderr);
  redisPass = readFileSync(join(site.siteRoot, "redis.secret"), "utf8").trim();
  // The tool removes its copy of the wrapper after the installer ran; the same file again.
  writeFileSync(join(dir, "site/install-wrapper.php"), siteToolFiles().find((f) => f.path === "install-wrapper.php")!.content);
  // A stand-in release: Moodle's layout, an installer that reports what it got.
  mkdirSync(join(dir, "release/lib"), { recursive: true });
  mkdirSync(join(dir, "release/admin/cli"), { recursive: true });
  writeFileSync(join(dir, "release/config.php"), releaseConfigPhp());
  writeFileSync(join(dir, "release/lib/setup.php"), "<?php\ndefine('STANDIN_SETUP_LOADED', true);\n");
  writeFileSync(
    join(dir, "release/admin/cli/install_database.php"),
    `<?php
define('CLI_SCRIPT', true);
require(__DIR__ . '/../../config.php');
echo json_encode(['argv' => $_SERVER['argv'], 'argc' => $_SERVER['argc'], 'globalargv' => $argv,
    'cfg' => $CFG, 'setup' => defined('STANDIN_SETUP_LOADED'), 'cwd' => getcwd(),
    'script' => $_SERVER['SCRIPT_FILENAME'], 'included' => get_included_files()]);
`,
  );
}, 240_000);

afterAll(() => sbx.dispose());

function php(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) {
  return spawnSync("php", ["-n", ...args], {
    input: opts.stdin ?? "",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...(opts.env ?? {}) },
    encoding: "utf8",
  });
}

describe.skipIf(!hasPhp)("the PHP the fleet writes (release config.php, the site tool's site-config.php and install wrapper)", () => {
  it("is syntactically valid", () => {
    for (const f of ["release/config.php", "site/site-config.php", "site/install-wrapper.php"]) {
      const r = php(["-l", join(dir, f)]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
  });

  it("runs the installer with the site's config and the admin password appended inside PHP", () => {
    const installer = join(dir, "release/admin/cli/install_database.php");
    const args = [installer, "--agree-license", `--fullname=${NAME}`, "--shortname=04123456"];
    const r = php([join(dir, "site/install-wrapper.php"), ...args], {
      stdin: `${ADMIN_PASS}\n`,
      env: { MOODLE_SITE_CONFIG: join(dir, "site/site-config.php") },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.argv).toEqual([...args, `--adminpass=${ADMIN_PASS}`]);
    expect(out.globalargv).toEqual(out.argv);
    expect(out.argc).toBe(args.length + 1);
    expect(out.setup).toBe(true);
    expect(out.cwd).toBe(join(dir, "release/admin/cli"));
    expect(out.script).toBe(installer);
    // The release's config.php is the only included file named config.php.
    expect(out.included.filter((f: string) => f.endsWith("/config.php"))).toEqual([join(dir, "release/config.php")]);
    expect(out.cfg).toMatchObject({
      dbtype: "mariadb",
      dbhost: "localhost",
      dbname: "moodle_04123456",
      dbuser: "moodle_04123456",
      dbpass: DB_PASS,
      prefix: "mdl_",
      wwwroot: "https://04123456.moodle.example.org",
      dataroot: join(dir, "data"),
      // Per site, under its own data: /tmp/requestdir would belong to the first site that ran.
      localrequestdir: join(dir, "data/localrequest"),
      session_handler_class: "\\core\\session\\redis",
      session_redis_prefix: "moodle:04123456:",
      // phpredis's auth() takes [user, password] for a Redis ACL user.
      session_redis_auth: ["moodle-04123456", redisPass],
    });
  });

  it("refuses to run without a password on stdin", () => {
    const r = php([join(dir, "site/install-wrapper.php"), join(dir, "release/admin/cli/install_database.php")], {
      env: { MOODLE_SITE_CONFIG: join(dir, "site/site-config.php") },
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
  });

  it("the release's config.php refuses a missing or odd MOODLE_SITE_CONFIG", () => {
    const installer = join(dir, "release/admin/cli/install_database.php");
    for (const env of [{}, { MOODLE_SITE_CONFIG: "site/site-config.php" }, { MOODLE_SITE_CONFIG: `${dir}/site/../site/site-config.php` }, { MOODLE_SITE_CONFIG: `${dir}/nowhere/site-config.php` }, { MOODLE_SITE_CONFIG: `${dir}/site/site-config.txt` }]) {
      const r = php([installer], { env: env as Record<string, string> });
      expect(r.status, JSON.stringify(env)).toBe(1);
      expect(r.stderr).toMatch(/MOODLE_SITE_CONFIG/);
      expect(r.stdout).toBe("");
    }
  });

  it("why not symlinks: PHP resolves them in __DIR__, so a linked tree still loads the release's config.php", () => {
    mkdirSync(join(dir, "linked"));
    symlinkSync(join(dir, "release/admin"), join(dir, "linked/admin"));
    writeFileSync(join(dir, "linked/config.php"), "<?php echo 'per-site copy'; exit(0);\n");
    const r = php([join(dir, "linked/admin/cli/install_database.php")], { env: {} });
    expect(r.stderr).toMatch(/MOODLE_SITE_CONFIG/); // the release's file answered, not linked/config.php
    expect(r.stdout).not.toContain("per-site copy");
  });
});
