import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hostBootstrapScript, releaseConfigPhp, releaseId, type HostScriptInput } from "../../../infra/scripts";
import { hostApacheConf, hostWwwPoolOverride } from "../../../infra/scripts/configs";
import { Sandbox, everythingPassedAsArgsOrEnv } from "./sandbox";

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

let sbx: Sandbox;
let release: string;

beforeEach(() => {
  sbx = new Sandbox();
  release = sbx.p("srv/moodle/release");
});

afterEach(() => {
  sbx.dispose();
  rmSync(PAYLOAD, { force: true });
});

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

    // The release: cloned once, shallow, without .git, with the dispatching config.php.
    const git = sbx.callsOf("git");
    expect(git).toHaveLength(1);
    expect(git[0].argv).toEqual(expect.arrayContaining(["clone", "--depth", "1", "--branch", "MOODLE_405_STABLE", "--", "https://git.example.org/moodle.git"]));
    expect(readFileSync(join(release, ".release-id"), "utf8")).toBe(`${releaseId(host)}\n`);
    expect(readFileSync(join(release, "config.php"), "utf8")).toBe(releaseConfigPhp());
    expect(existsSync(join(release, ".git"))).toBe(false);
    expect(existsSync(join(release, "admin/cli/install_database.php"))).toBe(true);
    const m = modes(release);
    expect([...m.dirs]).toEqual(["755"]);
    expect([...m.files]).toEqual(["644"]);
    expect(sbx.callsOf("chown").some((c) => c.argv.join(" ") === `-R root:root -- ${c.argv[3]}` && c.argv[3].startsWith(`${release}.stage.`))).toBe(true);
    expect(readdirSync(sbx.p("srv/moodle"))).toEqual(["release"]); // no staging left
  });

  it("is idempotent: the second run fetches and installs nothing", () => {
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    expect(sbx.run(script).status).toBe(0);
    const idBefore = readFileSync(join(release, ".release-id"), "utf8");
    sbx.clearLog();
    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    expect(sbx.callsOf("git")).toHaveLength(0);
    expect(sbx.callsOf("apt-get")).toHaveLength(0);
    expect(r.stderr).toMatch(/release up to date/);
    expect(readFileSync(join(release, ".release-id"), "utf8")).toBe(idBefore);
  });

  it("replaces the release when the wanted branch changes", () => {
    expect(sbx.run(hostBootstrapScript(sbx.host(), { paths: sbx.paths })).status).toBe(0);
    writeFileSync(join(release, "old-only"), "x");
    const newer = sbx.host({ release: { git: { url: "https://git.example.org/moodle.git", branch: "MOODLE_500_STABLE" } } });
    const r = sbx.run(hostBootstrapScript(newer, { paths: sbx.paths }));
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(release, ".release-id"), "utf8")).toBe(`${releaseId(newer)}\n`);
    expect(existsSync(join(release, "old-only"))).toBe(false);
  });

  it("installs only missing packages, and tries unavailable optional ones once", () => {
    sbx.setState("missing/redis-server");
    sbx.setState("missing/php-intl");
    const script = hostBootstrapScript(sbx.host(), { paths: sbx.paths });
    const r = sbx.run(script);
    expect(r.status, r.stderr).toBe(0);
    const apt = sbx.callsOf("apt-get").map((c) => c.argv.filter((a) => !a.startsWith("-") && !a.startsWith("Dpkg")));
    expect(apt).toEqual([["update"], ["install", "redis-server"], ["install", "php-intl"]]);

    // php-intl cannot be had (offline image): warned about, and not retried.
    sbx.setState("missing/php-intl");
    sbx.setState("apt_fail");
    sbx.clearLog();
    const again = sbx.run(script);
    expect(again.status, again.stderr).toBe(0);
    expect(sbx.callsOf("apt-get")).toHaveLength(0);
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
    expect(existsSync(join(release, "admin/cli/install_database.php"))).toBe(true);
    expect(existsSync(join(release, ".htaccess"))).toBe(true);
    expect(existsSync(join(release, "local/fleet/version.php"))).toBe(true);
    expect(existsSync(join(release, "moodle"))).toBe(false);
    expect([...modes(release).files]).toEqual(["644"]);
    expect(sbx.callsOf("sha256sum")).toHaveLength(2);
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
    expect(readdirSync(sbx.p("srv/moodle"))).toEqual(["release"]);
  });

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
      { release: { git: { url: "ext::sh -c touch% /tmp/x", branch: "main" } } },
      { release: { git: { url: "https://git.example.org/m.git", branch: "--upload-pack=x" } } },
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
  });

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
