import { expect } from "vitest";
import type { LibvirtKind, LibvirtObjects } from "../../../stacks/state/libvirt-objects";

export const URI = "qemu+ssh://root@hv01.example/system";

/**
 * A hypervisor holding the given objects, keyed `<kind>:<name>` and for
 * volumes `volume:<pool>/<name>`; records what is removed, in that form.
 */
export function hypervisor(objects: Record<string, { allocationBytes?: number; volumes?: number; domainState?: string }>) {
  const removed: string[] = [];
  const key = (kind: LibvirtKind, name: string, pool?: string) => `${kind}:${pool ? `${pool}/` : ""}${name}`;
  const libvirt: LibvirtObjects = {
    async describe(uri, kind, name, pool) {
      expect(uri).toBe(URI);
      return objects[key(kind, name, pool)];
    },
    async remove(_uri, kind, name, pool) {
      removed.push(key(kind, name, pool));
    },
  };
  return { libvirt, removed };
}
