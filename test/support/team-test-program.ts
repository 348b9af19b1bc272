import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { planFromStackConfig, CONFIG_NAMESPACE } from "../../infra/program";
import { fleetInventory } from "../../infra/components/fleet";

/**
 * A cell program for the team tests (shared state, locks, backups, the
 * merge-request pipeline): the fleet's real plan and outputs, but in place of
 * VMs and installs each site holds a generated password and a "database"
 * component, so it runs anywhere the Pulumi CLI runs. The database marks what
 * the review pipeline must treat as data: removing a school deletes it.
 */
class SiteDatabase extends pulumi.ComponentResource {
  constructor(name: string, opts: pulumi.ComponentResourceOptions) {
    super("moodle-fleet:test:SiteDatabase", name, {}, opts);
    this.registerOutputs({});
  }
}

class TestSite extends pulumi.ComponentResource {
  readonly adminPassword: pulumi.Output<string>;
  constructor(schoolId: string) {
    super("moodle-fleet:test:Site", schoolId, {}, {});
    const password = new random.RandomPassword(`${schoolId}-admin-password`, { length: 20, special: false }, { parent: this });
    new SiteDatabase(`${schoolId}-database`, { parent: this });
    this.adminPassword = password.result;
    this.registerOutputs({});
  }
}

export function teamTestProgram(args: { schoolsFile: string; ledgerFile: string }, cell: string) {
  return async () => {
    const plan = planFromStackConfig({ ...args, cell: [cell] }, new pulumi.Config(CONFIG_NAMESPACE));
    const passwords: Record<string, pulumi.Output<string>> = {};
    for (const site of plan.sites) passwords[site.schoolId] = new TestSite(site.schoolId).adminPassword;
    return { ...fleetInventory(plan), adminPasswords: pulumi.secret(pulumi.all(passwords)) };
  };
}
