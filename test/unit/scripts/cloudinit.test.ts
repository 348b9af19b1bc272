import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DATA_DISK_SCRIPT } from "../../../infra/scripts/datadisk";
import {
  REQUIRED_PACKAGES,
  ScriptInputError,
  cloudInitMetaData,
  cloudInitNetworkConfig,
  cloudInitUserData,
  type HostScriptInput,
} from "../../../infra/scripts";
import { HOST_KEY_FILE, hostKeyOfUserData } from "../../../infra/scripts/cloudinit";
import { ed25519KeyPairFromSeed } from "../../../infra/config/ssh-key";

// cloud-init reads its YAML with PyYAML (YAML 1.1); check with it when present.
const hasPyYaml = spawnSync("python3", ["-c", "import yaml"]).status === 0;

function pyYaml(text: string): unknown {
  const out = execFileSync("python3", ["-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))"], {
    input: text,
    encoding: "utf8",
  });
  return JSON.parse(out);
}

/** Parses as every YAML reader we can: the yaml package in 1.1 and 1.2 mode, and PyYAML. */
function parseAll(text: string): unknown {
  const v12 = parse(text);
  expect(parse(text, { version: "1.1" })).toEqual(v12);
  if (hasPyYaml) expect(pyYaml(text)).toEqual(v12);
  return v12;
}

// Values that a careless emitter would let YAML 1.1 reinterpret (booleans,
// octals, sexagesimals, comments, mappings, anchors).
const TRICKY_KEY = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOk3 yes: no # not a comment 'q' "dq" &anchor *ref ü 1:20 0755`;

function host(overrides: Partial<HostScriptInput> = {}): HostScriptInput {
  return {
    hostName: "moodle-vm-0001",
    fqdn: "moodle-vm-0001.hosts.example.org",
    address: "10.20.0.11",
    prefixLength: 24,
    gateway: "10.20.0.1",
    nameservers: ["10.20.0.2", "10.20.0.3"],
    searchDomains: ["hosts.example.org"],
    sshUser: "root",
    sshPublicKey: TRICKY_KEY,
    phpWorkers: 2,
    release: { git: { url: "https://git.example.org/moodle.git", commit: "0123456789abcdef0123456789abcdef01234567" } },
    releaseDir: "/srv/moodle/release",
    timezone: "Europe/Berlin",
    tls: { certificate: "-----BEGIN CERTIFICATE-----\nMIIBpublic\n-----END CERTIFICATE-----\n" },
    ...overrides,
  };
}

describe("cloudInitUserData", () => {
  it("is #cloud-config YAML whose values round-trip exactly", () => {
    const text = cloudInitUserData(host());
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    const doc = parseAll(text) as Record<string, any>;
    expect(doc.hostname).toBe("moodle-vm-0001");
    expect(doc.fqdn).toBe("moodle-vm-0001.hosts.example.org");
    expect(doc.timezone).toBe("Europe/Berlin");
    expect(doc.ssh_pwauth).toBe(false);
    expect(doc.disable_root).toBe(false);
    expect(doc.users).toEqual([{ name: "root", lock_passwd: true, ssh_authorized_keys: [TRICKY_KEY] }]);
    expect(doc.packages).toEqual([...REQUIRED_PACKAGES]);
    expect(doc.write_files).toHaveLength(1);
    expect(doc.write_files[0].content).toMatch(/^PasswordAuthentication no$/m);
  });

  it("formats and mounts the data disk at every boot, with the script intact", () => {
    const doc = parseAll(cloudInitUserData(host())) as Record<string, any>;
    expect(doc.bootcmd).toEqual([["sh", "-c", DATA_DISK_SCRIPT, "moodle-fleet-data-disk", "/dev/vdb", "moodle-data", "/srv", "/etc/fstab"]]);
    // Not cloud-init's own modules: their 22.4 semantics are not safe (see datadisk.ts).
    expect(doc).not.toHaveProperty("fs_setup");
    expect(doc).not.toHaveProperty("mounts");
    expect(spawnSync("sh", ["-n", "-c", doc.bootcmd[0][2]]).status).toBe(0);

    const other = parseAll(cloudInitUserData(host({ dataMount: "/data" }))) as Record<string, any>;
    expect(other.bootcmd[0].slice(3)).toEqual(["moodle-fleet-data-disk", "/dev/vdb", "moodle-data", "/data", "/etc/fstab"]);
    expect(parseAll(cloudInitUserData(host({ dataMount: null })))).not.toHaveProperty("bootcmd");
    expect(() => cloudInitUserData(host({ dataMount: "/srv\nruncmd: [x]" }))).toThrow(/dataMount/);
  });

  it("carries no secrets and no certificate", () => {
    const text = cloudInitUserData(host());
    expect(text).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE|plain_text_passwd|hashed_passwd|chpasswd|^\s*(- )?passwd:/im);
  });

  it("gives a non-root SSH user sudo and keeps root locked", () => {
    const doc = parseAll(cloudInitUserData(host({ sshUser: "fleet" }))) as Record<string, any>;
    expect(doc.disable_root).toBe(true);
    expect(doc.users[0]).toMatchObject({ name: "fleet", sudo: "ALL=(ALL) NOPASSWD:ALL", ssh_authorized_keys: [TRICKY_KEY] });
  });

  it("omits packages for a pre-baked offline image", () => {
    const doc = parseAll(cloudInitUserData(host({ bootPackages: [] }))) as Record<string, any>;
    expect(doc).not.toHaveProperty("packages");
  });

  it("rejects values that could not be a single key or name", () => {
    expect(() => cloudInitUserData(host({ sshPublicKey: `${TRICKY_KEY}\nssh-rsa AAAAB3 second` }))).toThrow(ScriptInputError);
    expect(() => cloudInitUserData(host({ sshPublicKey: "not a key" }))).toThrow(ScriptInputError);
    expect(() => cloudInitUserData(host({ hostName: "a\nb" }))).toThrow(ScriptInputError);
    expect(() => cloudInitUserData(host({ timezone: "Europe/Berlin\nruncmd: [x]" }))).toThrow(ScriptInputError);
  });
});

describe("cloudInitUserData with a host key", () => {
  const hostKey = ed25519KeyPairFromSeed(Buffer.alloc(32, 7), "moodle-vm-0001");

  it("installs that key as the only host key, the image's own keys deleted", () => {
    const text = cloudInitUserData(host(), hostKey);
    const doc = parseAll(text) as Record<string, any>;
    expect(doc.ssh_keys).toEqual({ ed25519_private: hostKey.privateKey, ed25519_public: hostKey.publicKey });
    expect(doc.ssh_deletekeys).toBe(true);
    expect(doc.ssh_genkeytypes).toEqual([]);
    expect(doc.write_files[0].content).toMatch(new RegExp(`^HostKey ${HOST_KEY_FILE}$`, "m"));
    expect(doc.write_files[0].content.match(/^HostKey /gm)).toHaveLength(1);
  });

  it("reads the key back from the user-data, and nothing from a seed written without one", () => {
    expect(hostKeyOfUserData(cloudInitUserData(host(), hostKey))).toBe(hostKey.publicKey);
    expect(hostKeyOfUserData(cloudInitUserData(host()))).toBeUndefined();
    expect(hostKeyOfUserData("")).toBeUndefined();
    expect(hostKeyOfUserData("#cloud-config\n: [")).toBeUndefined();
    expect(hostKeyOfUserData('#cloud-config\nssh_keys: {ed25519_public: "ssh-ed25519 AAAA\\nruncmd"}')).toBeUndefined();
  });

  it("leaves a user-data without a key as it was", () => {
    const doc = parseAll(cloudInitUserData(host())) as Record<string, any>;
    for (const key of ["ssh_keys", "ssh_deletekeys", "ssh_genkeytypes"]) expect(doc).not.toHaveProperty(key);
    expect(doc.write_files[0].content).not.toMatch(/HostKey/);
  });

  it("refuses a key that is not one OpenSSH ed25519 key, without quoting the private key", () => {
    const bad = `${hostKey.privateKey}ssh_pwauth: true\n`;
    const error = (() => {
      try {
        cloudInitUserData(host(), { ...hostKey, privateKey: bad });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ScriptInputError);
    expect(error!.message).not.toContain("OPENSSH");
    expect(() => cloudInitUserData(host(), { ...hostKey, publicKey: `${hostKey.publicKey} comment` })).toThrow(ScriptInputError);
    expect(() => cloudInitUserData(host(), { ...hostKey, publicKey: TRICKY_KEY })).toThrow(ScriptInputError);
  });
});

describe("cloudInitNetworkConfig", () => {
  it("sets the static IPv4 address on eth0", () => {
    const doc = parseAll(cloudInitNetworkConfig(host())) as Record<string, any>;
    expect(doc).toEqual({
      version: 2,
      ethernets: {
        eth0: {
          match: { name: "eth0" },
          dhcp4: false,
          dhcp6: false,
          addresses: ["10.20.0.11/24"],
          routes: [{ to: "0.0.0.0/0", via: "10.20.0.1" }],
          nameservers: { addresses: ["10.20.0.2", "10.20.0.3"], search: ["hosts.example.org"] },
        },
      },
    });
  });

  it("handles IPv6 and refuses mixed families", () => {
    const doc = parseAll(
      cloudInitNetworkConfig(host({ address: "2001:db8::11", prefixLength: 64, gateway: "2001:db8::1", nameservers: ["2001:db8::2"] })),
    ) as Record<string, any>;
    expect(doc.ethernets.eth0.addresses).toEqual(["2001:db8::11/64"]);
    expect(doc.ethernets.eth0.routes).toEqual([{ to: "::/0", via: "2001:db8::1" }]);
    expect(() => cloudInitNetworkConfig(host({ address: "2001:db8::11", prefixLength: 64 }))).toThrow(/gateway/);
    expect(() => cloudInitNetworkConfig(host({ prefixLength: 33 }))).toThrow(/prefixLength/);
  });
});

describe("cloudInitMetaData", () => {
  it("names the instance after the host", () => {
    expect(parseAll(cloudInitMetaData(host()))).toEqual({ "instance-id": "moodle-vm-0001", "local-hostname": "moodle-vm-0001" });
  });
});
