/**
 * The hypervisor's side of what the driver resolves before a run: whether a
 * named pool, volume or domain exists, how full or how alive it is, and its
 * removal, through virsh over the libvirt provider's own URI.
 */
import { execFile } from "node:child_process";

/** A leftover the driver does not resolve by itself, or a hypervisor it could not ask. */
export class PendingOperationError extends Error {}

export type LibvirtKind = "pool" | "domain" | "volume";

/** What the driver needs of a hypervisor: whether a named object exists, how full it is, and removing it. */
export interface LibvirtObjects {
  /**
   * Undefined when there is no such object; for a volume its allocation, for
   * a pool its volume count, for a domain its state as `virsh domstate`
   * words it ("running", "shut off", ...).
   */
  describe(
    uri: string,
    kind: LibvirtKind,
    name: string,
    pool?: string,
  ): Promise<{ allocationBytes?: number; volumes?: number; domainState?: string } | undefined>;
  remove(uri: string, kind: LibvirtKind, name: string, pool?: string): Promise<void>;
}

/** Runs virsh with its stdin closed. */
function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

const NOT_FOUND = /not found|no storage (pool|vol)|failed to get (domain|pool|vol)/i;

async function virsh(uri: string, args: string[]): Promise<string | undefined> {
  const r = await run("virsh", ["--quiet", "-c", uri, ...args]);
  if (r.code === 0) return r.stdout;
  if (NOT_FOUND.test(r.stderr)) return undefined;
  throw new PendingOperationError(`virsh -c ${uri} ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** Libvirt objects as virsh (Debian's libvirt-clients) sees them, over the provider's own URI. */
export const VIRSH: LibvirtObjects = {
  async describe(uri, kind, name, pool) {
    if (kind === "domain") {
      const state = await virsh(uri, ["domstate", name]);
      return state === undefined ? undefined : { domainState: state.trim() };
    }
    if (kind === "pool") {
      if ((await virsh(uri, ["pool-uuid", name])) === undefined) return undefined;
      const list = (await virsh(uri, ["vol-list", "--pool", name])) ?? "";
      return { volumes: list.split("\n").filter((l) => l.trim() !== "").length };
    }
    const info = await virsh(uri, ["vol-info", "--bytes", "--pool", pool!, name]);
    if (info === undefined) return undefined;
    const allocation = /^Allocation:\s+(\d+)/m.exec(info);
    return { allocationBytes: allocation ? Number(allocation[1]) : undefined };
  },
  async remove(uri, kind, name, pool) {
    if (kind === "domain") {
      // A domain that never started has nothing to stop.
      await virsh(uri, ["destroy", name]).catch(() => undefined);
      await virsh(uri, ["undefine", "--nvram", name]).catch(() => virsh(uri, ["undefine", name]));
    } else if (kind === "pool") {
      await virsh(uri, ["pool-destroy", name]).catch(() => undefined);
      await virsh(uri, ["pool-undefine", name]);
    } else {
      await virsh(uri, ["vol-delete", "--pool", pool!, name]);
    }
  },
};

