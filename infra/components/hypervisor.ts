import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as libvirt from "@pulumi/libvirt";
import * as command from "@pulumi/command";
import { COMMAND_OUTPUTS } from "./command-outputs";
import { baseImageVolumeName, type PlannedHypervisor } from "../plan";

/** Static: its inputs come from the environment (see the file). */
export const POOL_PERMISSIONS_SCRIPT = readFileSync(join(__dirname, "pool-permissions.sh"), "utf8");

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

    // The pool's folder closed to everyone but root and QEMU's group; the
    // group is the hypervisor's own (asked once, when this step is created).
    const poolPermissions = new command.local.Command(
      `${plan.name}-pool-permissions`,
      {
        create: POOL_PERMISSIONS_SCRIPT,
        environment: { LIBVIRT_URI: plan.uri, DOMAIN_TYPE: plan.domainType },
        interpreter: ["/bin/bash", "-c"],
        logging: "stderr",
      },
      // As every command's output; the pool gets the stylesheet in the clear
      // (a group name, nothing secret) so its preview diff stays readable.
      { parent: this, additionalSecretOutputs: COMMAND_OUTPUTS },
    );

    this.pool = new libvirt.Pool(
      `${plan.name}-pool`,
      { name: plan.pool.name, type: "dir", path: plan.pool.path, xml: { xslt: pulumi.unsecret(poolPermissions.stdout) } },
      // Every VM disk of this hypervisor lives in the pool: never delete it by
      // accident. The XSLT applies when the pool is created; the provider
      // would replace a pool for a new one, so a pool made before keeps its
      // folder's mode (libvirt's 0711) until an operator closes it on the
      // hypervisor (chgrp to QEMU's group, chmod 0710: safe while VMs run).
      { ...inHypervisor, protect: protectData, ignoreChanges: ["xml"] },
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
