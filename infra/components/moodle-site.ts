import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { FleetSettings, PlannedHost, PlannedSite } from "../plan";
import { adminPasswordFromInstallOutput, siteDeleteCommand, siteInstallCommand } from "../scripts";
import { COMMAND_OUTPUTS } from "./command-outputs";
import { siteScriptInput } from "./script-inputs";
import type { MoodleHost } from "./moodle-host";
import { RETIRED_SITE_TYPE } from "./retired-types";

export interface MoodleSiteArgs {
  plan: PlannedSite;
  hostPlan: PlannedHost;
  settings: FleetSettings;
  host: MoodleHost;
  /** Installs this one waits for, so a host runs only a few installs at a time. */
  installAfter: pulumi.Resource[];
}

export interface MoodleSite {
  readonly install: command.remote.Command;
  /** Undefined where the install's last output holds none (see Fleet). */
  readonly adminPassword: pulumi.Output<string | undefined>;
}

/**
 * One school's Moodle: the install on its host (Linux user, php-fpm pool,
 * database, data directory, config.php, vhost, Moodle's installer, cron).
 * The host makes and keeps the site's passwords; the install prints the
 * admin password, which the stack keeps as a secret for the mail-out.
 * Removing the site archives its database and files on the host before
 * anything is dropped. Its DNS name is one line of its host's records
 * (MoodleHost).
 *
 * The install is the site's only resource, a child of its host. A component
 * around it would double the site's registrations (each a request to the
 * engine and a record in the state) and hold nothing.
 */
export function declareMoodleSite(args: MoodleSiteArgs): MoodleSite {
  const { plan, settings, host } = args;
  const scriptInput = siteScriptInput(plan, args.hostPlan, settings);

  // One line of the site tool that the host's bootstrap installed, with
  // this site's parameters only: a new tool version updates the bootstrap
  // (which re-applies the host's sites), not this command.
  const installCommand = withRepairRequests(siteInstallCommand(scriptInput), plan.repairs);
  const install = new command.remote.Command(
    `${plan.schoolId}-install`,
    {
      connection: host.connection,
      // The install is idempotent. A changed command is an update in
      // place that runs `create` again: the command provider does that
      // when `update` is unset (never a replace, whose delete would
      // archive the site), and the state keeps two copies of the text
      // (inputs and outputs) instead of four.
      create: installCommand,
      delete: siteDeleteCommand(scriptInput),
      logging: "stderr",
    },
    {
      parent: host,
      // Where the install was while each site had its own component: the
      // engine finds it there and moves it under its host, so the upgrade
      // is no replace (a replace would archive the site and install it
      // empty). Harmless once every stack has been through it.
      aliases: [{ parent: pulumi.createUrn(plan.schoolId, RETIRED_SITE_TYPE, host) }],
      dependsOn: [host.bootstrap, ...args.installAfter],
      additionalSecretOutputs: COMMAND_OUTPUTS,
      // Installs made before the hosts kept their sites' passwords have the
      // stack's generated passwords on stdin, and those passwords are gone
      // from the program. Without this, each such install would show as an
      // update and run again for nothing; with it, it keeps its stdin, so a
      // later run (repair, new release) still hands the tool the same pair,
      // which the site's passwords file on the host overrides anyway.
      ignoreChanges: ["stdin"],
    },
  );
  return { install, adminPassword: install.stdout.apply(adminPasswordFromInstallOutput) };
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
