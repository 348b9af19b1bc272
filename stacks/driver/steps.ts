import { RETIRED_SITE_TYPE } from "../../infra/components/retired-types";
import type { EngineEvent } from "@pulumi/pulumi/automation";

/** One engine step as a cell process reports it to the driver: small enough for IPC. */
export interface StepEvent {
  op: string;
  urn: string;
  type: string;
}

/** What a planned step does to a resource, one per resource. */
export type StepKind = "create" | "update" | "replace" | "delete";

/** A resource the plan changes, with what the reviewer needs to judge the change. */
export interface PlannedStep {
  kind: StepKind;
  urn: string;
  type: string;
  /** The resource's own name (last part of the URN). */
  name: string;
  /** The school whose site the resource belongs to; undefined for hosts and hypervisors. */
  school?: string;
  /** What the resource is, for people: "site install", "data volume", … */
  label: string;
  /** Deleting or replacing it destroys data nobody can regenerate (databases, Moodle files, disks). */
  holdsData: boolean;
}

/**
 * A school's resources are named `<school id>-install` (its only one since
 * the install became a child of its host, infra/components/moodle-site.ts),
 * and in stacks made by older versions also `-dns`, `-db-password` and
 * `-admin-password`, which show while a later version drops them. The
 * component each site had until then is named after the school itself.
 */
const SCHOOL_RESOURCE = /^(\d{8})(?:-(?:install|dns|db-password|admin-password|database))?$/;

/** The school a resource belongs to, from its own name; undefined for hosts' and hypervisors'. */
export function schoolOfResource(name: string): string | undefined {
  return SCHOOL_RESOURCE.exec(name)?.[1];
}

/**
 * The step an engine event announces, or undefined. `same`, `read` and
 * `refresh` change nothing and are dropped here so that a no-op preview of
 * a thousand resources sends nothing over IPC.
 */
export function stepEvent(event: EngineEvent): StepEvent | undefined {
  const m = event.resourcePreEvent?.metadata;
  if (!m || IGNORED_OPS.has(m.op)) return undefined;
  return { op: m.op, urn: m.urn, type: m.type };
}

const IGNORED_OPS = new Set(["same", "read", "refresh", "read-discard", "remove-pending-replace"]);

// A replacement shows as up to three steps on one URN (create-replacement,
// replace, delete-replaced; in the other order with deleteBeforeReplace):
// any of them makes the resource's change a replace.
const REPLACE_OPS = new Set(["replace", "create-replacement", "delete-replaced", "discard-replaced", "read-replacement", "import-replacement"]);
// `discard` forgets a retained resource; it counts as a delete so that a
// review never sees less than may happen.
const DELETE_OPS = new Set(["delete", "discard"]);
const CREATE_OPS = new Set(["create", "import"]);

/** Folds a cell's engine steps into one change per resource, in first-seen order. */
export function plannedSteps(events: readonly StepEvent[]): PlannedStep[] {
  const byUrn = new Map<string, { type: string; ops: Set<string> }>();
  for (const e of events) {
    const entry = byUrn.get(e.urn) ?? { type: e.type, ops: new Set<string>() };
    entry.ops.add(e.op);
    byUrn.set(e.urn, entry);
  }
  const out: PlannedStep[] = [];
  for (const [urn, { type, ops }] of byUrn) {
    const kind = kindOf(ops);
    if (kind) out.push({ kind, urn, type, ...describeResource(urn, type) });
  }
  return out;
}

function kindOf(ops: ReadonlySet<string>): StepKind | undefined {
  if ([...ops].some((op) => REPLACE_OPS.has(op))) return "replace";
  if ([...ops].some((op) => DELETE_OPS.has(op))) return "delete";
  if ([...ops].some((op) => CREATE_OPS.has(op))) return "create";
  if (ops.has("update")) return "update";
  return undefined;
}

/**
 * Name, school and meaning of a resource from its URN
 * (`urn:pulumi:STACK::PROJECT::ParentType$…$Type::name`): a school's by its
 * name (SCHOOL_RESOURCE); a host's children are named `<host>-…`, its sites'
 * DNS records `<host>-dns`.
 */
export function describeResource(urn: string, type: string): Pick<PlannedStep, "name" | "school" | "label" | "holdsData"> {
  const parts = urn.split("::");
  const name = parts.length >= 4 ? parts.slice(3).join("::") : urn;
  const school = schoolOfResource(name);
  const suffix = /-([a-z]+(?:-[a-z]+)?)$/.exec(name)?.[1];

  if (type === RETIRED_SITE_TYPE) return { name, school, label: "site component (a record, no data)", holdsData: false };
  if (type === "command:remote:Command" && suffix === "install" && school !== undefined)
    return { name, school, label: "site install (database and files)", holdsData: true };
  if (/(^|[:/])database:|Database$/i.test(type)) return { name, school, label: "database", holdsData: true };
  if (type.startsWith("libvirt:")) {
    const resource = type.split(":").pop();
    if (resource === "Pool") return { name, school, label: "storage pool (every VM disk)", holdsData: true };
    if (resource === "Volume") {
      if (suffix === "data") return { name, school, label: "data volume (the host's sites)", holdsData: true };
      if (suffix === "root") return { name, school, label: "root volume", holdsData: false };
      if (name.endsWith("base-image")) return { name, school, label: "base image", holdsData: false };
      return { name, school, label: "volume", holdsData: false };
    }
    if (resource === "Domain") return { name, school, label: "VM", holdsData: false };
    if (resource === "CloudInitDisk") return { name, school, label: "cloud-init disk", holdsData: false };
  }
  if (type === "command:local:Command" && suffix === "dns")
    return { name, school, label: school !== undefined ? "DNS record" : "DNS records (the host's sites)", holdsData: false };
  if (type === "random:index/randomPassword:RandomPassword") return { name, school, label: "generated password", holdsData: false };
  if (type === "command:remote:Command" && suffix === "bootstrap") return { name, school, label: "host bootstrap", holdsData: false };
  if (type === "command:remote:CopyToRemote" && suffix === "site-tool") return { name, school, label: "site tool upload", holdsData: false };
  const helper = HOST_HELPER_STEPS.find((h) => h.type === type && name.endsWith(h.suffix));
  if (helper) return { name, school, label: helper.label, holdsData: false };
  return { name, school, label: type, holdsData: false };
}

/**
 * The small steps around a host's VM, named by what they are for: a preview
 * that updates them (a new version of their script re-runs each once) then
 * says which, instead of a bare resource type. None of them holds data.
 */
const HOST_HELPER_STEPS: ReadonlyArray<{ suffix: string; type: string; label: string }> = [
  { suffix: "-private-volumes", type: "command:local:Command", label: "seed made root-only (hypervisor)" },
  { suffix: "-pool-permissions", type: "command:local:Command", label: "storage pool permissions (hypervisor)" },
  { suffix: "-shutdown-on-delete", type: "command:local:Command", label: "clean shutdown before a VM's delete (hypervisor)" },
  { suffix: "-shutdown-for-resize", type: "command:local:Command", label: "clean shutdown for a VM's resize (hypervisor)" },
  { suffix: "-grow-data-disk", type: "command:local:Command", label: "data disk growth (hypervisor)" },
  { suffix: "-grow-file-system", type: "command:remote:Command", label: "data file system growth (VM)" },
  { suffix: "-host-key", type: "random:index/randomBytes:RandomBytes", label: "VM's SSH host key" },
];

export interface StepCounts {
  create: number;
  update: number;
  replace: number;
  delete: number;
}

export function countSteps(steps: readonly PlannedStep[]): StepCounts {
  const counts: StepCounts = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const s of steps) counts[s.kind] += 1;
  return counts;
}

/** Deletes and replaces: what a reviewer must look at. */
export function destructiveSteps(steps: readonly PlannedStep[]): PlannedStep[] {
  return steps.filter((s) => s.kind === "delete" || s.kind === "replace");
}

/** Steps that destroy data: a data-holding resource deleted or replaced. */
export function dataLossSteps(steps: readonly PlannedStep[]): PlannedStep[] {
  return destructiveSteps(steps).filter((s) => s.holdsData);
}
