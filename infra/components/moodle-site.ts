import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import type { FleetSettings, PlannedHost, PlannedSite } from "../plan";
import { dnsDeleteScript, dnsUpsertScript, siteDeleteCommand, siteInstallCommand, siteInstallStdin } from "../scripts";
import { COMMAND_OUTPUTS } from "./command-outputs";
import { dnsKeyFile } from "./dns-records";
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
 * One school's Moodle: its generated passwords and the install on its host
 * (Linux user, php-fpm pool, database, data directory, config.php, vhost,
 * Moodle's installer, cron). Removing the site archives its database and
 * files on the host before anything is dropped. Its DNS name is one line of
 * its host's records (MoodleHost).
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
    this.adminPassword = adminPassword;

    // Retired: the host's DNS command keeps this record now. The resource
    // stays one release, unchanged, so that a stack made before records the
    // retainOnDelete (no diff, no step, only the state changes): the next
    // release drops it from the program without its delete running, which
    // would remove the record the host's command keeps. Until then a site
    // moved to another address updates it as before; a site removed leaves
    // it without running its delete.
    const record = { fqdn: plan.fqdn, address: args.hostPlan.address, dns: settings.dns };
    this.dnsRecord = new command.local.Command(
      `${plan.schoolId}-dns`,
      {
        create: dnsUpsertScript(record),
        delete: dnsDeleteScript(record),
        stdin: dnsKeyFile(secrets.dnsTsigSecret, settings.dns),
        interpreter: ["/bin/bash", "-c"],
        logging: "stderr",
      },
      { parent: this, additionalSecretOutputs: COMMAND_OUTPUTS, retainOnDelete: true },
    );

    // One line of the site tool that the host's bootstrap installed, with
    // this site's parameters only: a new tool version updates the bootstrap
    // (which re-applies the host's sites), not this command.
    const install = withRepairRequests(siteInstallCommand(scriptInput), plan.repairs);
    this.install = new command.remote.Command(
      `${plan.schoolId}-install`,
      {
        connection: host.connection,
        // The install is idempotent. A changed command is an update in
        // place that runs `create` again: the command provider does that
        // when `update` is unset (never a replace, whose delete would
        // archive the site), and the state keeps two copies of the text
        // (inputs and outputs) instead of four.
        create: install,
        delete: siteDeleteCommand(scriptInput),
        stdin: applyBoth(dbPassword, adminPassword, (db, admin) => siteInstallStdin({ dbPassword: db, adminPassword: admin })),
        logging: "stderr",
      },
      {
        parent: this,
        dependsOn: [host.bootstrap, ...args.installAfter],
        additionalSecretOutputs: COMMAND_OUTPUTS,
      },
    );

    this.registerOutputs({ url: plan.url, dns: this.dnsRecord.id, install: this.install.id });
  }
}

/**
 * The same specials in another order: what marks a password generated to
 * start with a letter or digit (a password starting with - + or = is read as
 * a formula when the mail-merge file is opened in a spreadsheet, and as an
 * option by many command lines). The order does not change what is drawn.
 */
export const PASSWORD_SPECIALS_LEADING_ALNUM = [...PASSWORD_SPECIALS].reverse().join("");

function moodlePassword(name: string, parent: pulumi.Resource): pulumi.Output<string> {
  const password = new random.RandomPassword(
    name,
    {
      length: 24,
      minLower: 2,
      minUpper: 2,
      minNumeric: 2,
      minSpecial: 2,
      overrideSpecial: PASSWORD_SPECIALS_LEADING_ALNUM,
    },
    // Every input of a RandomPassword forces a new password, and a new admin
    // password would no longer match the installed site. So the changed order
    // is ignored on passwords already in a stack: their state keeps the old
    // order and they stay as they are, to the letter. Only passwords created
    // with the new order get their leading specials moved to the end: same
    // characters, same length, so Moodle's password policy still holds. (The
    // marker is an input every password's state has: a property missing from
    // the state would be filled in from the program's inputs by the SDK.)
    { parent, ignoreChanges: ["overrideSpecial"] },
  );
  return applyBoth(password.result, password.overrideSpecial, (result, specials) =>
    specials === PASSWORD_SPECIALS_LEADING_ALNUM ? leadWithAlnum(result) : result,
  );
}

/**
 * `pulumi.all([a, b]).apply(([x, y]) => f(x, y))`: the same value, secrecy,
 * knownness and dependencies (an apply returning an Output takes on the
 * inner one's), in two Outputs where `all` makes six (each Output is a dozen promises,
 * and this runs three times per site).
 */
function applyBoth<A, B, R>(a: pulumi.Output<A>, b: pulumi.Output<B>, f: (a: A, b: B) => R): pulumi.Output<R> {
  return a.apply((x) => b.apply((y) => f(x, y)));
}

/** The password with any non-alphanumeric characters at its start moved to its end. */
export function leadWithAlnum(password: string): string {
  const lead = /^[^A-Za-z0-9]*/.exec(password)![0];
  return password.slice(lead.length) + lead;
}

/**
 * The n-th repair request (`fleet repair`) changes the install's inputs by
 * one comment line, so the preview shows exactly this install as an update
 * and `up` re-runs it; a site never repaired keeps its command as it was.
 * The line goes first, or after an interpreter line (`#!`) that must stay
 * first.
 */
export function withRepairRequests(command: string, repairs: number): string {
  if (repairs === 0) return command;
  const note = `# repair request ${repairs} (fleet repair)`;
  if (!command.startsWith("#!")) return `${note}\n${command}`;
  const [interpreter, ...rest] = command.split("\n");
  return [interpreter, note, ...rest].join("\n");
}
