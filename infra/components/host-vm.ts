import * as pulumi from "@pulumi/pulumi";
import * as libvirt from "@pulumi/libvirt";
import type { FleetSettings, PlannedHost } from "../plan";
import { cloudInitMetaData, cloudInitNetworkConfig, cloudInitUserData, type HostScriptInput } from "../scripts";
import type { Hypervisor } from "./hypervisor";

const GiB = 1024 ** 3;

export interface HostVmArgs {
  plan: PlannedHost;
  settings: FleetSettings;
  hypervisor: Hypervisor;
  /** What cloud-init configures: hostname, address, SSH key. */
  scriptInput: pulumi.Output<HostScriptInput>;
}

/**
 * The virtual machine of a host: root volume cloned from the base image,
 * data volume, cloud-init seed, and the libvirt domain sized by its tier.
 */
export class HostVm extends pulumi.ComponentResource {
  readonly domain: libvirt.Domain;

  constructor(args: HostVmArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan, settings, hypervisor, scriptInput } = args;
    super("moodle-fleet:infra:HostVm", plan.name, {}, opts);
    const inHypervisor = { parent: this, provider: hypervisor.provider };

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
          cmdlines: [kernelCmdline(kernelBoot.cmdline)],
        }),
      },
      {
        ...inHypervisor,
        // vcpu and memory force a new domain; the old one must go first so the
        // name is free. Its disks are separate resources and stay.
        deleteBeforeReplace: true,
      },
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
