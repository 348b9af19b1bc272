import * as pulumi from "@pulumi/pulumi";
import * as libvirt from "@pulumi/libvirt";
import * as command from "@pulumi/command";
import type { PlannedHost, FleetSettings } from "../plan";
import { cloudInitMetaData, cloudInitNetworkConfig, cloudInitUserData, hostBootstrapScript } from "../scripts";
import { sshPublicKeyFromPrivateKey } from "../config";
import { hostScriptInput } from "./script-inputs";
import type { Hypervisor } from "./hypervisor";
import type { FleetSecrets } from "./secrets";

const GiB = 1024 ** 3;

export interface MoodleHostArgs {
  plan: PlannedHost;
  settings: FleetSettings;
  hypervisor: Hypervisor;
  secrets: FleetSecrets;
}

/**
 * One VM that serves many Moodle sites: disks, cloud-init seed, the libvirt
 * domain sized by its tier, and the bootstrap that prepares the shared
 * services (Apache, php-fpm, MariaDB, Redis) and the Moodle release.
 */
export class MoodleHost extends pulumi.ComponentResource {
  readonly domain: libvirt.Domain;
  /** Sites wait for this, never for the domain: resizing a VM must not touch its sites. */
  readonly bootstrap: command.remote.Command;
  readonly connection: command.types.input.remote.ConnectionArgs;

  constructor(args: MoodleHostArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan, settings, hypervisor, secrets } = args;
    super("moodle-fleet:infra:MoodleHost", plan.name, {}, opts);
    const inHypervisor = { parent: this, provider: hypervisor.provider };
    // The public key is config when given, else derived from the private key;
    // it is not secret, so it may appear in the cloud-init seed.
    const publicKey = settings.ssh.publicKey
      ? pulumi.output(settings.ssh.publicKey)
      : pulumi.unsecret(secrets.sshPrivateKey.apply(sshPublicKeyFromPrivateKey));
    const scriptInput = publicKey.apply((key) => hostScriptInput(plan, settings, key));

    const rootVolume = new libvirt.Volume(
      `${plan.name}-root`,
      {
        name: `${plan.name}-root.qcow2`,
        pool: hypervisor.pool.name,
        baseVolumeId: hypervisor.baseImage.id,
        format: "qcow2",
        size: plan.rootDiskGiB * GiB,
      },
      { ...inHypervisor, protect: settings.protectData },
    );

    const dataVolume = new libvirt.Volume(
      `${plan.name}-data`,
      { name: `${plan.name}-data.qcow2`, pool: hypervisor.pool.name, format: "qcow2", size: plan.dataDiskGiB * GiB },
      // Holds every site's database and files.
      { ...inHypervisor, protect: settings.protectData },
    );

    const seed = new libvirt.CloudInitDisk(
      `${plan.name}-seed`,
      {
        name: `${plan.name}-seed.iso`,
        pool: hypervisor.pool.name,
        userData: scriptInput.apply(cloudInitUserData),
        metaData: scriptInput.apply(cloudInitMetaData),
        networkConfig: scriptInput.apply(cloudInitNetworkConfig),
      },
      // cloud-init reads the seed at first boot only; a regenerated seed must
      // not churn the domain of a running VM.
      { ...inHypervisor, ignoreChanges: ["userData", "metaData", "networkConfig"] },
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
          cmdlines: [{ _: kernelBoot.cmdline }],
        }),
      },
      {
        ...inHypervisor,
        // vcpu and memory force a new domain; the old one must go first so the
        // name is free. Its disks are separate resources and stay.
        deleteBeforeReplace: true,
      },
    );

    this.connection = {
      host: plan.address,
      user: settings.ssh.user,
      privateKey: secrets.sshPrivateKey,
      hostKey: settings.ssh.pinnedHostKeys?.[plan.name],
      // A fresh VM under software emulation needs a minute or two before sshd answers.
      dialErrorLimit: 60,
      perDialTimeout: 10,
    };

    const bootstrapScript = scriptInput.apply((input) => hostBootstrapScript(input));
    this.bootstrap = new command.remote.Command(
      `${plan.name}-bootstrap`,
      {
        connection: this.connection,
        create: bootstrapScript,
        // The script is idempotent: a changed script updates in place.
        update: bootstrapScript,
        stdin: secrets.tlsPrivateKey,
        logging: "stderr",
      },
      { parent: this, dependsOn: [this.domain] },
    );

    this.registerOutputs({ domain: this.domain.id, address: plan.address });
  }
}
