import { hostScriptInput, siteScriptInput } from "../../infra/components/script-inputs";
import { loadFleetInputs } from "../../infra/inputs/fleet-inputs";
import { formatIssue, isError, type InputIssue } from "../../infra/inputs/issues";
import type { FleetPlan } from "../../infra/plan";
import { ScriptInputError, validateHostInput, validateSiteInput } from "../../infra/scripts";
import { INPUT_FLAGS, INPUT_USAGE, inputFiles, parseFlags, type Command } from "../cli";
import { planFromInputs } from "../plan-inputs";

/**
 * Stands in for the key the program derives from the secret `sshPrivateKey`,
 * which validate does not decrypt: the host checks then cover everything but
 * the key itself (and config's `ssh.publicKey`, when set, is checked as is).
 */
const STAND_IN_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA0000000000000000000000000000000000000000000 validate";

/**
 * The script generators' own checks (infra/scripts/validate.ts) on what each
 * planned host and site would hand them, so a value they refuse stops
 * `fleet validate` in review instead of one install in the middle of `up`.
 * A site's problem points at its school's row, a host's at the stack config.
 */
export function scriptInputIssues(
  plan: FleetPlan,
  files: { schools: string; stackConfig: string },
  schoolLines: ReadonlyMap<string, number> = new Map(),
): InputIssue[] {
  const issues: InputIssue[] = [];
  const attempt = (run: () => void, issue: (e: ScriptInputError) => InputIssue) => {
    try {
      run();
    } catch (error) {
      if (!(error instanceof ScriptInputError)) throw error;
      issues.push(issue(error));
    }
  };
  const key = plan.settings.ssh.publicKey ?? STAND_IN_PUBLIC_KEY;
  for (const host of plan.hosts)
    attempt(
      () => validateHostInput(hostScriptInput(host, plan.settings, key)),
      (e) => ({ file: files.stackConfig, rule: "script-input", message: `host ${host.name}: ${e.message}` }),
    );
  for (const site of plan.sites)
    attempt(
      () => validateSiteInput(siteScriptInput(site, plan.hostsByName[site.host], plan.settings)),
      (e) => ({
        file: files.schools,
        line: schoolLines.get(site.schoolId),
        rule: "script-input",
        message: `school ${site.schoolId} (host ${site.host}): ${e.message}`,
      }),
    );
  return issues;
}

/**
 * Checks school list, stack config, ledger and the records beside it
 * (repairs.csv, hosts.csv, uids.csv) together, the way CI and the Pulumi
 * program see them: every problem at once, file and line first. Then builds
 * the plan and runs the script generators' checks on every host and site.
 * Warnings name the hosts whose recorded sizes the current tier would set
 * differently (they stay as recorded).
 */
export const command: Command = {
  name: "validate",
  summary: "check the school list, stack config, placement ledger and its records together",
  usage: INPUT_USAGE,
  run(args, io) {
    const files = inputFiles(parseFlags(args, INPUT_FLAGS), io);
    const inputs = loadFleetInputs(files);
    for (const issue of inputs.issues) io.stderr(`${formatIssue(issue)}\n`);
    const errors = inputs.issues.filter(isError).length;
    if (errors > 0 || !inputs.config) {
      io.stderr(`${errors} error(s); nothing was changed\n`);
      return 1;
    }
    const plan = planFromInputs(inputs, files, io);
    if (!plan) return 1;
    const scripts = scriptInputIssues(plan, { schools: files.schools.shownAs, stackConfig: files.stackConfig.shownAs }, inputs.schoolList.idLines);
    for (const issue of scripts) io.stderr(`${formatIssue(issue)}\n`);
    if (scripts.length > 0) {
      io.stderr(`${scripts.length} error(s); nothing was changed\n`);
      return 1;
    }
    io.stdout(
      `ok: ${plan.sites.length} schools on ${plan.hosts.length} hosts, ` +
        `${plan.hypervisors.length} hypervisors (${files.stackConfig.shownAs})\n`,
    );
    return 0;
  },
};
