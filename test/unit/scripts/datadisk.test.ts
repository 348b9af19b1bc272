import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cloudInitUserData } from "../../../infra/scripts";
import { DATA_DISK_SCRIPT, dataDiskFstabLine } from "../../../infra/scripts/datadisk";
import { Sandbox } from "../../support/sandbox";

// The data disk's bootcmd, taken from the generated user-data and run the way
// cloud-init runs it (its shellify, then sh), against a disk image file with
// the real blkid and mkfs.ext4; mounts are simulated by the sandbox.
const tools = spawnSync("bash", ["-c", "command -v blkid && command -v mkfs.ext4"]).status === 0;
if (!tools) throw new Error("blkid and mkfs.ext4 (util-linux, e2fsprogs) are needed for the data disk tests");

const MiB = 1024 * 1024;
let sbx: Sandbox;
let disk: string;
let mnt: string;
let fstab: string;

/** cloud-init's util.shellify for one list entry. */
function shellify(argv: string[]): string {
  return `${argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ")}\n`;
}

/** The bootcmd entry of the generated user-data, pointed at the sandbox. */
function bootcmd(): string[] {
  const doc = parse(cloudInitUserData(sbx.host({ dataMount: mnt })));
  const argv = doc.bootcmd[0] as string[];
  expect(argv[2]).toBe(DATA_DISK_SCRIPT);
  expect(argv.slice(4)).toEqual(["/dev/vdb", "moodle-data", mnt, "/etc/fstab"]);
  return [...argv.slice(0, 4), disk, "moodle-data", mnt, fstab];
}

function run() {
  return sbx.run(shellify(bootcmd()));
}

function probe(tag: "TYPE" | "LABEL"): string {
  const r = spawnSync("blkid", ["-p", "-o", "value", "-s", tag, disk], { encoding: "utf8" });
  return r.stdout.trim();
}

function sha(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

function mounted(): string[] {
  const f = `${sbx.state}/mounts`;
  return existsSync(f) ? readFileSync(f, "utf8").split("\n").filter(Boolean) : [];
}

beforeEach(() => {
  sbx = new Sandbox();
  disk = sbx.p("vdb.img");
  mnt = sbx.p("data");
  fstab = sbx.p("etc/fstab.guest");
  writeFileSync(disk, "");
  execFileSync("truncate", ["-s", `${32 * MiB}`, disk]);
  writeFileSync(fstab, "/dev/vda / ext4 errors=remount-ro 0 1\n");
});

afterEach(() => sbx.dispose());

describe("data disk bootcmd", () => {
  it("is valid POSIX sh", () => {
    expect(spawnSync("sh", ["-n", "-c", DATA_DISK_SCRIPT]).status).toBe(0);
  });

  it("formats a blank disk, enters it in fstab by label and mounts it; later boots change nothing", () => {
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    expect(sbx.violations()).toBe("");
    expect(probe("TYPE")).toBe("ext4");
    expect(probe("LABEL")).toBe("moodle-data");
    expect(sbx.callsOf("mkfs.ext4").map((c) => c.argv)).toEqual([["-q", "-L", "moodle-data", disk]]);
    expect(readFileSync(fstab, "utf8")).toBe(`/dev/vda / ext4 errors=remount-ro 0 1\n${dataDiskFstabLine(mnt)}\n`);
    expect(dataDiskFstabLine(mnt)).toBe(`LABEL=moodle-data ${mnt} ext4 defaults,nofail 0 2`);
    expect(sbx.callsOf("mount").map((c) => c.argv)).toEqual([["--fstab", fstab, mnt]]);
    expect(mounted()).toContain(mnt);
    expect(existsSync(mnt)).toBe(true);

    // Next boot, systemd mounted it already: nothing to do.
    const fsum = sha(disk);
    const tab = readFileSync(fstab, "utf8");
    sbx.clearLog();
    const again = run();
    expect(again.status, again.stderr).toBe(0);
    expect(sbx.callsOf("mkfs.ext4")).toHaveLength(0);
    expect(sbx.callsOf("mount")).toHaveLength(0);
    expect(sha(disk)).toBe(fsum);
    expect(readFileSync(fstab, "utf8")).toBe(tab);

    // A boot where it is not mounted yet: mounted, not formatted.
    sbx.clearState("mounts");
    sbx.clearLog();
    const third = run();
    expect(third.status, third.stderr).toBe(0);
    expect(sbx.callsOf("mkfs.ext4")).toHaveLength(0);
    expect(sbx.callsOf("mount")).toHaveLength(1);
    expect(sha(disk)).toBe(fsum);
    expect(readFileSync(fstab, "utf8")).toBe(tab);
  });

  it("never formats a disk that carries another file system", () => {
    execFileSync("mkfs.ext4", ["-q", "-L", "archive", disk]);
    const before = sha(disk);
    const r = run();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/holds 'ext4' labelled 'archive'.*left as it is/);
    expect(sbx.callsOf("mkfs.ext4")).toHaveLength(0);
    expect(sbx.callsOf("mount")).toHaveLength(0);
    expect(sha(disk)).toBe(before);
    expect(readFileSync(fstab, "utf8")).toBe("/dev/vda / ext4 errors=remount-ro 0 1\n");
  });

  it("never formats a disk that holds data without a known signature", () => {
    const fd = openSync(disk, "r+");
    writeSync(fd, Buffer.from("some bytes of an unknown format"), 0, undefined, 300 * 1024);
    closeSync(fd);
    const before = sha(disk);
    const r = run();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no known file system but holds data: not formatting it/);
    expect(sbx.callsOf("mkfs.ext4")).toHaveLength(0);
    expect(sha(disk)).toBe(before);
  });

  it("fails without a disk, and leaves an fstab alone that mounts something else there", () => {
    const missing = sbx.run(shellify(bootcmd().map((a) => (a === disk ? sbx.p("no-such-disk") : a))));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/does not exist: no data disk attached/);

    writeFileSync(fstab, `/dev/vda / ext4 defaults 0 1\n/dev/vdc ${mnt} xfs defaults 0 2\n`);
    const r = run();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/mounts something else on/);
    expect(readFileSync(fstab, "utf8")).toBe(`/dev/vda / ext4 defaults 0 1\n/dev/vdc ${mnt} xfs defaults 0 2\n`);
    expect(sbx.callsOf("mount")).toHaveLength(0);
  });

  it("keeps an fstab without a final newline intact", () => {
    writeFileSync(fstab, "/dev/vda / ext4 defaults 0 1");
    expect(run().status).toBe(0);
    expect(readFileSync(fstab, "utf8")).toBe(`/dev/vda / ext4 defaults 0 1\n${dataDiskFstabLine(mnt)}\n`);
  });

  it("reports a failed mount", () => {
    sbx.setState("mount_fail");
    const r = run();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/could not mount/);
  });
});
