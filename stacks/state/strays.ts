/**
 * Objects a failed create left on a hypervisor without a kill: the provider
 * made them, then returned an error, so the engine wrote nothing (no pending
 * operation either) and the next create of the same name fails. The libvirt
 * provider (0.7.6) does this in three places:
 * - a domain it defined, then could not start (no memory, a missing disk or
 *   bridge): "domain ... already exists";
 * - a cloud-init ISO whose upload failed or whose connection broke after the
 *   volume was made: "storage volume '...-seed.iso' exists already" (its
 *   plain volumes are safe: their create adopts a volume of the same name);
 * - a pool it defined but could not build or start: "storage pool ...
 *   already exists".
 *
 * Before an `up`, each planned object of these kinds that the hypervisor has
 * and the cell's state has not is resolved. Everything is checked before
 * anything is removed:
 * - a shut-off domain is undefined (its disks are volumes of their own,
 *   kept and adopted by the state as before); a running one stops the run,
 *   since something started it after the failed create;
 * - a seed ISO is deleted: the run writes it again, with the same host key
 *   (the key's seed is its own resource), and no VM boots from it before;
 * - an empty pool is undefined (its folder stays); one holding volumes stops
 *   the run: it may be another stack's, or a pool whose state was lost.
 */
import { hostVolumeNames } from "../../infra/plan/libvirt-names";
import { PendingOperationError, type LibvirtObjects } from "./libvirt-objects";

/** What a cell plans on one hypervisor, by the names the components give it (infra/plan/libvirt-names.ts). */
export interface PlannedLibvirt {
  uri: string;
  pool: string;
  /** Its host VMs: each VM's domain is named after it. */
  hosts: readonly string[];
}

/** The names the cell's state holds, per kind. */
export interface NamesInState {
  pools: ReadonlySet<string>;
  domains: ReadonlySet<string>;
  volumes: ReadonlySet<string>;
}

/** States in which a domain runs no guest; anything else may be a VM in use. */
const STOPPED = /^(shut off|crashed)$/;

/**
 * Resolves the planned objects the hypervisor has and the state has not.
 * Returns one line per object removed; throws, removing nothing, when one of
 * them may be in use, with the commands that resolve it by hand.
 */
export async function resolveStrays(planned: PlannedLibvirt, inState: NamesInState, libvirt: LibvirtObjects): Promise<string[]> {
  const { uri, pool } = planned;
  const removals: Array<{ message: string; remove: () => Promise<void> }> = [];
  const running: Array<{ name: string; state: string }> = [];
  const problems: string[] = [];

  // A pool the hypervisor lacks holds no seed either.
  let poolExists = true;
  if (!inState.pools.has(pool)) {
    const found = await libvirt.describe(uri, "pool", pool);
    poolExists = found !== undefined;
    if (found !== undefined && (found.volumes ?? 1) > 0) {
      problems.push(
        `pool ${pool} on ${uri} holds ${found.volumes ?? "some"} volume(s), and the state does not hold the pool: it may be another stack's, or ` +
          "one whose state was lost. Check it (`virsh pool-info`, `vol-list`) and restore the state, or remove the pool if nothing in it is needed",
      );
    } else if (found !== undefined) {
      removals.push({
        message: `pool ${pool} on ${uri}: defined but empty and not in the state (a create that failed); undefined, its folder kept, made again by this run`,
        remove: () => libvirt.remove(uri, "pool", pool),
      });
    }
  }

  for (const host of planned.hosts) {
    if (!inState.domains.has(host)) {
      const found = await libvirt.describe(uri, "domain", host);
      if (found !== undefined && STOPPED.test(found.domainState ?? "")) {
        removals.push({
          message: `domain ${host} on ${uri}: defined but not in the state and shut off (a start that failed); undefined, its volumes kept, made again by this run`,
          remove: () => libvirt.remove(uri, "domain", host),
        });
      } else if (found !== undefined) {
        running.push({ name: host, state: found.domainState ?? "in an unknown state" });
      }
    }
    const seed = hostVolumeNames(host).seed;
    if (poolExists && !inState.volumes.has(seed) && (await libvirt.describe(uri, "volume", seed, pool)) !== undefined) {
      removals.push({
        message: `volume ${seed} in pool ${pool} on ${uri}: not in the state (an upload that failed); deleted, written again by this run`,
        remove: () => libvirt.remove(uri, "volume", seed, pool),
      });
    }
  }

  if (running.length > 0) {
    const shellUri = shellWord(uri);
    problems.push(
      `domains that the state does not hold are not shut off:\n` +
        running.map((d) => `  domain ${d.name} is ${d.state}\n`).join("") +
        "the create of a planned VM of the same name would fail. Check the VM on its console; unless it is in use, stop and undefine it\n" +
        "(its volumes stay and are taken up again by the next run):\n" +
        running.map((d) => `  virsh -c ${shellUri} destroy ${d.name} && virsh -c ${shellUri} undefine ${d.name}\n`).join("") +
        "then run `fleet up` again",
    );
  }
  if (problems.length > 0) {
    throw new PendingOperationError(`leftovers on ${uri} that the fleet does not resolve by itself (nothing was changed):\n${problems.join("\n")}`);
  }
  for (const r of removals) await r.remove();
  return removals.map((r) => r.message);
}

/** A value as one word for a POSIX shell, quoted only when it has to be. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
