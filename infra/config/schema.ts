import { z } from "zod";
import { parseHostName } from "../inputs/host-name";
import { moodleReleaseSchema } from "./moodle-release";
import { ipv4ToNumber, isHostAddressIn, isIPv4, parseCidr } from "./ipv4";
import {
  absolutePath,
  dnsLabel,
  dnsName,
  hostOrIpv4,
  httpUrl,
  ipv4,
  isAbsolutePath,
  isUrl,
  linuxUser,
  positiveInt,
  sha256,
  simpleName,
  sshPublicKey,
  str,
} from "./rules";

/** Pulumi config namespace: keys are `moodle-fleet:<key>` in Pulumi.<stack>.yaml. */
export const CONFIG_NAMESPACE = "moodle-fleet";

/**
 * Secrets live in the stack config as `{secure: ...}` and reach the program
 * only as Pulumi secret outputs; they are never part of FleetConfig.
 */
export const SECRET_KEYS = ["dnsTsigSecret", "tlsPrivateKey", "sshPrivateKey"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

const custom = (ctx: z.RefinementCtx, path: PropertyKey[], rule: string, message: string) =>
  ctx.addIssue({ code: "custom", path, message, params: { rule } });

/**
 * The VM address pool on a hypervisor's network. VM number n gets
 * `first + n - 1`, so an address never changes while the VM exists.
 */
const addressesSchema = z
  .strictObject({
    /** Subnet of the bridge, e.g. 10.20.1.0/24. */
    cidr: str("cidr", (v) => parseCidr(v) !== undefined, "not an IPv4 network in CIDR form (a.b.c.0/nn)"),
    /** Address of VM 1. */
    first: ipv4,
    /** Highest address a VM may get; VMs past it are refused. */
    last: ipv4,
    /** Default route for the VMs. */
    gateway: ipv4,
    /** Resolvers written into the guests' network config. */
    nameservers: z.array(ipv4).min(1),
  })
  .superRefine((a, ctx) => {
    const cidr = parseCidr(a.cidr);
    if (!cidr) return;
    for (const key of ["first", "last", "gateway"] as const) {
      if (isIPv4(a[key]) && !isHostAddressIn(cidr, ipv4ToNumber(a[key])))
        custom(ctx, [key], "outside-cidr", `${a[key]} is not a host address in ${a.cidr}`);
    }
    if (!isIPv4(a.first) || !isIPv4(a.last)) return;
    const [first, last] = [ipv4ToNumber(a.first), ipv4ToNumber(a.last)];
    if (first > last) custom(ctx, ["last"], "range", `last (${a.last}) is below first (${a.first})`);
    if (isIPv4(a.gateway)) {
      const gateway = ipv4ToNumber(a.gateway);
      if (gateway >= first && gateway <= last)
        custom(ctx, ["gateway"], "range", `gateway ${a.gateway} lies inside the VM range ${a.first}..${a.last}`);
    }
  });

const hypervisorSchema = z.strictObject({
  /** Short name (DNS label); prefixes its VMs' names: hv01 -> hv01-vm01. */
  name: dnsLabel,
  /** libvirt connection URI: qemu+ssh://root@hv01.example/system, or qemu:///system locally. */
  uri: str("libvirt-uri", (v) => /^[a-z][a-z0-9]*(\+[a-z0-9]+)?:\/\/[^\s]*\/[^\s]*$/.test(v), "not a libvirt URI"),
  /** Storage pool for the VMs' volumes (a directory pool on the shared storage mount). */
  pool: z.strictObject({ name: simpleName, path: absolutePath }),
  /** Guest image every VM's root volume is cloned from: an absolute path on the hypervisor or a URL. */
  baseImage: z.strictObject({
    source: str("image-source", (v) => isAbsolutePath(v) || isUrl(v, ["http:", "https:"]), "neither an absolute path nor an http(s) URL"),
    format: z.enum(["qcow2", "raw"]),
    /**
     * Direct kernel boot, for images without a boot loader (the lab's):
     * kernel and initrd paths on the hypervisor and the kernel command line.
     */
    kernelBoot: z
      .strictObject({ kernel: absolutePath, initrd: absolutePath, cmdline: z.string().regex(/^[ -~]{1,1024}$/) })
      .optional(),
  }),
  /** Where the VMs' NIC attaches: an existing Linux bridge or a libvirt network; exactly one. */
  network: z
    .strictObject({
      bridge: str("bridge", (v) => /^[A-Za-z0-9_.-]{1,15}$/.test(v), "not a network interface name").optional(),
      network: simpleName.optional(),
    })
    .superRefine((n, ctx) => {
      if ((n.bridge === undefined) === (n.network === undefined))
        custom(ctx, [], "one-of", "set exactly one of `bridge` or `network`");
    }),
  addresses: addressesSchema,
  /** What this hypervisor may hand to VMs in total; the planner never commits more. */
  capacity: z.strictObject({ vcpu: positiveInt, memoryMiB: positiveInt }),
  /** kvm in production; qemu (TCG) where hardware virtualisation is unusable. */
  domainType: z.enum(["kvm", "qemu"]).default("kvm"),
});

/** A VM size. Every host VM has one tier, and so do all of its schools. */
const tierSchema = z.strictObject({
  vcpu: positiveInt,
  memoryMiB: positiveInt,
  /** Moodle sites per VM (Apache vhosts, php-fpm pools, databases). */
  sitesPerHost: positiveInt,
  /** Data volume share per site; the data volume is sized for a full VM up front. */
  diskGiBPerSite: positiveInt,
  /** php-fpm worker processes per site pool. */
  phpWorkers: positiveInt,
  rootDiskGiB: positiveInt,
});

const tierName = str("tier-name", (v) => /^[a-z][a-z0-9-]{0,30}$/.test(v), "not a tier name (lower-case letters, digits, hyphens)");

const moodleSchema = z.strictObject({
  /** Where Moodle's code comes from: a pinned git commit or a tarball with its digest; exactly one (moodle-release.ts). */
  release: moodleReleaseSchema,
  /** Extra plugins unpacked over the release, checked against its digest. */
  pluginBundle: z.strictObject({ url: httpUrl, sha256 }).optional(),
  /** Moodle admin account created by each install; its password is generated. */
  adminUser: str("user", (v) => /^[a-z0-9_.@-]{1,100}$/.test(v), "not a Moodle user name").default("admin"),
  /**
   * Where each VM keeps its releases, one directory per release (named by
   * its digest) shared by the VM's sites: code is fetched once per VM and
   * release, and a new release lands beside the one the sites run.
   */
  releaseDir: absolutePath.default("/srv/moodle/release"),
});

const PEM_CERT = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/;

export const fleetConfigSchema = z
  .strictObject({
    /** Parent domain of every site: school 04101234 is served at 04101234.<domain>. */
    domain: dnsName,
    /** The KVM hosts; at least one. Names must be unique. */
    hypervisors: z.array(hypervisorSchema).min(1),
    /** VM sizes by name. */
    tiers: z.record(tierName, tierSchema),
    /** Tier of schools whose row leaves `tier` empty; must be a key of `tiers`. */
    defaultTier: z.string(),
    /** DNS server taking RFC 2136 updates for the sites' A records. */
    dns: z.strictObject({
      server: hostOrIpv4,
      port: z.number().int().min(1).max(65535).default(53),
      /** Zone the records are written to; `domain` must lie inside it. */
      zone: dnsName,
      /** TSIG key name; the key itself is the secret `dnsTsigSecret`. */
      tsigKeyName: dnsName,
      tsigAlgorithm: z
        .enum(["hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1", "hmac-md5"])
        .default("hmac-sha256"),
      ttl: z.number().int().min(1).max(86400).default(300),
    }),
    moodle: moodleSchema,
    /**
     * One wildcard certificate for *.<domain>, the same on every VM. Its key
     * is the secret `tlsPrivateKey`. Required unless `allowPlainHttp` is set:
     * every site hands out logins and admin passwords.
     */
    tls: z
      .strictObject({
        certificate: str("pem", (v) => PEM_CERT.test(v.trim()), "not a PEM certificate (-----BEGIN CERTIFICATE-----)"),
      })
      .optional(),
    /**
     * Serve the sites over plain http, without `tls`. Only for a lab whose
     * network never leaves the machine (Pulumi.lab.yaml); default false.
     */
    allowPlainHttp: z.boolean().default(false),
    /** How the program reaches hypervisors and VMs; the private key is the secret `sshPrivateKey`. */
    ssh: z.strictObject({
      user: linuxUser.default("root"),
      /** Authorized on every VM. Optional: when absent it is derived from `sshPrivateKey`. */
      publicKey: sshPublicKey.optional(),
      /**
       * Host keys of VMs, by the VM's name (`hv01-vm01`), never by address.
       * Every VM created by the program gets a generated host key that is
       * pinned without config; a pin here is for a VM created before that
       * (whose key it made itself) or one whose key was replaced by hand, and
       * wins over the generated one. A key naming no VM is an error.
       */
      pinnedHostKeys: z.record(z.string(), sshPublicKey).optional(),
      /**
       * Failed SSH connection attempts a remote command makes before it
       * fails; default 60. A VM just created under software emulation (TCG,
       * no KVM) takes a minute or two before its sshd answers, and its
       * bootstrap is the first command to knock. The price is paid when a
       * host is down: each of its commands then fails only after about
       * dialErrorLimit × (perDialTimeout + up to 5 s between attempts),
       * some 15 minutes with the defaults when its packets are dropped.
       */
      dialErrorLimit: z.number().int().min(1).max(1000).default(60),
      /** Seconds one SSH connection attempt may take; default 10. */
      perDialTimeout: z.number().int().min(1).max(600).default(10),
    }),
    /**
     * Seconds a VM may take to shut down cleanly (its sites' databases and
     * php-fpm stopping) when a resize or a removal deletes its domain, before
     * the libvirt provider powers it off; default 300.
     */
    vmShutdownTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
    /** Concurrent Moodle installs per VM: bounds load on the VM, git server and DNS. */
    installsPerHost: z.number().int().min(1).max(50).default(4),
    /** Protect data volumes and sites from deletion by Pulumi (set false only in labs). */
    protectData: z.boolean().default(true),
    /**
     * Set by the fleet driver on a cell stack (`<env>-<hypervisor>`): the
     * hypervisors this stack declares. A stack without it declares nothing
     * unless `singleStack` is true.
     */
    cell: z.array(dnsLabel).min(1).optional(),
    /**
     * Set by the fleet driver on a cell stack: the school list and ledger the
     * cell was planned from, relative to the repository root, so that a plain
     * `pulumi preview -s <env>-<hypervisor>` plans from the same files.
     */
    inputs: z.strictObject({ schools: z.string().min(1), ledger: z.string().min(1) }).optional(),
    /**
     * Declare the whole fleet in this one stack (no cells). Off by default: the
     * environment's own stack (`prod`) holds only shared config, and running
     * `pulumi up -s prod` by mistake must not adopt every volume and generate
     * new passwords for every school.
     */
    singleStack: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.tls === undefined && !c.allowPlainHttp)
      custom(ctx, ["tls"], "tls-required", "required: sites would send logins and admin passwords over plain http; add the wildcard certificate (set allowPlainHttp: true only in a lab)");

    if (!Object.hasOwn(c.tiers, c.defaultTier))
      custom(ctx, ["defaultTier"], "unknown-tier", `tier "${c.defaultTier}" is not in tiers (${Object.keys(c.tiers).join(", ") || "none"})`);

    for (const name of c.cell ?? [])
      if (!c.hypervisors.some((hv) => hv.name === name))
        custom(ctx, ["cell"], "unknown-hypervisor", `cell "${name}" is not one of the hypervisors`);

    // A pin under any other name than a VM's would silently check nothing.
    const hypervisorNames = c.hypervisors.map((hv) => hv.name);
    for (const key of Object.keys(c.ssh.pinnedHostKeys ?? {})) {
      const problem = pinKeyProblem(key, hypervisorNames);
      if (problem) custom(ctx, ["ssh", "pinnedHostKeys", key], "pin-host", problem);
    }

    const firstIndex = new Map<string, number>();
    c.hypervisors.forEach((hv, k) => {
      const seen = firstIndex.get(hv.name);
      if (seen !== undefined) custom(ctx, ["hypervisors", k, "name"], "duplicate", `hypervisor "${hv.name}" is already defined at hypervisors[${seen}]`);
      else firstIndex.set(hv.name, k);
    });

    // Hypervisors may share one subnet; their VM ranges must then not collide.
    const ranges = c.hypervisors.flatMap((hv, k) =>
      isIPv4(hv.addresses.first) && isIPv4(hv.addresses.last)
        ? [{ k, name: hv.name, lo: ipv4ToNumber(hv.addresses.first), hi: ipv4ToNumber(hv.addresses.last) }]
        : [],
    );
    for (const a of ranges)
      for (const b of ranges)
        if (a.k < b.k && a.lo <= b.hi && b.lo <= a.hi)
          custom(ctx, ["hypervisors", b.k, "addresses"], "overlap", `VM address range overlaps the one of hypervisor "${a.name}"`);

    const zone = c.dns.zone.replace(/\.$/, "");
    const domain = c.domain.replace(/\.$/, "");
    if (domain !== zone && !domain.endsWith(`.${zone}`))
      custom(ctx, ["domain"], "zone", `"${c.domain}" is not inside the DNS zone "${c.dns.zone}"`);
    // <8-digit id>.<domain> must stay a legal DNS name.
    if (domain.length > 253 - 9) custom(ctx, ["domain"], "dns-name", "too long to prefix a school id");

    for (const [name, tier] of Object.entries(c.tiers)) {
      const fits = c.hypervisors.some((hv) => hv.capacity.vcpu >= tier.vcpu && hv.capacity.memoryMiB >= tier.memoryMiB);
      if (!fits) custom(ctx, ["tiers", name], "capacity", `no hypervisor's capacity holds one VM of this tier (${tier.vcpu} vcpu, ${tier.memoryMiB} MiB)`);
    }
  });

/**
 * Why a `pinnedHostKeys` key names no VM of the configured hypervisors, or
 * undefined when it does. Whether the VM is placed is checked against the
 * ledger (pinsWithoutHost).
 */
export function pinKeyProblem(key: string, hypervisors: readonly string[]): string | undefined {
  const host = parseHostName(key);
  if (!host) {
    const what = isIPv4(key) ? "an address" : key.includes(".") ? "a DNS name" : "not a VM name";
    return `"${key}" is ${what}: pins are keyed by the VM's name, <hypervisor>-vm<NN> (e.g. ${hypervisors[0] ?? "hv01"}-vm01)`;
  }
  if (!hypervisors.includes(host.hypervisor))
    return `"${key}" names hypervisor "${host.hypervisor}", which is not configured (${hypervisors.join(", ")})`;
  return undefined;
}

/**
 * Pins for VMs that are not placed: the ledger holds no school on them (a
 * misspelt number, or a VM long gone). `hosts` are the planned VM names.
 */
export function pinsWithoutHost(config: Pick<FleetConfig, "ssh">, hosts: Iterable<string>): string[] {
  const planned = new Set(hosts);
  return Object.keys(config.ssh.pinnedHostKeys ?? {}).filter((key) => !planned.has(key));
}

export type FleetConfig = z.output<typeof fleetConfigSchema>;
/** The config as written, before defaults are applied. */
export type FleetConfigInput = z.input<typeof fleetConfigSchema>;
export type HypervisorConfig = FleetConfig["hypervisors"][number];
export type TierConfig = FleetConfig["tiers"][string];
export type MoodleConfig = FleetConfig["moodle"];
export type DnsConfig = FleetConfig["dns"];
export type SshConfig = FleetConfig["ssh"];
export type TlsConfig = NonNullable<FleetConfig["tls"]>;

/** The top-level keys of the plain (non-secret) config. */
export const CONFIG_KEYS = Object.keys(fleetConfigSchema.shape) as (keyof FleetConfig)[];
