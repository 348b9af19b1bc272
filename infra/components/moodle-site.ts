import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import type { FleetSettings, PlannedHost, PlannedSite } from "../plan";
import { dnsDeleteScript, dnsStdin, dnsUpsertScript, siteDeleteScript, siteInstallScript, siteInstallStdin } from "../scripts";
import { siteScriptInput } from "./script-inputs";
import type { MoodleHost } from "./moodle-host";
import type { FleetSecrets } from "./secrets";

/**
 * Special characters for generated passwords: Moodle's default policy wants
 * one, and these need no escaping in PHP single quotes, SQL literals or shell
 * words (the scripts quote anyway; this keeps the mail-out readable too).
 */
export const PASSWORD_SPECIALS = "-_.+=:,%";

export interface MoodleSiteArgs {
  plan: PlannedSite;
  hostPlan: PlannedHost;
  settings: FleetSettings;
  host: MoodleHost;
  secrets: FleetSecrets;
  /** Installs this one waits for, so a host runs only a few installs at a time. */
  installAfter: pulumi.Resource[];
}

/**
 * One school's Moodle: its generated passwords, its DNS name, and the install
 * on its host (Linux user, php-fpm pool, database, data directory,
 * config.php, vhost, Moodle's installer, cron). Removing the site archives its
 * database and files on the host before anything is dropped.
 */
export class MoodleSite extends pulumi.ComponentResource {
  readonly adminPassword: pulumi.Output<string>;
  readonly install: command.remote.Command;
  readonly dnsRecord: command.local.Command;

  constructor(args: MoodleSiteArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan, settings, host, secrets } = args;
    super("moodle-fleet:infra:MoodleSite", plan.schoolId, {}, opts);
    const scriptInput = siteScriptInput(plan, args.hostPlan, settings);

    const dbPassword = moodlePassword(`${plan.schoolId}-db-password`, this);
    const adminPassword = moodlePassword(`${plan.schoolId}-admin-password`, this);
    this.adminPassword = adminPassword.result;

    const record = { fqdn: plan.fqdn, address: args.hostPlan.address, dns: settings.dns };
    this.dnsRecord = new command.local.Command(
      `${plan.schoolId}-dns`,
      {
        create: dnsUpsertScript(record),
        update: dnsUpsertScript(record),
        delete: dnsDeleteScript(record),
        // The TSIG secret travels on stdin into a 0600 key file, never in argv.
        stdin: pulumi.output(secrets.dnsTsigSecret).apply((s) => dnsStdin(settings.dns, s)),
        interpreter: ["/bin/bash", "-c"],
        logging: "stderr",
      },
      { parent: this },
    );

    const install = siteInstallScript(scriptInput);
    this.install = new command.remote.Command(
      `${plan.schoolId}-install`,
      {
        connection: host.connection,
        create: install,
        // The install is idempotent; without `update`, any change would
        // replace the command, and a replace runs the archiving delete.
        update: install,
        delete: siteDeleteScript(scriptInput),
        stdin: pulumi
          .all([dbPassword.result, adminPassword.result])
          .apply(([db, admin]) => siteInstallStdin({ dbPassword: db, adminPassword: admin })),
        logging: "stderr",
      },
      { parent: this, dependsOn: [host.bootstrap, ...args.installAfter] },
    );

    this.registerOutputs({ url: plan.url, dns: this.dnsRecord.id, install: this.install.id });
  }
}

function moodlePassword(name: string, parent: pulumi.Resource): random.RandomPassword {
  return new random.RandomPassword(
    name,
    {
      length: 24,
      minLower: 2,
      minUpper: 2,
      minNumeric: 2,
      minSpecial: 2,
      overrideSpecial: PASSWORD_SPECIALS,
    },
    { parent },
  );
}
