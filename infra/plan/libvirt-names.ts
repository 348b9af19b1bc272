import type { PlannedHypervisor } from "./types";

/**
 * The names the fleet's objects carry on a hypervisor. The components create
 * them under these names, and the driver looks under the same names for what
 * a failed create left behind (stacks/state/strays.ts).
 */

/** The base image every root volume of the hypervisor is a copy-on-write of. */
export function baseImageVolumeName(hypervisor: Pick<PlannedHypervisor, "baseImage">): string {
  return `moodle-base.${hypervisor.baseImage.format}`;
}

export interface HostVolumeNames {
  /** Copy-on-write of the base image. */
  root: string;
  /** Every site's database and files. */
  data: string;
  /** The cloud-init ISO (CloudInitDisk): holds the VM's private host key. */
  seed: string;
}

/** A host VM's volumes in its hypervisor's pool; its domain is named after the host. */
export function hostVolumeNames(host: string): HostVolumeNames {
  return { root: `${host}-root.qcow2`, data: `${host}-data.qcow2`, seed: `${host}-seed.iso` };
}
