import * as pulumi from "@pulumi/pulumi";
import { idList } from "../inputs";
import type { FleetPlan } from "../plan";
import type { FleetOutputs, HostOutput, HypervisorOutput, SiteOutput } from "../outputs/schema";
import { Hypervisor } from "./hypervisor";
import { MoodleHost } from "./moodle-host";
import { declareMoodleSite } from "./moodle-site";
import { declareQuietly } from "./declare-quietly";
import type { FleetSecrets } from "./secrets";

export interface FleetArgs {
  plan: FleetPlan;
  secrets: FleetSecrets;
}

/**
 * The whole plan as resources: hypervisors hold hosts, hosts hold sites. It
 * only translates; every decision (placement, names, sizes, order) was made
 * by the plan.
 */
export class Fleet extends pulumi.ComponentResource {
  /** Plain inventory, straight from the plan. */
  readonly inventory: Omit<FleetOutputs, "adminPasswords">;
  #adminPasswords?: pulumi.Output<Record<string, string>>;

  /**
   * Declares the fleet: the component at once, then its hypervisors, hosts
   * and sites with a turn of the event loop after each host and each site.
   * The SDK holds a few hundred promises per resource until its registration
   * has gone through; declared in one synchronous loop, every resource of
   * the plan waited at once (4,000 schools: 3.7 GiB, most of the time spent
   * in garbage collection). In a turn the registrations made so far are
   * sent, and the engine starts on them while the rest is declared. A host's
   * 50 sites in one turn (260 resources then) still left more objects in flight
   * than V8's young generation holds: each minor collection copied them all
   * (2,000 schools: 45 % of the CPU profile was garbage collection). A turn
   * per site takes a quarter to a third off the evaluation's CPU time and
   * peak memory (bench/RESULTS.md). The SDK's stack traces are off
   * meanwhile (declareQuietly).
   */
  static async create(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions): Promise<Fleet> {
    const fleet = new Fleet(name, args, opts);
    await declareQuietly(() => fleet.declare(args));
    return fleet;
  }

  private constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("moodle-fleet:infra:Fleet", name, {}, opts);
    this.inventory = fleetInventory(args.plan);
    this.registerOutputs({ sites: Object.keys(this.inventory.sites).length });
  }

  /**
   * Secret: school id -> initial admin password, as each site's install
   * printed it. Kept apart so the inventory stays plain.
   */
  get adminPasswords(): pulumi.Output<Record<string, string>> {
    if (!this.#adminPasswords) throw new Error("Fleet: declare() has not finished");
    return this.#adminPasswords;
  }

  private async declare({ plan, secrets }: FleetArgs): Promise<void> {
    const settings = plan.settings;
    const adminPasswords: Record<string, pulumi.Output<string | undefined>> = {};
    for (const hvPlan of plan.hypervisors) {
      const hypervisor = new Hypervisor(hvPlan, settings.protectData, { parent: this });
      for (const hostName of hvPlan.hosts) {
        const hostPlan = plan.hostsByName[hostName];
        const host = new MoodleHost(
          { plan: hostPlan, siteFqdns: hostPlan.sites.map((id) => plan.sitesById[id].fqdn), settings, hypervisor, secrets },
          { parent: hypervisor },
        );
        await nextTurn();
        const installs: Record<string, pulumi.Resource> = {};
        for (const schoolId of hostPlan.sites) {
          const sitePlan = plan.sitesById[schoolId];
          const site = declareMoodleSite({
            plan: sitePlan,
            hostPlan,
            settings,
            host,
            installAfter: sitePlan.installAfter.map((id) => installs[id]),
          });
          installs[schoolId] = site.install;
          adminPasswords[schoolId] = site.adminPassword;
          await nextTurn();
        }
      }
    }
    this.#adminPasswords = pulumi.secret(pulumi.all(adminPasswords).apply(withoutMissingPasswords));
  }
}

/**
 * The schools whose install printed an admin password. One without (its
 * install failed before it ever printed one) is left out with a warning
 * rather than failing the stack: the mail-out refuses a school that has
 * none, and the school's next successful install prints it.
 */
function withoutMissingPasswords(passwords: Record<string, string | undefined>): Record<string, string> {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const [schoolId, password] of Object.entries(passwords)) {
    if (password === undefined) missing.push(schoolId);
    else found[schoolId] = password;
  }
  if (missing.length > 0) {
    void pulumi.log.warn(
      `adminPasswords: ${missing.length} school(s) have no admin password, because their install has not printed one yet: ${idList(missing, 10)}; the next successful install of each prints it`,
    );
  }
  return found;
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** The plain (non-secret) part of the stack outputs, straight from the plan. */
export function fleetInventory(plan: FleetPlan): Omit<FleetOutputs, "adminPasswords"> {
  const sites: Record<string, SiteOutput> = {};
  for (const s of plan.sites) {
    sites[s.schoolId] = {
      schoolId: s.schoolId,
      name: s.name,
      town: s.town,
      email: s.email,
      tier: s.tier,
      host: s.host,
      fqdn: s.fqdn,
      url: s.url,
      adminUser: s.adminUser,
    };
  }
  const hosts: Record<string, HostOutput> = {};
  for (const h of plan.hosts) {
    hosts[h.name] = {
      name: h.name,
      hypervisor: h.hypervisor,
      address: h.address,
      tier: h.tier,
      vcpu: h.vcpu,
      memoryMiB: h.memoryMiB,
      dataDiskGiB: h.dataDiskGiB,
      siteSlots: h.sitesPerHost,
      siteCount: h.sites.length,
    };
  }
  const hypervisors: Record<string, HypervisorOutput> = {};
  for (const hv of plan.hypervisors) {
    hypervisors[hv.name] = { name: hv.name, capacity: hv.capacity, hostCount: hv.hosts.length };
  }
  return { domain: plan.settings.domain, sites, hosts, hypervisors };
}

/** Resources the fleet declares for a plan (the stack itself aside); mirrors the components above. */
export function expectedResourceCount(plan: FleetPlan): number {
  return resourceCount(plan.hypervisors.length, plan.hosts.length, plan.sites.length);
}

/** The same count from the numbers alone (benchmarks and the scale model have no plan). */
export function resourceCount(hypervisors: number, hosts: number, sites: number): number {
  const perHypervisor = 5; // component, provider, pool permissions, pool, base image
  // two components, root and data volumes, host key seed, cloud-init seed, private volumes, shutdown for
  // resize, domain, shutdown on delete, data disk growth, site tool upload, bootstrap, file system growth,
  // DNS records
  const perHost = 15;
  const perSite = 1; // install
  return 1 + perHypervisor * hypervisors + perHost * hosts + perSite * sites;
}
