import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { DEFAULT_INPUTS, fleetProgram } from "../../../infra/program";
import { hostUserData } from "../../../infra/components/host-vm";
import { hostKeyPin } from "../../../infra/components/host-connection";
import { hostKeyOfUserData } from "../../../infra/scripts/cloudinit";
import { ed25519KeyPairFromSeed } from "../../../infra/config/ssh-key";
import { hostScriptInput } from "../../../infra/components/script-inputs";
import { promiseOf, stackConfigValues, testSecrets, type MockResource } from "../../support/mocks";
import { repoRoot } from "../../../stacks/toolchain";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

const SECRET_KEYS = ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"];
const baseConfig: Record<string, string> = {
  ...stackConfigValues(path.join(repoRoot, "Pulumi.prod.yaml")),
  "moodle-fleet:allowPlainHttp": "true",
  "moodle-fleet:singleStack": "true",
};

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
/** Mocks see a secret input as the engine would: wrapped. */
const isSecretInput = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG] === SECRET;
const plain = (v: unknown): any => (isSecretInput(v) ? (v as { value: unknown }).value : v);

const seedBytes = (name: string) => crypto.createHash("sha256").update(`seed ${name}`).digest();

/**
 * The fleet program under mocks whose CloudInitDisk answers with the state a
 * stack already holds for the VMs in `deployedBefore`: a seed written before
 * host keys were generated (ignoreChanges keeps it so).
 */
async function runFleet(opts: { deployedBefore?: string[]; pins?: Record<string, string> } = {}) {
  const resources: MockResource[] = [];
  const oldSeeds = new Set((opts.deployedBefore ?? []).map((h) => `${h}-seed`));
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({ type: args.type, name: args.name, urn: `${args.type}::${args.name}`, inputs: args.inputs });
        let state: Record<string, any> = args.inputs;
        if (args.type === "random:index/randomBytes:RandomBytes") {
          const bytes = seedBytes(args.name);
          state = { ...args.inputs, base64: bytes.toString("base64"), hex: bytes.toString("hex") };
        }
        if (args.type === "random:index/randomPassword:RandomPassword") state = { ...args.inputs, result: `Aa1-${args.name}` };
        if (args.type === "libvirt:index/cloudInitDisk:CloudInitDisk" && oldSeeds.has(args.name)) {
          const withoutKey = plain(args.inputs.userData).replace(/\nssh_deletekeys:[\s\S]*$/, "\n");
          expect(hostKeyOfUserData(withoutKey)).toBeUndefined();
          state = { ...args.inputs, userData: withoutKey };
        }
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "moodle-fleet",
    "test",
    false,
  );
  const ssh = JSON.parse(baseConfig["moodle-fleet:ssh"] ?? "{}");
  const config = { ...baseConfig, "moodle-fleet:ssh": JSON.stringify({ ...ssh, ...(opts.pins && { pinnedHostKeys: opts.pins }) }) };
  pulumi.runtime.setAllConfig({ ...config, ...testSecrets() }, SECRET_KEYS);
  const outputs = await fleetProgram(DEFAULT_INPUTS)();
  for (const v of Object.values(outputs)) if (pulumi.Output.isInstance(v)) await promiseOf(v);
  await settings.waitForRPCs();
  const hosts = resources.filter((r) => r.type === "moodle-fleet:infra:HostVm").map((r) => r.name);
  const byName = (name: string) => resources.find((r) => r.name === name)!;
  // @pulumi/command sends the whole connection as a secret.
  const connectionOf = (r: MockResource) => plain(r.inputs.connection) as Record<string, unknown>;
  const addressOf = new Map(hosts.map((h) => [connectionOf(byName(`${h}-bootstrap`)).host as string, h]));
  /** The connections of every remote command on a host: its bootstrap and its sites' installs. */
  const connections = (host: string) =>
    resources
      .filter((r) => r.type === "command:remote:Command" && addressOf.get(connectionOf(r).host as string) === host)
      .map(connectionOf);
  return { resources, hosts, byName, connections };
}

afterEach(() => vi.restoreAllMocks());

describe("SSH host keys of VMs created from now on", () => {
  it("come from a per-host random seed, go into the seed's user-data, and are pinned in every connection of that host", async () => {
    const run = await runFleet();
    expect(run.hosts.length).toBeGreaterThan(1);
    const pins = new Set<string>();
    for (const host of run.hosts) {
      expect(run.byName(`${host}-host-key`).inputs).toEqual({ length: 32 });
      const raw = run.byName(`${host}-seed`).inputs.userData;
      // The private key reaches the provider as a secret, so the state holds it encrypted.
      expect(isSecretInput(raw)).toBe(true);
      const userData = plain(raw) as string;
      const expected = ed25519KeyPairFromSeed(seedBytes(`${host}-host-key`), `root@${host}`);
      const doc = parse(userData) as { ssh_keys: Record<string, string> };
      expect(doc.ssh_keys).toEqual({ ed25519_private: expected.privateKey, ed25519_public: expected.publicKey });
      const connections = run.connections(host);
      // The bootstrap and each of the host's sites.
      expect(connections.length).toBeGreaterThan(1);
      for (const c of connections) expect(c.hostKey).toBe(expected.publicKey);
      pins.add(expected.publicKey);
    }
    expect(pins.size).toBe(run.hosts.length);
  });

  const hasSshKeygen = spawnSync("ssh-keygen", ["-?"]).error === undefined;
  it.runIf(hasSshKeygen)("pin the key ssh-keygen reads from the private key in the seed", async () => {
    const run = await runFleet();
    const host = run.hosts[0];
    const doc = parse(plain(run.byName(`${host}-seed`).inputs.userData)) as { ssh_keys: Record<string, string> };
    const dir = mkdtempSync(path.join(tmpdir(), "seed-key-"));
    try {
      const file = path.join(dir, "key");
      writeFileSync(file, doc.ssh_keys.ed25519_private, { mode: 0o600 });
      const derived = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim().split(" ").slice(0, 2).join(" ");
      expect(run.connections(host)[0].hostKey).toBe(derived);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keep the user-data a secret", async () => {
    const input = hostScriptInput(
      { name: "hv01-vm01", address: "10.20.1.10", prefixLength: 24, gateway: "10.20.1.1", nameservers: ["10.20.0.53"], phpWorkers: 2, sitesPerHost: 4 } as never,
      { domain: "schulen.example", ssh: { user: "root" }, moodle: { release: { git: { url: "https://g.example/m.git", commit: "0123456789abcdef0123456789abcdef01234567" } }, releaseDir: "/srv/moodle/release" } } as never,
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb8fHf5bGqGzB0yBEHn7yH5ioOmhM4Mw0t7y7RZ0p1S",
    );
    const userData = hostUserData(input, crypto.randomBytes(32).toString("base64"));
    expect(await pulumi.isSecret(userData)).toBe(true);
    expect(await promiseOf(userData)).toMatch(/OPENSSH PRIVATE KEY/);
  });
});

describe("VMs created before host keys were generated", () => {
  it("keep their connections exactly as they were: no pin, and a warning naming the host", async () => {
    const warn = vi.spyOn(pulumi.log, "warn");
    const before = await runFleet();
    const legacy = before.hosts[0];
    const fresh = before.hosts[1];
    const run = await runFleet({ deployedBefore: [legacy] });
    for (const c of run.connections(legacy)) expect(c).not.toHaveProperty("hostKey");
    // Nothing else about them changed.
    const strip = (c: Record<string, unknown>) => ({ ...c, privateKey: undefined, hostKey: undefined });
    expect(run.connections(legacy).map(strip)).toEqual(before.connections(legacy).map(strip));
    for (const c of run.connections(fresh)) expect(c.hostKey).toMatch(/^ssh-ed25519 /);
    const messages = warn.mock.calls.map(([m]) => String(m));
    expect(messages.filter((m) => m.includes(`host ${legacy} `))).toHaveLength(1);
    expect(messages.find((m) => m.includes(legacy))).toMatch(/pinnedHostKeys\["[^"]+"\]/);
    expect(messages.some((m) => m.includes(`host ${fresh} `))).toBe(false);
  });

  it("are checked against the key pinned in config", async () => {
    const pinned = ed25519KeyPairFromSeed(crypto.randomBytes(32)).publicKey;
    const before = await runFleet();
    const legacy = before.hosts[0];
    const run = await runFleet({ deployedBefore: [legacy], pins: { [legacy]: pinned } });
    for (const c of run.connections(legacy)) expect(c.hostKey).toBe(pinned);
  });
});

describe("hostKeyPin", () => {
  it("prefers the configured pin, then the seed's key, else none", () => {
    expect(hostKeyPin("ssh-ed25519 A", "ssh-ed25519 B")).toBe("ssh-ed25519 A");
    expect(hostKeyPin(undefined, "ssh-ed25519 B")).toBe("ssh-ed25519 B");
    expect(hostKeyPin(undefined, undefined)).toBeUndefined();
  });

});
