import * as pulumi from "@pulumi/pulumi";
import * as libvirt from "@pulumi/libvirt";
import type { PlannedHypervisor } from "../plan";

/**
 * One libvirt host: its provider connection, the storage pool every VM disk
 * lives in, and the base image the VMs' root volumes are cloned from.
 */
export class Hypervisor extends pulumi.ComponentResource {
  readonly provider: libvirt.Provider;
  readonly pool: libvirt.Pool;
  readonly baseImage: libvirt.Volume;

  constructor(
    readonly plan: PlannedHypervisor,
    /** Protect the pool (every VM disk lives in it); off only in labs. */
    protectData: boolean,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("moodle-fleet:infra:Hypervisor", plan.name, {}, opts);

    this.provider = new libvirt.Provider(plan.name, { uri: plan.uri }, { parent: this });
    const inHypervisor = { parent: this, provider: this.provider };

    this.pool = new libvirt.Pool(
      `${plan.name}-pool`,
      { name: plan.pool.name, type: "dir", path: plan.pool.path },
      // Every VM disk of this hypervisor lives in the pool: never delete it by accident.
      { ...inHypervisor, protect: protectData },
    );

    this.baseImage = new libvirt.Volume(
      `${plan.name}-base-image`,
      {
        name: baseImageVolumeName(plan),
        pool: this.pool.name,
        source: plan.baseImage.source,
        format: plan.baseImage.format,
      },
      // A new image source must not touch running VMs: their root volumes are
      // independent copies-on-write made at creation, so a changed source is
      // only picked up by VMs created later (after an explicit replace).
      { ...inHypervisor, ignoreChanges: ["source"] },
    );

    this.registerOutputs({ pool: this.pool.name, baseImage: this.baseImage.id });
  }
}

export function baseImageVolumeName(plan: Pick<PlannedHypervisor, "baseImage">): string {
  return `moodle-base.${plan.baseImage.format}`;
}
