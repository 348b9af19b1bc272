/**
 * Operations a killed `pulumi up` leaves in a cell's checkpoint. The engine
 * writes a pending operation before it asks a provider to act and removes
 * it when the provider answers; a CLI killed in between leaves it behind,
 * and a later `up` only warns and keeps it. For a create that is worse than
 * untidy: the object may exist on the hypervisor without being in the state,
 * and the next create of the same name fails ("domain already exists").
 *
 * The driver resolves them before the next operation. What a create left
 * unfinished is new and unused: the engine starts a resource's dependants
 * only after its create returned, so no VM booted from a volume whose create
 * was cut off, and no install ran on a VM whose create was. Each pending
 * create is therefore dropped from the state, and whatever it left on a
 * hypervisor is removed, so that this run makes it again whole:
 * - domains are undefined (their disks are volumes of their own);
 * - volumes are deleted when they are copies (the base image, the cloud-init
 *   ISO, possibly half written) or still hold no more than a new volume
 *   does; a volume with data in it stops the run instead, since then it was
 *   not this create that made it;
 * - pools are removed when empty;
 * - commands and generated passwords only leave the state: the scripts are
 *   idempotent, and nothing used a password whose create never returned.
 * (The engine's own `refresh --import-pending-creates` would adopt such
 * objects instead, but in this CLI it drops them from the state.)
 *
 * One more leftover needs no kill: the libvirt provider (0.7.6) defines a
 * domain, then starts it, and when the start fails (no memory, a missing
 * disk or bridge) it returns the error without recording the domain. The
 * engine writes nothing, the domain stays defined, and every later create
 * of that name fails ("domain ... already exists"). Before an `up`, a
 * planned VM's domain that the hypervisor has and the state has not is
 * therefore undefined when it is shut off (its disks are volumes of their
 * own, kept and adopted by the state as before); a running one stops the
 * run, since something started it after the failed create.
 */
import { execFile } from "node:child_process";
import { runPulumi } from "./backup";

export interface PendingOperation {
  /** creating, updating, deleting, reading, importing */
  type: string;
  urn: string;
  /** A later run (which only warned about this operation) has the resource in the state by now. */
  inState: boolean;
  resourceType: string;
  inputs: Record<string, unknown>;
  /** The libvirt URI of the resource's provider, when it is a libvirt resource. */
  libvirtUri?: string;
}

interface ExportedResource {
  urn: string;
  type: string;
  id?: string;
  inputs?: Record<string, unknown>;
  provider?: string;
}

/** The pending operations of a `pulumi stack export` document. */
export function pendingOperations(exported: unknown): PendingOperation[] {
  const deployment = (exported as { deployment?: { resources?: ExportedResource[]; pending_operations?: unknown } })?.deployment;
  const pending = (deployment?.pending_operations ?? []) as Array<{ type?: string; resource?: ExportedResource }>;
  const resources = deployment?.resources ?? [];
  return pending.map((p) => {
    const r = p.resource ?? ({ urn: "?", type: "?" } as ExportedResource);
    // A provider reference is "<provider URN>::<provider id>".
    const providerUrn = r.provider?.replace(/::[^:]*$/, "");
    const provider = resources.find((x) => x.urn === providerUrn);
    const uri = provider?.type === "pulumi:providers:libvirt" ? provider.inputs?.uri : undefined;
    return {
      type: p.type ?? "?",
      urn: r.urn,
      inState: resources.some((x) => x.urn === r.urn),
      resourceType: r.type,
      inputs: r.inputs ?? {},
      ...(typeof uri === "string" && { libvirtUri: uri }),
    };
  });
}

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

export interface PendingResolution {
  /** Whether any pending create is to be dropped from the state. */
  clearCreates: boolean;
  /** One line per pending operation: what it was and what happens to it. */
  messages: string[];
}

/** What a new qcow2 volume holds (its header and first tables) is far below this. */
export const NEW_VOLUME_MAX_BYTES = 1 << 20;

const LIBVIRT_KINDS: Record<string, "pool" | "domain" | "volume" | "cloudinit"> = {
  "libvirt:index/pool:Pool": "pool",
  "libvirt:index/domain:Domain": "domain",
  "libvirt:index/volume:Volume": "volume",
  "libvirt:index/cloudInitDisk:CloudInitDisk": "cloudinit",
};

/** Types whose create is safe to run again from scratch. */
const REMADE = /^(command:(remote|local):Command|random:index\/\w+:\w+)$/;

export class PendingOperationError extends Error {}

const nameOf = (urn: string) => urn.split("::").pop() ?? urn;

/**
 * Decides each pending operation's fate and removes what an interrupted
 * create left on a hypervisor. Checks everything before it removes anything:
 * a pending create it cannot resolve safely stops it with the reason.
 */
export async function resolvePending(ops: readonly PendingOperation[], libvirt: LibvirtObjects): Promise<PendingResolution> {
  const result: PendingResolution = { clearCreates: false, messages: [] };
  const removals: Array<() => Promise<void>> = [];
  const problems: string[] = [];
  for (const op of ops) {
    const what = `${op.type} ${nameOf(op.urn)} (${op.resourceType})`;
    if (op.type !== "creating") {
      result.messages.push(`${what}: left to the engine, which runs it again or finds it done`);
      continue;
    }
    if (op.inState || REMADE.test(op.resourceType)) {
      result.clearCreates = true;
      result.messages.push(op.inState ? `${what}: made by a later run already; dropped` : `${what}: dropped, made again by this run`);
      continue;
    }
    const kind = LIBVIRT_KINDS[op.resourceType];
    const uri = op.libvirtUri;
    const name = typeof op.inputs.name === "string" ? op.inputs.name : "";
    const pool = typeof op.inputs.pool === "string" ? op.inputs.pool : undefined;
    if (!kind || !uri || name === "" || ((kind === "volume" || kind === "cloudinit") && !pool)) {
      problems.push(`${what}: not a resource the fleet knows how to look for`);
      continue;
    }
    const libvirtKind: LibvirtKind = kind === "cloudinit" ? "volume" : kind;
    const found = await libvirt.describe(uri, libvirtKind, name, pool);
    if (found === undefined) {
      result.clearCreates = true;
      result.messages.push(`${what}: never reached the hypervisor; dropped, made again by this run`);
      continue;
    }
    const copied = kind === "cloudinit" || (kind === "volume" && op.inputs.source !== undefined);
    if (libvirtKind === "volume" && !copied && (found.allocationBytes ?? Infinity) > NEW_VOLUME_MAX_BYTES) {
      problems.push(`${what}: volume ${name} in pool ${pool} holds ${found.allocationBytes} bytes, more than a new volume; it predates the interrupted run`);
      continue;
    }
    if (libvirtKind === "pool" && (found.volumes ?? 1) > 0) {
      problems.push(`${what}: pool ${name} already holds ${found.volumes} volume(s); it predates the interrupted run`);
      continue;
    }
    result.clearCreates = true;
    const where = pool ? ` from pool ${pool}` : "";
    result.messages.push(`${what}: left unfinished on the hypervisor; removed${where}, made again by this run`);
    removals.push(() => libvirt.remove(uri, libvirtKind, name, pool));
  }
  if (problems.length > 0) {
    throw new PendingOperationError(
      `interrupted creates the fleet does not resolve by itself (nothing was changed):\n  ${problems.join("\n  ")}\n` +
        "check each on its hypervisor, then `pulumi refresh --stack <stack> --clear-pending-creates` once it is dealt with",
    );
  }
  for (const remove of removals) await remove();
  return result;
}

/**
 * The refresh that drops the pending creates, reading nothing but the
 * stack's root resource (runPulumi adds --non-interactive and --color never).
 */
export function refreshArgs(stack: string, stackUrn: string | undefined): string[] {
  const args = ["refresh", "--stack", stack, "--yes", "--skip-preview", "--clear-pending-creates"];
  if (stackUrn) args.push("--target", stackUrn);
  return args;
}

/** The VMs a cell plans on one hypervisor: their domains are named after them. */
export interface PlannedDomains {
  uri: string;
  names: readonly string[];
}

/** States in which a domain runs no guest; anything else may be a VM in use. */
const STOPPED = /^(shut off|crashed)$/;

/**
 * Planned domains the hypervisor has and the state has not (`inState` are
 * the names of the state's domains). A shut-off one is what a failed start
 * left and is undefined; a running one stops the run before anything is
 * removed, with the commands that resolve it.
 */
export async function resolveStrayDomains(planned: PlannedDomains, inState: ReadonlySet<string>, libvirt: LibvirtObjects): Promise<string[]> {
  const messages: string[] = [];
  const stray: string[] = [];
  const running: Array<{ name: string; state: string }> = [];
  for (const name of planned.names) {
    if (inState.has(name)) continue;
    const found = await libvirt.describe(planned.uri, "domain", name);
    if (found === undefined) continue;
    if (STOPPED.test(found.domainState ?? "")) stray.push(name);
    else running.push({ name, state: found.domainState ?? "in an unknown state" });
  }
  if (running.length > 0) {
    const uri = shellWord(planned.uri);
    throw new PendingOperationError(
      `domains on ${planned.uri} that the state does not hold are not shut off (nothing was changed):\n` +
        running.map((d) => `  domain ${d.name} is ${d.state}\n`).join("") +
        "the create of a planned VM of the same name would fail. Check the VM on its console; unless it is in use, stop and undefine it\n" +
        "(its volumes stay and are taken up again by the next run):\n" +
        running.map((d) => `  virsh -c ${uri} destroy ${d.name} && virsh -c ${uri} undefine ${d.name}\n`).join("") +
        "then run `fleet up` again",
    );
  }
  for (const name of stray) {
    await libvirt.remove(planned.uri, "domain", name);
    messages.push(`domain ${name} on ${planned.uri}: defined but not in the state and shut off (a start that failed); undefined, its volumes kept, made again by this run`);
  }
  return messages;
}

/** A value as one word for a POSIX shell, quoted only when it has to be. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Runs virsh; the CLI runs through runPulumi. */
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

/**
 * Resolves the pending operations of one cell stack before an operation that
 * changes it, and before an `up` the domains of planned VMs that a failed
 * start left (`domains`). `envVars` are the backend's. Returns the lines to
 * show the operator (none when the state is clean).
 */
export async function resolveStackPending(
  stack: string,
  envVars: Record<string, string>,
  opts: { domains?: PlannedDomains; libvirt?: LibvirtObjects } = {},
): Promise<string[]> {
  const libvirt = opts.libvirt ?? VIRSH;
  const exported = await runPulumi(["stack", "export", "--stack", stack], envVars);
  if (exported.code !== 0) throw new PendingOperationError(`pulumi stack export --stack ${stack}: ${exported.stderr.trim()}`);
  const document = JSON.parse(exported.stdout) as { deployment?: { resources?: ExportedResource[] } };
  const resources = document.deployment?.resources ?? [];
  const ops = pendingOperations(document);
  const notes: string[] = [];
  if (ops.length > 0) {
    const resolution = await resolvePending(ops, libvirt);
    if (resolution.clearCreates) {
      const root = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn;
      const refreshed = await runPulumi(refreshArgs(stack, root), envVars);
      if (refreshed.code !== 0) {
        throw new PendingOperationError(`resolving the interrupted operations of ${stack} failed: ${lastError(refreshed.stdout + refreshed.stderr)}`);
      }
    }
    notes.push(`stack ${stack}: an earlier run was interrupted; ${ops.length} pending operation(s):`, ...resolution.messages.map((m) => `  ${m}`));
  }
  if (opts.domains) {
    // A pending create's domain was removed above; it is not in the resources either way.
    const inState = new Set(resources.filter((r) => r.type === DOMAIN_TYPE).map((r) => String(r.inputs?.name ?? "")));
    const strays = await resolveStrayDomains(opts.domains, inState, libvirt);
    notes.push(...strays.map((m) => `stack ${stack}: ${m}`));
  }
  return notes;
}

const DOMAIN_TYPE = "libvirt:index/domain:Domain";

function lastError(text: string): string {
  const lines = text.split("\n").filter((l) => /error/i.test(l));
  return (lines.pop() ?? text.trim().split("\n").pop() ?? "").trim();
}
