import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommandIO } from "../../../../stacks/cli";
import { command as growDisk } from "../../../../stacks/commands/grow-disk";
import { command as plan } from "../../../../stacks/commands/plan";
import { command as validate } from "../../../../stacks/commands/validate";

const ROOT = resolve(__dirname, "../../../..");
const FIXTURE = join(ROOT, "test/fixtures/fleet");

describe("fleet grow-disk", () => {
  let dir: string;
  let out: string;
  let err: string;
  const io = (): CommandIO => ({ stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd: dir, root: dir });
  const inputs = () => ["--schools", "schools.csv", "--ledger", "placement.csv", "--config", join(FIXTURE, "Pulumi.test.yaml")];
  const run = async (cmd: typeof growDisk, ...args: string[]) => {
    out = "";
    err = "";
    return cmd.run([...args, ...inputs()], io());
  };
  const hostsFile = () => join(dir, "hosts.csv");
  const recordedGiB = (host: string) =>
    Number(
      readFileSync(hostsFile(), "utf8")
        .split("\n")
        .find((l) => l.startsWith(`${host},`))!
        .split(",")[4],
    );

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "fleet-grow-"));
    for (const f of ["schools.csv", "placement.csv"]) copyFileSync(join(FIXTURE, f), join(dir, f));
    expect(await run(plan, "--write")).toBe(0);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("raises one host's recorded data disk and nothing else", async () => {
    const before = readFileSync(hostsFile(), "utf8");
    const from = recordedGiB("hv01-vm01");
    expect(await run(growDisk, "--env", "test", "--host", "hv01-vm01", "--gib", String(from + 100))).toBe(0);
    expect(err).toBe("");
    expect(out).toContain(`hv01-vm01 data disk ${from} GiB -> ${from + 100} GiB`);
    expect(recordedGiB("hv01-vm01")).toBe(from + 100);
    const changed = readFileSync(hostsFile(), "utf8").split("\n");
    const differing = before.split("\n").filter((line, k) => line !== changed[k]);
    expect(differing).toHaveLength(1);
    expect(await run(validate)).toBe(0);
  });

  it("refuses to shrink, to do nothing, and hosts that are unknown or unrecorded, writing nothing", async () => {
    const before = readFileSync(hostsFile(), "utf8");
    const from = recordedGiB("hv01-vm01");
    expect(await run(growDisk, "--env", "test", "--host", "hv01-vm01", "--gib", String(from - 1))).toBe(1);
    expect(err).toMatch(/hosts\.csv:\d+: refusing to shrink hv01-vm01's data disk .* a data disk only grows/);
    expect(await run(growDisk, "--env", "test", "--host", "hv01-vm01", "--gib", String(from))).toBe(1);
    expect(err).toContain("already");
    expect(await run(growDisk, "--env", "test", "--host", "hv09-vm01", "--gib", "5000")).toBe(1);
    expect(err).toContain("no school is placed on host hv09-vm01");
    expect(readFileSync(hostsFile(), "utf8")).toBe(before);

    rmSync(hostsFile());
    expect(await run(growDisk, "--env", "test", "--host", "hv01-vm01", "--gib", "5000")).toBe(1);
    expect(err).toContain("has no row; run `fleet plan --write`");
    expect(existsSync(hostsFile())).toBe(false);
  });

  it("refuses bad usage before reading anything", async () => {
    await expect(run(growDisk, "--host", "hv01-vm01", "--gib", "10")).rejects.toThrow(/--env is required/);
    await expect(run(growDisk, "--env", "test", "--gib", "10")).rejects.toThrow(/--host is required/);
    await expect(run(growDisk, "--env", "test", "--host", "hv01-vm01", "--gib", "-5")).rejects.toThrow(/--gib must be a whole number/);
    await expect(run(growDisk, "--env", "test", "--host", "hv01-vm01", "--gib", "1e3")).rejects.toThrow(/--gib must be a whole number/);
    await expect(run(growDisk, "--env", "test", "--host", "hv01-vm01", "--gib", "9999999")).rejects.toThrow(/typo/);
  });

  it("refuses while an input has errors", async () => {
    writeFileSync(hostsFile(), readFileSync(hostsFile(), "utf8").replace(/^hv01-vm01,(\d+)/m, "hv01-vm01,x"));
    expect(await run(growDisk, "--env", "test", "--host", "hv02-vm01", "--gib", "9000")).toBe(1);
    expect(err).toMatch(/hosts\.csv:2: field "vcpu": not a whole number of vCPUs/);
    expect(err).toContain("nothing was written");
  });
});

describe("fleet validate", () => {
  let dir: string;
  let out: string;
  let err: string;
  const io = (): CommandIO => ({ stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd: dir, root: dir });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fleet-validate-"));
    for (const f of ["schools.csv", "placement.csv"]) copyFileSync(join(FIXTURE, f), join(dir, f));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const validateWith = async (config: string) => {
    out = "";
    err = "";
    return validate.run(["--schools", "schools.csv", "--ledger", "placement.csv", "--config", config], io());
  };

  it("names the hosts a tier change would have resized, and keeps them as recorded", async () => {
    out = "";
    err = "";
    expect(await plan.run(["--write", "--schools", "schools.csv", "--ledger", "placement.csv", "--config", join(FIXTURE, "Pulumi.test.yaml")], io())).toBe(0);
    const raised = join(dir, "Pulumi.raised.yaml");
    const text = readFileSync(join(FIXTURE, "Pulumi.test.yaml"), "utf8");
    const bigger = text.replace(/diskGiBPerSite: (\d+)/g, (_, n: string) => `diskGiBPerSite: ${Number(n) * 2}`);
    expect(bigger).not.toBe(text);
    writeFileSync(raised, bigger);
    expect(await validateWith(raised)).toBe(0);
    expect(err).toMatch(
      /hosts\.csv:\d+: warning: field "data_disk_gib": hv01-vm01: data disk (\d+) GiB recorded, tier \w+ now says \d+ GiB: unchanged \(fix: grow it with `fleet grow-disk --env raised --host hv01-vm01 --gib \d+`\)/,
    );
  });

  it("runs the script generators' checks on every planned site, naming school, host and line", async () => {
    // The config takes "_admin" (its rule: letters, digits, _ . @ -); the
    // install generator wants it to start with a letter or digit.
    const bad = join(dir, "Pulumi.bad.yaml");
    writeFileSync(bad, readFileSync(join(FIXTURE, "Pulumi.test.yaml"), "utf8").replace("  moodle-fleet:moodle:\n", "  moodle-fleet:moodle:\n    adminUser: _admin\n"));
    expect(await validateWith(bad)).toBe(1);
    expect(err).toMatch(/^schools\.csv:\d+: school \d{8} \(host hv0\d-vm\d\d\): SiteScriptInput\.adminUser: "_admin" must be a Moodle user name/m);
    expect(out).toBe("");
  });
});
