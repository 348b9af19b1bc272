import { describe, it, expect, beforeAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { fleetProgram, DEFAULT_INPUTS } from "../../../infra/program";
import { expectedResourceCount } from "../../../infra/components/fleet";
import type { FleetPlan } from "../../../infra/plan";
import { installedAdminPassword, runUnderMocks, stackConfigValues, testSecrets, type MockResource } from "../../support/mocks";
import { repoRoot } from "../../../stacks/toolchain";
import { DEFAULT_SYSTEM_PATHS, SITE_TOOL_SOURCE_DIR, siteToolUploadDir } from "../../../infra/scripts";

// Pulumi.prod.yaml has no certificate yet (validation requires one); the
// program's shape does not depend on it.
const prodConfig: Record<string, string> = { ...stackConfigValues(path.join(repoRoot, "Pulumi.prod.yaml")), "moodle-fleet:allowPlainHttp": "true" };
const SECRET_KEYS = ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"];

function csvRows(file: string): string[][] {
  return fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(","));
}

function byType(resources: MockResource[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

// The whole sample fleet in one stack, on purpose (the driver runs cells).
const SINGLE_STACK = { "moodle-fleet:singleStack": "true" };

async function runFleet(config = prodConfig, inputs = DEFAULT_INPUTS) {
  return runUnderMocks(fleetProgram(inputs), { ...config, ...SINGLE_STACK, ...testSecrets() }, SECRET_KEYS);
}

describe("the fleet program under mocks, sample list", () => {
  const ledger = csvRows(DEFAULT_INPUTS.ledgerFile);
  const hosts = new Set(ledger.map(([, host]) => host));
  // Every configured hypervisor gets its pool and base image, hosts or not.
  const hypervisors = new Set((JSON.parse(prodConfig["moodle-fleet:hypervisors"]) as { name: string }[]).map((h) => h.name));
  let run: Awaited<ReturnType<typeof runFleet>>;

  beforeAll(async () => {
    run = await runFleet();
  });

  it("declares the resources each hypervisor, host and site needs, named after them", () => {
    const counts = byType(run.resources);
    const sites = ledger.length;
    expect(counts).toEqual({
      "moodle-fleet:infra:Fleet": 1,
      "moodle-fleet:infra:Hypervisor": hypervisors.size,
      "pulumi:providers:libvirt": hypervisors.size,
      "libvirt:index/pool:Pool": hypervisors.size,
      "libvirt:index/volume:Volume": hypervisors.size + 2 * hosts.size,
      "moodle-fleet:infra:MoodleHost": hosts.size,
      "moodle-fleet:infra:HostVm": hosts.size,
      "libvirt:index/cloudInitDisk:CloudInitDisk": hosts.size,
      "libvirt:index/domain:Domain": hosts.size,
      // Bootstrap and file system growth per host, the install per site.
      "command:remote:Command": 2 * hosts.size + sites,
      // The site tool's files, per host.
      "command:remote:CopyToRemote": hosts.size,
      // Each host's SSH host key seed; its private seed step, its shutdowns before a resize and
      // before a delete, its data disk growth and its sites' DNS records; each hypervisor's pool
      // permissions. No generated password: the hosts make them.
      "random:index/randomBytes:RandomBytes": hosts.size,
      "command:local:Command": 5 * hosts.size + hypervisors.size,
    });
    // The driver's progress expects as many.
    const shape = { hypervisors: [...hypervisors], hosts: [...hosts], sites: ledger } as unknown as FleetPlan;
    expect(run.resources.length).toBe(expectedResourceCount(shape));
    const names = new Set(run.resources.map((r) => r.name));
    for (const [id, host] of ledger) {
      for (const n of [`${id}-install`, host, `${host}-site-tool`, `${host}-bootstrap`, `${host}-dns`]) {
        expect(names, n).toContain(n);
      }
    }
  });

  it("keeps every password and credential secret, each admin password as its install printed it", () => {
    expect(run.secretOutputs).toEqual(new Set(["adminPasswords"]));
    const passwords = run.outputs.adminPasswords as Record<string, string>;
    expect(Object.keys(passwords).sort()).toEqual(ledger.map(([id]) => id).sort());
    for (const [id, password] of Object.entries(passwords)) expect(password).toBe(installedAdminPassword(`${id}-install`));
    // Nothing plain carries a password.
    const plain = JSON.stringify({ ...run.outputs, adminPasswords: undefined });
    for (const p of Object.values(passwords)) expect(plain).not.toContain(p);
    // No site's command carries a password: the hosts make and keep them.
    for (const r of run.resources.filter((r) => r.type === "command:remote:Command")) {
      if (r.name.endsWith("-install")) expect(r.inputs, r.name).not.toHaveProperty("stdin");
      for (const p of Object.values(passwords)) {
        for (const script of [r.inputs.create, r.inputs.update, r.inputs.delete]) expect(script ?? "").not.toContain(p);
      }
    }
  });

  it("stores each bootstrap, install and DNS script once: no `update` copy (the provider re-runs `create`)", () => {
    const scripted = run.resources.filter((r) => /-(bootstrap|install|dns)$/.test(r.name));
    expect(scripted.length).toBe(2 * hosts.size + ledger.length);
    for (const r of scripted) {
      expect(r.inputs.create, r.name).toEqual(expect.any(String));
      expect(r.inputs, r.name).not.toHaveProperty("update");
    }
  });

  it("ships the site tool as a folder archive (its hash in the state, not its text) that each host's bootstrap installs", async () => {
    const lib = fs.readFileSync(path.join(SITE_TOOL_SOURCE_DIR, "lib.sh"), "utf8");
    for (const host of hosts) {
      const upload = run.resources.find((r) => r.name === `${host}-site-tool`)!;
      expect(upload.type).toBe("command:remote:CopyToRemote");
      const source = upload.inputs.source as { path?: Promise<string> };
      expect(await source.path).toBe(`${SITE_TOOL_SOURCE_DIR}/`);
      expect(upload.inputs.remotePath).toBe(siteToolUploadDir(DEFAULT_SYSTEM_PATHS));
      const bootstrap = run.resources.find((r) => r.name === `${host}-bootstrap`)!;
      expect(bootstrap.inputs.create).toContain(siteToolUploadDir(DEFAULT_SYSTEM_PATHS));
      // None of the tool's own lines is in the bootstrap's text, not even lib.sh's functions, which it
      // sources from the installed copy.
      expect(bootstrap.inputs.create).not.toContain(lib.split("\n").find((l) => l.length > 60));
      const functions = lib.split("\n").filter((l) => /^[a-z_]+\(\) \{/.test(l));
      expect(functions.length).toBeGreaterThan(10);
      for (const f of functions) expect(bootstrap.inputs.create, f).not.toContain(f);
      expect(bootstrap.inputs.create).toMatch(/^source "\$TOOL_NOW\/lib\.sh"$/m);
    }
  });

  it("points each site's DNS name at its host, in its host's records", () => {
    const hostsOut = run.outputs.hosts as Record<string, { address: string }>;
    const sitesOut = run.outputs.sites as Record<string, { host: string; fqdn: string }>;
    // Each host's records: exactly its own sites' names, each at its address.
    for (const [name, host] of Object.entries(hostsOut)) {
      const records = run.resources.find((r) => r.name === `${name}-dns`)!;
      const wanted = Object.values(sitesOut)
        .filter((s) => s.host === name)
        .map((s) => `${s.fqdn}. ${host.address}`)
        .sort();
      const listed = /wanted=\$\(cat <<'RECORDS_EOF'\n([^]*?)\nRECORDS_EOF\n/.exec(records.inputs.create)?.[1].split("\n");
      expect(listed, name).toEqual(wanted);
    }
  });

  it("sizes each domain by its tier", () => {
    const hostsOut = run.outputs.hosts as Record<string, { vcpu: number; memoryMiB: number }>;
    for (const d of run.resources.filter((r) => r.type === "libvirt:index/domain:Domain")) {
      expect(d.inputs.vcpu).toBe(hostsOut[d.name].vcpu);
      expect(d.inputs.memory).toBe(hostsOut[d.name].memoryMiB);
    }
  });
});

describe("a tier change", () => {
  const inputsOf = (rs: MockResource[]) => new Map(rs.map((r) => [r.urn, JSON.stringify(r.inputs)]));
  // Secrets differ between runs (fresh keys), so compare only non-secret-bearing resources.
  const ignored = (urn: string) => urn.startsWith("command:") || urn.startsWith("libvirt:index/cloudInitDisk");
  const changedBetween = (before: MockResource[], after: MockResource[]) => {
    const a = inputsOf(before);
    const b = inputsOf(after);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    return [...a.keys()].filter((urn) => a.get(urn) !== b.get(urn) && !ignored(urn)).sort();
  };

  it("leaves every recorded host as it was created: no volume or domain changes", async () => {
    const before = await runFleet();
    const tiers = JSON.parse(prodConfig["moodle-fleet:tiers"]);
    for (const name of Object.keys(tiers))
      tiers[name] = { ...tiers[name], vcpu: tiers[name].vcpu * 2, memoryMiB: tiers[name].memoryMiB * 2, diskGiBPerSite: tiers[name].diskGiBPerSite * 2 };
    const after = await runFleet({ ...prodConfig, "moodle-fleet:tiers": JSON.stringify(tiers) });
    expect(changedBetween(before.resources, after.resources)).toEqual([]);
  });

  it("resizes a host whose row in hosts.csv was changed, and nothing else", async () => {
    const before = await runFleet();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-resize-"));
    const dir = path.dirname(DEFAULT_INPUTS.ledgerFile);
    for (const f of ["placement.csv", "uids.csv"]) fs.copyFileSync(path.join(dir, f), path.join(work, f));
    const [header, ...rows] = fs.readFileSync(path.join(dir, "hosts.csv"), "utf8").trim().split("\n");
    const resized = rows[0].split(",");
    resized[1] = String(Number(resized[1]) * 2);
    resized[2] = String(Number(resized[2]) * 2);
    fs.writeFileSync(path.join(work, "hosts.csv"), [header, resized.join(","), ...rows.slice(1)].join("\n") + "\n");
    const after = await runFleet(prodConfig, { ...DEFAULT_INPUTS, ledgerFile: path.join(work, "placement.csv") });
    expect(changedBetween(before.resources, after.resources)).toEqual([`libvirt:index/domain:Domain::${resized[0]}`]);
    fs.rmSync(work, { recursive: true, force: true });
  });
});

describe("a school name is data, never code", () => {
  it("yields scripts that pass bash -n and keep the name literal", async () => {
    // Short paths: the marker appears three times in a name of at most 200 characters.
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "inj-"));
    const marker = path.join(work, "P");
    const evil = `Schüle "Öhringen" $(touch ${marker}) \`touch ${marker}\` 'x'; touch ${marker}`;
    const schools = fs.readFileSync(DEFAULT_INPUTS.schoolsFile, "utf8").split("\n");
    const [id] = schools[1].split(",");
    schools[1] = schools[1].replace(/^([^,]*),(?:"[^"]*(?:""[^"]*)*"|[^,]*)/, `$1,"${evil.replace(/"/g, '""')}"`);
    const schoolsFile = path.join(work, "schools.csv");
    fs.writeFileSync(schoolsFile, schools.join("\n"));
    const run = await runFleet(prodConfig, { ...DEFAULT_INPUTS, schoolsFile });
    expect((run.outputs.sites as Record<string, { name: string }>)[id].name).toBe(evil);
    const install = run.resources.find((r) => r.name === `${id}-install`)!;
    for (const script of [install.inputs.create, install.inputs.delete]) {
      const file = path.join(work, "script.sh");
      fs.writeFileSync(file, script);
      execFileSync("bash", ["-n", file]);
    }
    expect(fs.existsSync(marker)).toBe(false);
    fs.rmSync(work, { recursive: true, force: true });
  });
});

describe("a stack that names no cell", () => {
  it("refuses to declare the fleet and names the driver command", async () => {
    // As `pulumi up -s prod`: the environment's config, no cell, no opt-in.
    const run = runUnderMocks(fleetProgram({}), { ...prodConfig, ...testSecrets() }, SECRET_KEYS);
    await expect(run).rejects.toThrow(/names no cell[\s\S]*`fleet up --env test`[\s\S]*singleStack: true/);
  });

  it("declares one cell when the config names it, from the input files the config records", async () => {
    const hypervisors = JSON.parse(prodConfig["moodle-fleet:hypervisors"]) as { name: string }[];
    const cell = hypervisors[0].name;
    const run = await runUnderMocks(
      fleetProgram({}),
      {
        ...prodConfig,
        "moodle-fleet:cell": JSON.stringify([cell]),
        "moodle-fleet:inputs": JSON.stringify({ schools: "schools/schools.csv", ledger: "schools/placement.csv" }),
        ...testSecrets(),
      },
      SECRET_KEYS,
    );
    const pools = run.resources.filter((r) => r.type === "libvirt:index/pool:Pool").map((r) => r.name);
    expect(pools).toEqual([`${cell}-pool`]);
    const hosts = Object.values(run.outputs.hosts as Record<string, { hypervisor: string }>);
    expect(hosts.length).toBeGreaterThan(0);
    expect(hosts.every((h) => h.hypervisor === cell)).toBe(true);
  });
});
