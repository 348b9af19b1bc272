import { describe, expect, it } from "vitest";
import { configFromValues } from "../../infra/config/pulumi-values";
import { CONFIG_KEYS } from "../../infra/config/schema";
import { parseStackConfig, secretWarnings } from "../../infra/config/stack-file";
import { checkPinnedHostKeys, formatKeyPath, parseFleetConfig, validateFleetConfig } from "../../infra/config/validate";
import { formatIssue, InputError } from "../../infra/inputs/issues";
import { configInput, hypervisor } from "./support/builders";

const errors = (value: unknown) => validateFleetConfig(value).issues.map((i) => [i.field, i.rule]);

describe("config schema", () => {
  it("accepts a valid config and fills defaults", () => {
    const config = parseFleetConfig(configInput());
    expect(config.installsPerHost).toBe(4);
    expect(config.protectData).toBe(true);
    expect(config.dns).toMatchObject({ port: 53, tsigAlgorithm: "hmac-sha256", ttl: 300 });
    expect(config.moodle).toMatchObject({ adminUser: "admin", releaseDir: "/srv/moodle/release" });
    expect(config.ssh.user).toBe("root");
    expect(config.hypervisors[0].domainType).toBe("kvm");
    expect(config.tls).toBeUndefined();
  });

  it("lists every top-level key, secrets excluded", () => {
    expect([...CONFIG_KEYS].sort()).toEqual(
      ["allowPlainHttp", "cell", "defaultTier", "dns", "domain", "hypervisors", "inputs", "installsPerHost", "moodle", "protectData", "singleStack", "ssh", "tiers", "tls", "vmShutdownTimeoutSeconds"].sort(),
    );
  });

  it("requires defaultTier to be a configured tier", () => {
    expect(errors(configInput({ defaultTier: "large" }))).toEqual([["defaultTier", "unknown-tier"]]);
  });

  it("rejects duplicate hypervisor names and overlapping address ranges", () => {
    expect(errors(configInput({ hypervisors: [hypervisor("hv01", 1), hypervisor("hv01", 1)] }))).toEqual([
      ["hypervisors[1].name", "duplicate"],
      ["hypervisors[1].addresses", "overlap"],
    ]);
  });

  it("checks addresses: IPv4, inside the CIDR, first <= last, gateway outside the VM range", () => {
    const hv = hypervisor("hv01", 1);
    const bad = (addresses: Partial<typeof hv.addresses>) => errors(configInput({ hypervisors: [{ ...hv, addresses: { ...hv.addresses, ...addresses } }] }));
    expect(bad({ first: "10.20.1.300" })).toEqual([["hypervisors[0].addresses.first", "ipv4"]]);
    expect(bad({ cidr: "10.20.1.5/24" })).toEqual([["hypervisors[0].addresses.cidr", "cidr"]]);
    expect(bad({ last: "10.20.2.20" })).toEqual([["hypervisors[0].addresses.last", "outside-cidr"]]);
    expect(bad({ first: "10.20.1.200", last: "10.20.1.100" })).toEqual([["hypervisors[0].addresses.last", "range"]]);
    expect(bad({ gateway: "10.20.1.50" })).toEqual([["hypervisors[0].addresses.gateway", "range"]]);
    expect(bad({ gateway: "10.20.9.1" })).toEqual([["hypervisors[0].addresses.gateway", "outside-cidr"]]);
    expect(bad({ nameservers: [] })).toEqual([["hypervisors[0].addresses.nameservers", "too_small"]]);
  });

  it("requires exactly one of bridge or network, and of git or tarball", () => {
    const hv = hypervisor("hv01", 1);
    expect(errors(configInput({ hypervisors: [{ ...hv, network: { bridge: "br0", network: "default" } }] }))).toEqual([
      ["hypervisors[0].network", "one-of"],
    ]);
    expect(errors(configInput({ moodle: { release: {} } }))).toEqual([["moodle.release", "one-of"]]);
    expect(
      errors(configInput({ moodle: { release: { tarball: { url: "https://dl.example/moodle.tgz", sha256: "A".repeat(64) } } } })),
    ).toEqual([]);
  });

  it("checks URIs, paths and names", () => {
    const hv = hypervisor("hv01", 1);
    expect(
      errors(
        configInput({
          domain: "Moodle_Schulen",
          hypervisors: [{ ...hv, name: "HV 1", uri: "hv01", pool: { name: "a b", path: "srv/../x" }, baseImage: { source: "ftp://x", format: "vmdk" as never } }],
        }),
      ),
    ).toEqual([
      ["domain", "dns-name"],
      ["hypervisors[0].name", "dns-label"],
      ["hypervisors[0].uri", "libvirt-uri"],
      ["hypervisors[0].pool.name", "name"],
      ["hypervisors[0].pool.path", "path"],
      ["hypervisors[0].baseImage.source", "image-source"],
      ["hypervisors[0].baseImage.format", "invalid_value"],
    ]);
  });

  it("requires the domain to be inside the DNS zone", () => {
    expect(errors(configInput({ domain: "moodle.other.example" }))).toEqual([["domain", "zone"]]);
  });

  it("rejects a tier no hypervisor can hold", () => {
    const tiers = { ...configInput().tiers, huge: { vcpu: 64, memoryMiB: 8192, sitesPerHost: 1, diskGiBPerSite: 1, phpWorkers: 1, rootDiskGiB: 1 } };
    expect(errors(configInput({ tiers }))).toEqual([["tiers.huge", "capacity"]]);
  });

  it("bounds installsPerHost", () => {
    expect(errors(configInput({ installsPerHost: 0 }))).toEqual([["installsPerHost", "too_small"]]);
    expect(errors(configInput({ installsPerHost: 51 }))).toEqual([["installsPerHost", "too_big"]]);
    expect(errors(configInput({ installsPerHost: 2.5 }))).toEqual([["installsPerHost", "invalid_type"]]);
  });

  it("names unknown and missing keys", () => {
    const input: Record<string, unknown> = { ...configInput(), colour: "blue" };
    delete input.domain;
    const issues = validateFleetConfig(input).issues;
    expect(issues.map((i) => [i.field, i.rule, i.message])).toEqual([
      ["domain", "invalid_type", "required key is missing"],
      ["colour", "unknown-key", "unknown key (typo?)"],
    ]);
  });

  it("names unknown keys inside nested objects", () => {
    const hv = { ...hypervisor("hv01", 1), colour: "red" };
    expect(errors(configInput({ hypervisors: [hv] as never }))).toEqual([["hypervisors[0].colour", "unknown-key"]]);
  });

  it("accepts a TLS certificate and checks its form", () => {
    const certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    expect(errors(configInput({ tls: { certificate } }))).toEqual([]);
    expect(errors(configInput({ tls: { certificate: "not a cert" } }))).toEqual([["tls.certificate", "pem"]]);
  });

  it("throws an InputError listing every problem", () => {
    expect(() => parseFleetConfig({})).toThrow(InputError);
    expect(() => parseFleetConfig({})).toThrow(/domain.*\n.*hypervisors/s);
  });

  it("formats key paths", () => {
    expect(formatKeyPath(["hypervisors", 2, "addresses", "first"])).toBe("hypervisors[2].addresses.first");
  });
});

describe("configFromValues", () => {
  it("parses JSON values as Pulumi hands them over and keeps bare strings", () => {
    const raw: Record<string, string> = {
      domain: "moodle.schulen.example",
      defaultTier: "standard",
      installsPerHost: "4",
      protectData: "false",
      hypervisors: JSON.stringify(configInput().hypervisors),
      tiers: JSON.stringify(configInput().tiers),
      dns: JSON.stringify(configInput().dns),
      moodle: JSON.stringify(configInput().moodle),
      ssh: "{}",
      allowPlainHttp: "true",
    };
    const config = parseFleetConfig(configFromValues((k) => raw[k]));
    expect(config.protectData).toBe(false);
    expect(config.hypervisors).toHaveLength(2);
  });

  it("passes unparsable text through for validation to report", () => {
    expect(configFromValues((k) => (k === "tiers" ? "{oops" : undefined))).toEqual({ tiers: "{oops" });
  });
});

const STACK = `# comment
config:
  aws:region: eu-central-1
  moodle-fleet:domain: moodle.schulen.example
  moodle-fleet:defaultTier: standard
  moodle-fleet:hypervisors:
    - name: hv01
      uri: qemu:///system
      pool: {name: moodle, path: /srv/pool}
      baseImage: {source: /srv/base.qcow2, format: qcow2}
      network: {bridge: br0}
      addresses:
        cidr: 10.20.1.0/24
        first: 10.20.1.10
        last: 10.20.1.250
        gateway: 10.20.1.1
        nameservers: [10.20.0.53]
      capacity: {vcpu: 16, memoryMiB: 65536}
  moodle-fleet:tiers:
    standard: {vcpu: 4, memoryMiB: 8192, sitesPerHost: 4, diskGiBPerSite: 20, phpWorkers: 4, rootDiskGiB: 20}
  moodle-fleet:dns: {server: 10.20.0.53, zone: schulen.example, tsigKeyName: fleet}
  moodle-fleet:moodle:
    release: {git: {url: "https://git.example/moodle.git", commit: "0123456789abcdef0123456789abcdef01234567"}}
  moodle-fleet:ssh: {}
  moodle-fleet:dnsTsigSecret:
    secure: v1:abc
  moodle-fleet:allowPlainHttp: true
`;

describe("stack config file", () => {
  it("reads namespaced keys, ignores other namespaces and notes secrets", () => {
    const result = parseStackConfig(STACK, "Pulumi.lab.yaml");
    expect(result.issues).toEqual([]);
    expect(result.config?.domain).toBe("moodle.schulen.example");
    expect(result.secrets).toEqual({ dnsTsigSecret: true, tlsPrivateKey: false, sshPrivateKey: false });
    expect(JSON.stringify(result.config)).not.toContain("secure");
  });

  it("warns about missing secrets with the command that sets them", () => {
    const result = parseStackConfig(STACK, "Pulumi.lab.yaml");
    expect(secretWarnings(result, "Pulumi.lab.yaml", "lab").map(formatIssue)).toEqual([
      'Pulumi.lab.yaml: warning: key "sshPrivateKey": secret is not set (fix: `pulumi config set --secret --stack lab moodle-fleet:sshPrivateKey < FILE`)',
    ]);
  });

  it("asks for tlsPrivateKey only when tls is configured", () => {
    const withTls = STACK.replace("  moodle-fleet:ssh: {}\n", '  moodle-fleet:ssh: {}\n  moodle-fleet:tls: {certificate: "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"}\n');
    const result = parseStackConfig(withTls, "s.yaml");
    expect(result.issues).toEqual([]);
    expect(secretWarnings(result, "s.yaml").map((w) => w.field)).toEqual(["tlsPrivateKey", "sshPrivateKey"]);
  });

  it("reports errors with the line of the offending key", () => {
    const broken = STACK.replace("first: 10.20.1.10", "first: 10.20.1")
      .replace("sitesPerHost: 4", "sitesPerHost: -1")
      .replace("  moodle-fleet:ssh: {}\n", "  moodle-fleet:ssh: {}\n  moodle-fleet:colour: blue\n");
    const result = parseStackConfig(broken, "Pulumi.lab.yaml");
    expect(result.config).toBeUndefined();
    expect(result.issues.map(formatIssue)).toEqual([
      'Pulumi.lab.yaml:14: key "hypervisors[0].addresses.first": not an IPv4 address (got "10.20.1")',
      'Pulumi.lab.yaml:20: key "tiers.standard.sitesPerHost": Too small: expected number to be >0',
      'Pulumi.lab.yaml:25: key "colour": unknown key (typo?)',
    ]);
  });

  it("points a missing key at its parent's line", () => {
    const result = parseStackConfig(STACK.replace("      uri: qemu:///system\n", ""), "s.yaml");
    expect(result.issues.map((i) => [i.line, i.field, i.message])).toEqual([[7, "hypervisors[0].uri", "required key is missing"]]);
  });

  it("points a missing top-level key at `config:`", () => {
    const result = parseStackConfig(STACK.replace("  moodle-fleet:defaultTier: standard\n", ""), "s.yaml");
    expect(result.issues.map((i) => [i.line, i.field])).toEqual([[2, "defaultTier"]]);
  });

  it("rejects plain-text secrets and encrypted plain keys", () => {
    const result = parseStackConfig(
      STACK.replace("    secure: v1:abc\n", "    plain\n").replace("moodle-fleet:domain: moodle.schulen.example", "moodle-fleet:domain: {secure: v1:x}"),
      "s.yaml",
    );
    expect(result.issues.map((i) => [i.line, i.field, i.rule])).toEqual([
      [4, "domain", "secure-plain-key"],
      [25, "dnsTsigSecret", "plain-secret"],
    ]);
    expect(JSON.stringify(result.issues)).not.toContain("plain\"");
  });

  it("rejects keys without a namespace", () => {
    const result = parseStackConfig("config:\n  domain: x\n", "s.yaml");
    expect(result.issues[0]).toMatchObject({ line: 2, rule: "namespace" });
  });

  it("reports YAML syntax errors with their line", () => {
    const result = parseStackConfig("config:\n  moodle-fleet:domain: x\n  moodle-fleet:domain: y\n", "s.yaml");
    expect(result.issues).toEqual([expect.objectContaining({ line: 3, rule: "yaml" })]);
  });

  it("requires a config mapping", () => {
    expect(parseStackConfig("encryptionsalt: x\n", "s.yaml").issues).toEqual([expect.objectContaining({ rule: "yaml" })]);
  });
});

describe("the cell key", () => {
  it("names configured hypervisors only", () => {
    expect(errors(configInput({ cell: ["hv09"] }))).toEqual([["cell", "unknown-hypervisor"]]);
    expect(errors(configInput({ cell: ["hv01"] }))).toEqual([]);
  });
});

describe("pinned host keys", () => {
  const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb8fHf5bGqGzB0yBEHn7yH5ioOmhM4Mw0t7y7RZ0p1S";
  const pins = (pinnedHostKeys: Record<string, string>) => configInput({ ssh: { pinnedHostKeys } });

  it("are keyed by VM names of configured hypervisors", () => {
    expect(errors(pins({ "hv01-vm01": KEY, "hv02-vm12": KEY }))).toEqual([]);
  });

  it("refuse an address, a DNS name, a misspelt VM name or hypervisor, naming the key", () => {
    const result = validateFleetConfig(
      pins({ "10.20.1.10": KEY, "hv01.schulen.example": KEY, "hv01-vm1": KEY, "hv1-vm01": KEY, "hv03-vm01": KEY }),
      { file: "Pulumi.prod.yaml" },
    );
    expect(result.issues.map((i) => [i.file, i.field, i.rule])).toEqual([
      ["Pulumi.prod.yaml", "ssh.pinnedHostKeys.10.20.1.10", "pin-host"],
      ["Pulumi.prod.yaml", "ssh.pinnedHostKeys.hv01.schulen.example", "pin-host"],
      ["Pulumi.prod.yaml", "ssh.pinnedHostKeys.hv01-vm1", "pin-host"],
      ["Pulumi.prod.yaml", "ssh.pinnedHostKeys.hv1-vm01", "pin-host"],
      ["Pulumi.prod.yaml", "ssh.pinnedHostKeys.hv03-vm01", "pin-host"],
    ]);
    expect(result.issues[0].message).toMatch(/is an address: pins are keyed by the VM's name, <hypervisor>-vm<NN> \(e\.g\. hv01-vm01\)/);
    expect(result.issues[1].message).toMatch(/is a DNS name/);
    expect(result.issues[4].message).toMatch(/hypervisor "hv03", which is not configured \(hv01, hv02\)/);
  });

  it("still refuse a value that is no public key", () => {
    expect(errors(pins({ "hv01-vm01": "AAAA" }))).toEqual([["ssh.pinnedHostKeys.hv01-vm01", "ssh-key"]]);
  });

  it("are located on their line in the stack file", () => {
    const text = STACK.replace("  moodle-fleet:ssh: {}\n", `  moodle-fleet:ssh:\n    pinnedHostKeys:\n      hv01-vm01: ${KEY}\n      10.20.1.11: ${KEY}\n`);
    const result = parseStackConfig(text, "Pulumi.lab.yaml");
    expect(result.issues.map((i) => [i.line, i.field, i.rule])).toEqual([[27, "ssh.pinnedHostKeys.10.20.1.11", "pin-host"]]);
  });

  it("must name a placed VM: checked against the ledger's hosts, with file, line and key", () => {
    const text = STACK.replace("  moodle-fleet:ssh: {}\n", `  moodle-fleet:ssh:\n    pinnedHostKeys:\n      hv01-vm01: ${KEY}\n      hv01-vm07: ${KEY}\n`);
    const parsed = parseStackConfig(text, "Pulumi.lab.yaml");
    expect(parsed.issues).toEqual([]);
    const issues = checkPinnedHostKeys(parsed.config!, ["hv01-vm01", "hv01-vm02"], { file: "Pulumi.lab.yaml", locate: parsed.locate });
    expect(issues.map(formatIssue)).toEqual([
      'Pulumi.lab.yaml:27: key "ssh.pinnedHostKeys.hv01-vm07": "hv01-vm07" is not a placed VM (the ledger puts no school on it): a pin for it checks nothing (fix: correct the VM\'s name, or remove the pin of a VM that no longer exists)',
    ]);
    expect(checkPinnedHostKeys(parsed.config!, ["hv01-vm01", "hv01-vm07"])).toEqual([]);
  });
});
