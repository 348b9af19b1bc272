import { loadFleetInputs } from "../../infra/inputs/fleet-inputs";
import { formatIssue, isError } from "../../infra/inputs/issues";
import { INPUT_FLAGS, INPUT_USAGE, inputFiles, parseFlags, type Command } from "../cli";
import { planFromInputs } from "../plan-inputs";

/**
 * Checks school list, stack config and ledger together, the way CI and the
 * Pulumi program see them: every problem at once, file and line first.
 */
export const command: Command = {
  name: "validate",
  summary: "check the school list, stack config and placement ledger together",
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
    io.stdout(
      `ok: ${plan.sites.length} schools on ${plan.hosts.length} hosts, ` +
        `${plan.hypervisors.length} hypervisors (${files.stackConfig.shownAs})\n`,
    );
    return 0;
  },
};
