import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "../..");
const FLEET = join(ROOT, "bin/fleet");
const GOOD = "test/fixtures/fleet";
const BAD = "test/fixtures/fleet-bad";

function fleet(args: string[], cwd = ROOT) {
  const run = spawnSync(FLEET, args, { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const inputs = (dir: string, config = `${GOOD}/Pulumi.test.yaml`) => [
  "--schools",
  `${dir}/schools.csv`,
  "--ledger",
  `${dir}/placement.csv`,
  "--config",
  config,
];

describe("bin/fleet", () => {
  it("validates good inputs, warning about a missing secret", () => {
    const run = fleet(["validate", ...inputs(GOOD)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`ok: 5 schools on 2 hosts, 2 hypervisors (${GOOD}/Pulumi.test.yaml)\n`);
    expect(run.stderr).toContain('warning: key "sshPrivateKey": secret is not set');
    expect(run.stderr).toContain("pulumi config set --secret moodle-fleet:sshPrivateKey");
  });

  it("reports every problem of a bad school list and ledger, file and line first", () => {
    const run = fleet(["validate", ...inputs(BAD)]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const lines = run.stderr.split("\n");
    const expected = [
      `${BAD}/schools.csv:3: field "id": not an 8-digit school number ("4101246")`,
      `${BAD}/schools.csv:4: field "name": must not be empty`,
      `${BAD}/schools.csv:5: field "email": not an e-mail address ("foo@")`,
      `${BAD}/schools.csv:7: field "tier": unknown tier "huge" (configured: small, standard)`,
      `${BAD}/schools.csv:8: field "id": duplicate school id 04101234 (also on line 2)`,
      `${BAD}/schools.csv:9: field "id": school 04101285 has no host in ${BAD}/placement.csv (fix: run \`npx fleet plan --write\`)`,
      `${BAD}/placement.csv:3: field "school_id": school 04109999 is not in the school list (fix: run \`npx fleet plan --write\``,
      `${BAD}/placement.csv:4: field "host": host hv09-vm01 is on hypervisor "hv09", which the stack config does not define`,
      `${BAD}/placement.csv:5: field "school_id": school 04101234 is placed twice (also line 2, host hv01-vm01)`,
      `${BAD}/placement.csv:6: field "host": not a host name of the form <hypervisor>-vm<NN>`,
    ];
    for (const line of expected) expect(lines.some((l) => l.startsWith(line)), line).toBe(true);
    expect(run.stderr).toContain("10 error(s)");
  });

  it("reports config errors with their lines next to the list's errors", () => {
    const run = fleet(["validate", ...inputs(BAD, `${BAD}/Pulumi.bad.yaml`)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${BAD}/Pulumi.bad.yaml:9: key "hypervisors[0].addresses.last": last (10.20.1.5) is below first (10.20.1.10)`);
    expect(run.stderr).toContain(`${BAD}/Pulumi.bad.yaml:13: key "defaultTier": tier "large" is not in tiers (standard)`);
    expect(run.stderr).toContain(`${BAD}/Pulumi.bad.yaml:18: key "sshPrivateKey": secret stored in plain text`);
    expect(run.stderr).not.toContain("not-encrypted");
    expect(run.stderr).toContain(`${BAD}/schools.csv:5: field "email"`);
  });

  it("reads Pulumi.<stack>.yaml from the repository root", () => {
    const run = fleet(["validate", "--stack", "nosuch", ...inputs(GOOD).slice(0, 4)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Pulumi.nosuch.yaml: file not found");
  });

  it("exits 2 with usage on bad arguments", () => {
    for (const args of [["validate", "--bogus"], ["validate", "extra"], ["plan", "--schools"], ["plan", "--write=yes"], ["nosuch"], []]) {
      const run = fleet(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/usage: fleet/);
    }
    expect(fleet(["validate", "--stack", "a", "--config", "b"]).stderr).toContain("not both");
  });

  it("prints help with exit 0", () => {
    const run = fleet(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/plan .*\n.*validate/s);
  });

  it("plans new schools, writes the ledger only with --write, then validates", () => {
    const dir = mkdtempSync(join(tmpdir(), "fleet-cli-"));
    const schools = join(dir, "schools.csv");
    const ledger = join(dir, "placement.csv");
    copyFileSync(join(ROOT, GOOD, "schools.csv"), schools);
    copyFileSync(join(ROOT, GOOD, "placement.csv"), ledger);
    writeFileSync(
      schools,
      readFileSync(schools, "utf8").replace(/^(04101234;.*\r\n)/m, "") + "04101300;Neue Schule;Aalen;a@04101300.schulen.example;\r\n",
    );
    const args = ["--schools", schools, "--ledger", ledger, "--config", join(ROOT, GOOD, "Pulumi.test.yaml")];
    const before = readFileSync(ledger, "utf8");

    const dry = fleet(["plan", ...args], dir);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("04101300 -> hv01-vm01  (tier standard)");
    expect(dry.stdout).toContain("04101234 on hv01-vm01  (placement.csv:2)");
    expect(dry.stdout).toContain("not written; run `npx fleet plan --write` to apply");
    expect(readFileSync(ledger, "utf8")).toBe(before);
    expect(fleet(["validate", ...args], dir).code).toBe(1);

    const wet = fleet(["plan", "--write", ...args], dir);
    expect(wet.code).toBe(0);
    expect(readFileSync(ledger, "utf8")).toBe(
      "school_id,host\n04101246,hv02-vm01\n04101258,hv01-vm01\n04101261,hv02-vm01\n04101273,hv01-vm01\n04101300,hv01-vm01\n",
    );
    expect(fleet(["validate", ...args], dir).code).toBe(0);
    expect(fleet(["plan", ...args], dir).stdout).toContain("the ledger is up to date");
  });

  it("refuses to plan on a broken school list and leaves the ledger alone", () => {
    const dir = mkdtempSync(join(tmpdir(), "fleet-cli-"));
    const ledger = join(dir, "placement.csv");
    copyFileSync(join(ROOT, GOOD, "placement.csv"), ledger);
    const run = fleet(["plan", "--write", "--schools", join(ROOT, BAD, "schools.csv"), "--ledger", ledger, "--config", join(ROOT, GOOD, "Pulumi.test.yaml")], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("cannot plan until these are fixed");
    expect(readFileSync(ledger, "utf8")).toBe(readFileSync(join(ROOT, GOOD, "placement.csv"), "utf8"));
  });
});
