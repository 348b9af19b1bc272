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
 * Some leftovers need no kill: a create that failed after it made its
 * object. Before an `up` those are resolved too (stacks/state/strays.ts).
 */
import { runPulumi } from "./backup";
import { PendingOperationError, VIRSH, type LibvirtKind, type LibvirtObjects } from "./libvirt-objects";
import { resolveStrays, type PlannedLibvirt } from "./strays";
import { errorLine, unfinishedSeeds } from "./unfinished";

export { PendingOperationError };

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
  initErrors?: string[];
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
 * A refresh of the given resources only (all of them when none is given):
 * the stack's root resource when it drops the pending creates, so that it
 * reads nothing else; seeds recorded with errors (unfinished.ts). runPulumi
 * adds --non-interactive and --color never.
 */
export function refreshArgs(stack: string, targets: readonly string[], opts: { clearPendingCreates?: boolean } = {}): string[] {
  return [
    "refresh", "--stack", stack, "--yes", "--skip-preview",
    ...(opts.clearPendingCreates ? ["--clear-pending-creates"] : []),
    ...targets.flatMap((urn) => ["--target", urn]),
  ];
}

/**
 * Resolves the pending operations of one cell stack before an operation that
 * changes it, and before an `up` (`planned` given) what failed creates left:
 * seeds recorded with errors are read again (stacks/state/unfinished.ts),
 * and planned objects outside the state are removed (strays.ts).
 * `envVars` are the backend's. Returns the lines to show the operator (none
 * when the state is clean).
 */
export async function resolveStackPending(
  stack: string,
  envVars: Record<string, string>,
  opts: { planned?: PlannedLibvirt; libvirt?: LibvirtObjects } = {},
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
      const refreshed = await runPulumi(refreshArgs(stack, root ? [root] : [], { clearPendingCreates: true }), envVars);
      if (refreshed.code !== 0) {
        throw new PendingOperationError(`resolving the interrupted operations of ${stack} failed: ${lastError(refreshed.stdout + refreshed.stderr)}`);
      }
    }
    notes.push(`stack ${stack}: an earlier run was interrupted; ${ops.length} pending operation(s):`, ...resolution.messages.map((m) => `  ${m}`));
  }
  if (opts.planned) {
    const seeds = unfinishedSeeds(resources);
    if (seeds.length > 0) {
      const read = await runPulumi(refreshArgs(stack, seeds.map((s) => s.urn)), envVars);
      const names = seeds.map((s) => nameOf(s.urn)).join(", ");
      if (read.code !== 0) {
        throw new PendingOperationError(
          `${stack}: ${names}: recorded by an earlier run with an error, and reading it again failed: ` +
            `${lastError(read.stdout + read.stderr)}; check the hypervisor's libvirtd, then run this again`,
        );
      }
      for (const seed of seeds) notes.push(`stack ${stack}: ${nameOf(seed.urn)}: recorded by an earlier run with an error (${errorLine(seed.errors.join(" "))}); read again, whole`);
    }
    // What a pending create left was removed above; it is not in the resources either way.
    const named = (...kinds: string[]) =>
      new Set(resources.filter((r) => kinds.includes(LIBVIRT_KINDS[r.type])).map((r) => String(r.inputs?.name ?? "")));
    const inState = { pools: named("pool"), domains: named("domain"), volumes: named("volume", "cloudinit") };
    const strays = await resolveStrays(opts.planned, inState, libvirt);
    notes.push(...strays.map((m) => `stack ${stack}: ${m}`));
  }
  return notes;
}

function lastError(text: string): string {
  const lines = text.split("\n").filter((l) => /error/i.test(l));
  return (lines.pop() ?? text.trim().split("\n").pop() ?? "").trim();
}
