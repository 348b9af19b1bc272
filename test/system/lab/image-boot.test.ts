import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../../stacks/toolchain";
import { labSkipped, requireLibvirtd, virshSucceeds, virsh } from "../../support/lab-services";

/** What lab/boot-check.sh reports (its --json file). */
interface BootCheckResult {
  ok: boolean;
  domain: string;
  domainType: string;
  imageHash: string;
  image: string;
  imageBytes: number;
  imageBuildSeconds: number;
  imageStepSeconds: number;
  bootToSshSeconds: number;
  cloudInit: string;
  services: Record<string, string>;
  /** Moodle's required PHP extensions missing in the CLI or php-fpm ("" = none). */
  phpMissing: string;
  standinSha256: string;
  expectedStandinSha256: string;
  rootBytes: number;
  failedUnits: string;
  dataDisk: { source: string; fstype: string; label: string; bytes: number; fstabEntries: string };
  /** The fleet's host bootstrap (twice), then a reboot: checks as KEY=value pairs, and timings. */
  bootstrap:
    | (Record<string, string | number | Record<string, string>> & {
        seconds: number;
        againSeconds: number;
        rebootSeconds: number;
        afterReboot: Record<string, string>;
      })
    | null;
  standin: Record<string, string> | null;
  /** The fleet's site install and delete scripts on the same guest: checks as KEY=value pairs, and the time taken. */
  sites: (Record<string, string | number> & { seconds: number }) | null;
  failures: string[];
}

// Builds the guest image if its recipe changed, boots it for real under
// libvirtd in the lab namespace, with a blank data disk and the seed and
// bootstrap the fleet generates, and checks it over SSH; the script removes
// the domain and its files, and so does afterAll should the script be killed.
// LAB_BOOT_ADDR picks another guest address (when other tests use the default).
describe.skipIf(labSkipped)("lab guest image: boots and serves", () => {
  const name = `lab-boot-test-${process.pid}`;
  const workDir = path.join("/var/lib/moodle-lab/boot-check", name);
  const jsonFile = path.join(os.tmpdir(), `${name}.json`);
  let result: BootCheckResult | undefined;
  let exitStatus: number | null = null;

  const got = (): BootCheckResult => {
    if (!result) throw new Error(`lab/boot-check.sh gave no result (exit status ${exitStatus}); see its output above`);
    return result;
  };

  beforeAll(() => {
    requireLibvirtd();
    const run = spawnSync("bash", [path.join(repoRoot, "lab/boot-check.sh"), "--name", name, "--json", jsonFile], {
      stdio: ["ignore", "inherit", "inherit"],
      timeout: 28 * 60_000,
      killSignal: "SIGTERM",
    });
    exitStatus = run.status;
    if (fs.existsSync(jsonFile)) result = JSON.parse(fs.readFileSync(jsonFile, "utf8")) as BootCheckResult;
    if (result) {
      console.log(
        `boot check: image ${result.imageHash} (${(result.imageBytes / 2 ** 20).toFixed(0)} MiB, built in ${result.imageBuildSeconds} s), ` +
          `image step ${result.imageStepSeconds} s, boot to SSH ${result.bootToSshSeconds} s (${result.domainType})` +
          (result.bootstrap
            ? `, bootstrap ${result.bootstrap.seconds} s, again ${result.bootstrap.againSeconds} s, reboot to SSH ${result.bootstrap.rebootSeconds} s`
            : "") +
          (result.sites ? `, site scripts ${result.sites.seconds} s` : ""),
      );
    }
  });

  afterAll(() => {
    if (virshSucceeds("dominfo", name)) {
      if (virsh("domstate", name).trim() === "running") virsh("destroy", name);
      virsh("undefine", name);
    }
    fs.rmSync(workDir, { recursive: true, force: true });
    fs.rmSync(jsonFile, { force: true });
  });

  it("reaches SSH inside the lab namespace", () => {
    expect(got().bootToSshSeconds).toBeGreaterThan(0);
    expect(got().domainType).toMatch(/^(qemu|kvm)$/);
  });

  it("finishes cloud-init with status done and grows the root file system", () => {
    expect(got().cloudInit).toBe("done");
    expect(got().rootBytes).toBeGreaterThan(5 * 2 ** 30);
  });

  it("runs Apache, php-fpm, MariaDB and Redis, with every PHP extension Moodle requires in the CLI and php-fpm", () => {
    expect(got().services).toEqual({ apache2: "active", "php8.2-fpm": "active", mariadb: "active", "redis-server": "active" });
    expect(got().phpMissing).toBe("");
  });

  it("formats the blank data disk (ext4, label moodle-data) and mounts it at /srv by label", () => {
    expect(got().dataDisk).toMatchObject({ source: "/dev/vdb", fstype: "ext4", label: "moodle-data", fstabEntries: "1" });
    expect(got().dataDisk.bytes).toBeGreaterThan(1.5 * 2 ** 30);
    expect(got().dataDisk.bytes).toBeLessThan(2 * 2 ** 30);
  });

  it("runs the fleet's host bootstrap offline: MariaDB's data bind-mounted from /srv/mysql; a second run changes nothing", () => {
    const b = got().bootstrap!;
    expect(b).not.toBeNull();
    expect(b).toMatchObject({
      rc: "0",
      rc_again: "0",
      moved: "yes",
      again_quiet: "yes",
      mysql_source: "/dev/vdb[/mysql]",
      mysql_fstab: "1",
      mysql_owner: "mysql:mysql",
      mysql_unit_requires: "/var/lib/mysql",
      mariadb: "active",
      mariadb_answers: "1",
      release: "yes",
    });
  });

  it("comes back after a reboot with the data disk, the bind mount, MariaDB and the sites' data", () => {
    expect(got().bootstrap!.afterReboot).toEqual({
      cloud_init: "done",
      data_source: "/dev/vdb",
      checkdb: "yes",
      rolesactive: "1",
      mysql_after_srv: "yes",
      mysql_source: "/dev/vdb[/mysql]",
      mysql_fstab: "1",
      mysql_owner: "mysql:mysql",
      mysql_unit_requires: "/var/lib/mysql",
      mariadb: "active",
      mariadb_answers: "1",
      release: "yes",
      rc_after_reboot: "0",
      quiet_after_reboot: "yes",
    });
  });

  it("carries the Moodle stand-in tarball with the checksum it was built with", () => {
    expect(got().standinSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(got().standinSha256).toBe(got().expectedStandinSha256);
  });

  it("installs a stand-in site through its CLI and serves it through Apache and php-fpm", () => {
    expect(got().standin).toEqual({
      http_before: "503",
      install_nolicense: "1",
      install: "0",
      install_again: "1",
      cron: "0",
      rolesactive: "1",
      lastcron_set: "yes",
      admin_hash_ok: "yes",
      http_after: "200",
      fullname_escaped: "yes",
    });
  });

  it("installs two sites with the fleet's install script (one with a hostile name), secrets on stdin only, and serves each name", () => {
    const s = got().sites!;
    expect(s).not.toBeNull();
    expect(s).toMatchObject({
      script_mode: "700",
      install_1: "0",
      install_2: "0",
      http_1: "200",
      name_1: "yes",
      http_2: "200",
      name_2: "yes",
      // Site 1 had an older stack's passwords on stdin, site 2 none: its host made them.
      printed_admin_1: "yes",
      printed_stack_admin_1: "yes",
      printed_admin_2: "yes",
      admin_1: "yes",
      admin_2: "yes",
      pwned: "no",
      pwned_end: "no",
    });
  });

  it("runs the install again as a no-op and repairs a site whose database was dropped", () => {
    expect(got().sites).toMatchObject({
      install_again_2: "0",
      printed_again_same_2: "yes",
      marker_unchanged: "yes",
      installer_runs_2: "1",
      again_http_2: "200",
      again_name_2: "yes",
      broken_config_kept: "yes",
      broken_http_1: "503",
      broken_name_1: "no",
      repair_1: "0",
      repaired_http_1: "200",
      repaired_name_1: "yes",
      repaired_printed_stack_admin_1: "yes",
      repaired_admin_1: "yes",
    });
  });

  it("archives a site (0600 tar.gz with the SQL dump) and removes its vhost, pool, database and user with the delete script", () => {
    expect(got().sites).toMatchObject({
      delete_2: "0",
      archives: "1",
      archive_mode: "600",
      archive_dir_mode: "700",
      archive_sql: "yes",
      archive_sql_has_course: "yes",
      archive_config: "yes",
      deleted_vhost: "yes",
      deleted_pool: "yes",
      deleted_db: "yes",
      deleted_db_user: "yes",
      deleted_user: "yes",
      deleted_files: "yes",
      deleted_cron: "yes",
      deleted_gone_http: "yes",
      after_delete_http_1: "200",
      after_delete_name_1: "yes",
    });
  });

  it("passes every check and leaves no domain behind", () => {
    expect(got().failures).toEqual([]);
    expect(exitStatus).toBe(0);
    expect(virshSucceeds("dominfo", name)).toBe(false);
    expect(fs.existsSync(workDir)).toBe(false);
  });
});
