import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as libvirt from "@pulumi/libvirt";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import { hostVolumeNames, type FleetSettings, type PlannedHost } from "../plan";
import { cloudInitMetaData, cloudInitNetworkConfig, type HostScriptInput } from "../scripts";
import { cloudInitUserData, hostKeyOfUserData } from "../scripts/cloudinit";
import { ed25519KeyPairFromSeed } from "../config/ssh-key";
import type { Hypervisor } from "./hypervisor";
import { COMMAND_OUTPUTS } from "./command-outputs";

const GiB = 1024 ** 3;

/** Static: its inputs come from the environment (see the file). */
export const DOMAIN_SHUTDOWN_SCRIPT = readFileSync(join(__dirname, "domain-shutdown.sh"), "utf8");
export const GROW_DATA_DISK_SCRIPT = readFileSync(join(__dirname, "grow-data-disk.sh"), "utf8");
export const PRIVATE_VOLUMES_SCRIPT = readFileSync(join(__dirname, "private-volumes.sh"), "utf8");
/** Makes a volume the provider creates mode 0600 (see the file). */
export const PRIVATE_VOLUME_XSLT = readFileSync(join(__dirname, "private-volume.xslt"), "utf8");

export interface HostVmArgs {
  plan: PlannedHost;
  settings: FleetSettings;
  hypervisor: Hypervisor;
  /** What cloud-init configures: hostname, address, SSH key. */
  scriptInput: pulumi.Output<HostScriptInput>;
}

/**
 * The seed's user-data with the host's SSH host key in it: a secret, so that
 * Pulumi stores it encrypted and never shows it.
 */
export function hostUserData(scriptInput: pulumi.Input<HostScriptInput>, hostKeySeed: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([scriptInput, hostKeySeed])
      .apply(([input, seed]) => cloudInitUserData(input, ed25519KeyPairFromSeed(Buffer.from(seed, "base64"), `root@${input.hostName}`))),
  );
}

/**
 * The virtual machine of a host: root volume cloned from the base image,
 * data volume, cloud-init seed, and the libvirt domain sized by its tier.
 */
export class HostVm extends pulumi.ComponentResource {
  readonly domain: libvirt.Domain;
  /**
   * The SSH host key the VM presents, as its seed gave it (`ssh-ed25519
   * AAAA...`); undefined for a VM whose seed was written before the program
   * generated host keys (its key is its own: pin it in config).
   */
  readonly hostKey: pulumi.Output<string | undefined>;
  /** Grows the data volume when the host record's size grows; the guest's file system follows it. */
  readonly dataDiskGrowth: command.local.Command;

  constructor(args: HostVmArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan, settings, hypervisor, scriptInput } = args;
    super("moodle-fleet:infra:HostVm", plan.name, {}, opts);
    const inHypervisor = { parent: this, provider: hypervisor.provider };
    const volumes = hostVolumeNames(plan.name);

    const rootVolume = new libvirt.Volume(
      `${plan.name}-root`,
      {
        name: volumes.root,
        pool: hypervisor.pool.name,
        baseVolumeId: hypervisor.baseImage.id,
        format: "qcow2",
        size: plan.rootDiskGiB * GiB,
        xml: { xslt: PRIVATE_VOLUME_XSLT },
      },
      // Sizes come from the host record and are never changed through the
      // provider: it replaces a volume for a new size, and its create adopts
      // the existing volume of that name, which the replace's delete then
      // removes. The same holds for the XSLT (the volume's mode): it applies
      // when a volume is created, and a volume made before keeps its mode
      // (the private-volumes step below names it).
      { ...inHypervisor, protect: settings.protectData, ignoreChanges: ["size", "xml"] },
    );

    const dataVolume = new libvirt.Volume(
      `${plan.name}-data`,
      {
        name: volumes.data,
        pool: hypervisor.pool.name,
        format: "qcow2",
        size: plan.dataDiskGiB * GiB,
        xml: { xslt: PRIVATE_VOLUME_XSLT },
      },
      // Holds every site's database and files. Grown in place by the step
      // below, never through the provider (see the root volume).
      { ...inHypervisor, protect: settings.protectData, ignoreChanges: ["size", "xml"] },
    );

    // The seed of the host's SSH host key (ed25519), drawn once and kept in
    // the state as a secret: the program derives the key pair from it, puts
    // it in the seed and pins its public half in every connection.
    const hostKeySeed = new random.RandomBytes(
      `${plan.name}-host-key`,
      { length: 32 },
      { parent: this, additionalSecretOutputs: ["base64", "hex"] },
    );

    const seed = new libvirt.CloudInitDisk(
      `${plan.name}-seed`,
      {
        name: volumes.seed,
        pool: hypervisor.pool.name,
        userData: hostUserData(scriptInput, hostKeySeed.base64),
        metaData: scriptInput.apply(cloudInitMetaData),
        networkConfig: scriptInput.apply(cloudInitNetworkConfig),
      },
      {
        ...inHypervisor,
        // cloud-init reads the seed at first boot only; a regenerated seed must
        // not churn the domain of a running VM. Every input of a CloudInitDisk
        // forces a new disk (and the domain names the disk, so a new domain):
        // a VM created before host keys were generated keeps its seed, its
        // domain and its own host key, and `hostKey` below reports none for it.
        ignoreChanges: ["userData", "metaData", "networkConfig"],
        // The user-data holds the host's private key: secret in the state too,
        // whatever the provider reads back from the ISO.
        additionalSecretOutputs: ["userData"],
        // The provider streams the ISO over its libvirt connection while
        // holding the pool's lock; an upload racing the VM's other volume
        // creates was seen to stall for good (the host VM test: seed and
        // root volume both pending after 18 minutes). The VM's volumes come
        // first, then the seed, one at a time.
        dependsOn: [rootVolume, dataVolume],
      },
    );
    // The provider writes the seed, and with it the VM's private host key,
    // with mode 644 and takes no XSLT for it: this step has libvirtd make it
    // 0600 in place before the domain is defined (and, added to a VM made
    // before, while it runs: see the script). Runs once, at its creation.
    const privateVolumes = new command.local.Command(
      `${plan.name}-private-volumes`,
      {
        create: PRIVATE_VOLUMES_SCRIPT,
        environment: {
          LIBVIRT_URI: hypervisor.plan.uri,
          POOL: hypervisor.plan.pool.name,
          SEED: volumes.seed,
          VOLUMES: `${volumes.root} ${volumes.data}`,
        },
        interpreter: ["/bin/bash", "-c"],
        logging: "stderr",
      },
      { parent: this, dependsOn: [seed], additionalSecretOutputs: COMMAND_OUTPUTS },
    );

    // What the VM was really given: the seed as created (its state), not the
    // user-data this run would write. Only the public key leaves the secret.
    this.hostKey = pulumi.unsecret(seed.userData.apply((userData) => hostKeyOfUserData(userData ?? "")));

    // vcpu and memory force a new domain, and the provider's delete powers a
    // running domain off at once. This runs first (the domain depends on
    // it): on a change of size it shuts the guest down and waits, up to the
    // timeout. Nothing runs when the VM is created; an update that is no
    // resize (the script compares with the running domain) leaves it alone.
    const shutdownForResize = new command.local.Command(
      `${plan.name}-shutdown-for-resize`,
      {
        update: DOMAIN_SHUTDOWN_SCRIPT,
        environment: {
          LIBVIRT_URI: hypervisor.plan.uri,
          DOMAIN: plan.name,
          VCPU: String(plan.vcpu),
          MEMORY_MIB: String(plan.memoryMiB),
          TIMEOUT_SECONDS: String(args.settings.vmShutdownTimeoutSeconds),
        },
        interpreter: ["/bin/bash", "-c"],
        logging: "stderr",
      },
      { parent: this, additionalSecretOutputs: COMMAND_OUTPUTS },
    );

    const lan = hypervisor.plan.network;
    const kernelBoot = hypervisor.plan.baseImage.kernelBoot;
    const network = "bridge" in lan ? { bridge: lan.bridge } : { networkName: lan.network };
    this.domain = new libvirt.Domain(
      plan.name,
      {
        name: plan.name,
        type: hypervisor.plan.domainType,
        vcpu: plan.vcpu,
        memory: plan.memoryMiB,
        autostart: true,
        cloudinit: seed.id,
        disks: [{ volumeId: rootVolume.id }, { volumeId: dataVolume.id }],
        networkInterfaces: [network],
        consoles: [{ type: "pty", targetPort: "0", targetType: "serial" }],
        // Images without a boot loader (the lab's) boot their kernel directly.
        ...(kernelBoot && {
          kernel: kernelBoot.kernel,
          initrd: kernelBoot.initrd,
          cmdlines: [kernelCmdline(kernelBoot.cmdline)],
        }),
      },
      {
        ...inHypervisor,
        // vcpu and memory force a new domain; the old one must go first so the
        // name is free. Its disks are separate resources and stay.
        deleteBeforeReplace: true,
        dependsOn: [shutdownForResize, privateVolumes],
      },
    );

    // The provider's delete powers a running domain off at once. This step
    // depends on the domain, so Pulumi deletes it first when the VM goes
    // (destroy, or its host removed): its delete shuts the guest down and
    // waits, up to the timeout. It does nothing else, and a resize leaves it
    // alone (the domain is only a dependency, none of its inputs).
    new command.local.Command(
      `${plan.name}-shutdown-on-delete`,
      {
        delete: DOMAIN_SHUTDOWN_SCRIPT,
        environment: {
          LIBVIRT_URI: hypervisor.plan.uri,
          DOMAIN: plan.name,
          REASON: "delete",
          TIMEOUT_SECONDS: String(args.settings.vmShutdownTimeoutSeconds),
        },
        interpreter: ["/bin/bash", "-c"],
        logging: "stderr",
      },
      { parent: this, dependsOn: [this.domain], additionalSecretOutputs: COMMAND_OUTPUTS },
    );

    // `fleet grow-disk` raises the host record's size: this grows the volume
    // in place (never shrinks); MoodleHost then grows the file system.
    this.dataDiskGrowth = new command.local.Command(
      `${plan.name}-grow-data-disk`,
      {
        update: GROW_DATA_DISK_SCRIPT,
        environment: {
          LIBVIRT_URI: hypervisor.plan.uri,
          DOMAIN: plan.name,
          POOL: hypervisor.plan.pool.name,
          VOLUME: volumes.data,
          DATA_GIB: String(plan.dataDiskGiB),
        },
        interpreter: ["/bin/bash", "-c"],
        logging: "stderr",
      },
      { parent: this, dependsOn: [this.domain, dataVolume], additionalSecretOutputs: COMMAND_OUTPUTS },
    );

    this.registerOutputs({ domain: this.domain.id });
  }
}

/**
 * The kernel command line as the libvirt provider reads it back: one map of
 * `key=value` words (bare words under `_`). Written the same way, a second
 * `up` sees no difference.
 */
export function kernelCmdline(cmdline: string): Record<string, string> {
  const out: Record<string, string> = {};
  const bare: string[] = [];
  for (const word of cmdline.trim().split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq > 0) out[word.slice(0, eq)] = word.slice(eq + 1);
    else bare.push(word);
  }
  if (bare.length > 0) out._ = bare.join(" ");
  return out;
}
