import type { StepEvent } from "../../../../stacks/driver/steps";

// Resource types and the component nesting of infra/components, as the
// engine writes them into URNs (parent types joined by `$`).
const FLEET = "moodle-fleet:infra:Fleet";
const HYPERVISOR = "moodle-fleet:infra:Hypervisor";
const HOST = "moodle-fleet:infra:MoodleHost";
const VM = "moodle-fleet:infra:HostVm";
const SITE = "moodle-fleet:infra:MoodleSite";

export const TYPES = {
  site: SITE,
  password: "random:index/randomPassword:RandomPassword",
  dns: "command:local:Command",
  remote: "command:remote:Command",
  volume: "libvirt:index/volume:Volume",
  pool: "libvirt:index/pool:Pool",
  domain: "libvirt:index/domain:Domain",
} as const;

export function urn(stack: string, parents: readonly string[], type: string, name: string): string {
  return `urn:pulumi:${stack}::moodle-fleet::${[...parents, type].join("$")}::${name}`;
}

/** The resources of one school's site: its install, a child of its host (infra/components/moodle-site.ts). */
export function siteResources(stack: string, school: string): { urn: string; type: string }[] {
  return [{ urn: urn(stack, [FLEET, HYPERVISOR, HOST], TYPES.remote, `${school}-install`), type: TYPES.remote }];
}

/** The component each site had while its install was a child of it: a stack made then holds one per site. */
export function retiredSiteComponent(stack: string, school: string): { urn: string; type: string } {
  return { urn: urn(stack, [FLEET, HYPERVISOR, HOST], SITE, school), type: SITE };
}

/**
 * The five resources of a site made before the hosts kept its passwords:
 * its component, its install under it, two generated passwords and its own
 * DNS record. A stack made then still holds them until a later version's
 * first `up`.
 */
export function olderSiteResources(stack: string, school: string): { urn: string; type: string }[] {
  const inSite = [FLEET, HYPERVISOR, HOST, SITE];
  return [
    retiredSiteComponent(stack, school),
    { urn: urn(stack, inSite, TYPES.password, `${school}-db-password`), type: TYPES.password },
    { urn: urn(stack, inSite, TYPES.password, `${school}-admin-password`), type: TYPES.password },
    { urn: urn(stack, inSite, TYPES.dns, `${school}-dns`), type: TYPES.dns },
    { urn: urn(stack, inSite, TYPES.remote, `${school}-install`), type: TYPES.remote },
  ];
}

export function hostVolume(stack: string, host: string, which: "data" | "root"): { urn: string; type: string } {
  return { urn: urn(stack, [FLEET, HYPERVISOR, HOST, VM], TYPES.volume, `${host}-${which}`), type: TYPES.volume };
}

export function pool(stack: string, hv: string): { urn: string; type: string } {
  return { urn: urn(stack, [FLEET, HYPERVISOR], TYPES.pool, `${hv}-pool`), type: TYPES.pool };
}

export function domain(stack: string, host: string): { urn: string; type: string } {
  return { urn: urn(stack, [FLEET, HYPERVISOR, HOST, VM], TYPES.domain, host), type: TYPES.domain };
}

/** Engine steps: `ops` applied to each resource. */
export function events(resources: readonly { urn: string; type: string }[], ...ops: string[]): StepEvent[] {
  return resources.flatMap((r) => ops.map((op) => ({ op, urn: r.urn, type: r.type })));
}
