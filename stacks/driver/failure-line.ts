import type { FleetPlan } from "../../infra/plan";

/**
 * A cell's failure as `<resource>: <reason>` (progress.ts), with the school
 * and the host VM the resource belongs to put after the resource's name. A
 * provider names an address at most ("dial tcp 10.20.1.12:22: i/o
 * timeout"); the operator looks for a school or a VM.
 */
export function nameSchoolAndHost(error: string, plan: Pick<FleetPlan, "sites" | "hosts">): string {
  const m = /^([^\s:]+): /.exec(error);
  if (!m) return error;
  const resource = m[1];
  const school = /^(\d{8})-/.exec(resource)?.[1];
  const site = school === undefined ? undefined : plan.sites.find((s) => s.schoolId === school);
  const host = site?.host ?? plan.hosts.find((h) => resource === h.name || resource.startsWith(`${h.name}-`))?.name;
  const where = [site && `school ${site.schoolId}`, host && `host ${host}`].filter(Boolean).join(", ");
  return where === "" ? error : `${resource} (${where}): ${error.slice(m[0].length)}`;
}
