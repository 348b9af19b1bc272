import { loadFleetInputs } from "../../infra/inputs/fleet-inputs";
import { formatIssue, isError } from "../../infra/inputs/issues";
import { writeLedger } from "../../infra/inputs/ledger";
import { PLAN_COMMAND } from "../../infra/inputs/ledger-check";
import { planPlacements } from "../../infra/plan/placement";
import { formatPlacementReport } from "../../infra/plan/report";
import { INPUT_FLAGS, INPUT_USAGE, inputFiles, parseFlags, type Command } from "../cli";

/**
 * Places new schools and drops schools that left the list, in the ledger
 * only. Without --write it just shows what would change.
 */
export const command: Command = {
  name: "plan",
  summary: "place new schools on hosts (and drop removed ones) in the placement ledger",
  usage: `[--write] ${INPUT_USAGE}`,
  run(args, io) {
    const flags = parseFlags(args, { ...INPUT_FLAGS, write: "boolean" });
    const files = inputFiles(flags, io);
    const inputs = loadFleetInputs(files);
    // Placement needs a clean list and config: a school whose row is broken
    // would otherwise look removed, and removal deletes its site.
    const fatal = [...inputs.schoolList.issues, ...inputs.ledger.issues].filter(isError);
    const configErrors = inputs.issues.filter((i) => isError(i) && i.file === files.stackConfig.shownAs);
    if (fatal.length > 0 || configErrors.length > 0 || !inputs.config) {
      for (const issue of [...configErrors, ...fatal]) io.stderr(`${formatIssue(issue)}\n`);
      io.stderr("cannot plan until these are fixed; the ledger was not changed\n");
      return 1;
    }

    const result = planPlacements({
      schools: inputs.schoolList.schools,
      config: inputs.config,
      ledger: inputs.ledger,
      schoolsFile: files.schools.shownAs,
    });
    io.stdout(formatPlacementReport(result, files.ledger.shownAs));

    if (!result.ok) {
      for (const issue of result.report.blocking) io.stderr(`${formatIssue(issue)}\n`);
      for (const n of result.report.noCapacity)
        io.stderr(
          `no capacity: ${n.schoolIds.length} school(s) of tier ${n.tier} need ${n.hostsNeeded} more host(s) ` +
            `(${n.vcpuPerHost} vcpu, ${n.memoryMiBPerHost} MiB each)\n`,
        );
      io.stderr("the ledger was not changed\n");
      return 1;
    }
    if (!result.changed) {
      io.stdout("the ledger is up to date\n");
      return 0;
    }
    if (!flags.write) {
      io.stdout(`not written; run \`${PLAN_COMMAND}\` to apply\n`);
      return 0;
    }
    writeLedger(files.ledger.path, result.ledger);
    io.stdout(`wrote ${files.ledger.shownAs} (${result.ledger.length} rows)\n`);
    return 0;
  },
};
