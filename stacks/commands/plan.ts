import { loadFleetInputs } from "../../infra/inputs/fleet-inputs";
import { formatIssue, isError } from "../../infra/inputs/issues";
import { writeFilesAtomic } from "../../infra/inputs/atomic";
import { hostRecordPath, serializeHostRecord } from "../../infra/inputs/host-record";
import { serializeLedger } from "../../infra/inputs/ledger";
import { serializeUidRecord, uidRecordPath } from "../../infra/inputs/uids";
import { PLAN_COMMAND } from "../../infra/inputs/ledger-check";
import { planPlacements } from "../../infra/plan/placement";
import { formatPlacementReport } from "../../infra/plan/report";
import { INPUT_FLAGS, INPUT_USAGE, inputFiles, parseFlags, type Command } from "../cli";

/**
 * Places new schools and drops schools that left the list, in the ledger
 * and the records beside it (hosts.csv: the sizes of each host, written when
 * it is first placed; uids.csv: each school's site UID). Without --write it
 * just shows what would change.
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
    const fatal = [...inputs.schoolList.issues, ...inputs.ledger.issues, ...inputs.hosts.issues, ...inputs.uids.issues].filter(isError);
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
      hosts: inputs.hosts,
      uids: inputs.uids,
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
    // The records first, the ledger last: a crash between the renames
    // leaves rows for hosts and schools the ledger does not name yet, which
    // the next run keeps (UIDs) or drops (hosts), never a placed host
    // without its sizes.
    writeFilesAtomic([
      { path: uidRecordPath(files.ledger.path), text: serializeUidRecord(result.uids) },
      { path: hostRecordPath(files.ledger.path), text: serializeHostRecord(result.hosts) },
      { path: files.ledger.path, text: serializeLedger(result.ledger) },
    ]);
    io.stdout(
      `wrote ${files.ledger.shownAs} (${result.ledger.length} rows), ${inputs.hosts.file} (${result.hosts.length} hosts), ` +
        `${inputs.uids.file} (${result.uids.length} UIDs)\n`,
    );
    return 0;
  },
};
