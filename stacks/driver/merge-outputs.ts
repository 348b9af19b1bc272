import { fleetOutputsSchema, type FleetOutputs } from "../../infra/outputs/schema";

/**
 * The outputs of several cell stacks as one fleet: the same shape a single
 * stack gives, so the mail-out and monitoring need not know about cells.
 */
export function mergeOutputs(cells: ReadonlyArray<{ cell: string; outputs: Record<string, unknown> }>): FleetOutputs {
  const merged: FleetOutputs = { domain: "", sites: {}, hosts: {}, hypervisors: {}, adminPasswords: {} };
  for (const { cell, outputs } of cells) {
    if (Object.keys(outputs).length === 0) continue; // a cell not deployed yet
    const parsed = fleetOutputsSchema.safeParse(outputs);
    if (!parsed.success) {
      throw new Error(`outputs of cell ${cell}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    const o = parsed.data;
    if (merged.domain && o.domain !== merged.domain) {
      throw new Error(`cell ${cell} serves ${o.domain}, the others ${merged.domain}`);
    }
    merged.domain = o.domain;
    for (const part of ["sites", "hosts", "hypervisors", "adminPasswords"] as const) {
      for (const [k, v] of Object.entries(o[part])) {
        if (k in merged[part]) throw new Error(`${part} entry ${k} appears in more than one cell (again in ${cell})`);
        (merged[part] as Record<string, unknown>)[k] = v;
      }
    }
  }
  return merged;
}
