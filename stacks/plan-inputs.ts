import { loadFleetInputs, type FleetInputs } from "../infra/inputs/fleet-inputs";
import { formatIssue, isError } from "../infra/inputs/issues";
import { buildFleetPlan, FleetPlanError } from "../infra/plan/fleet-plan";
import type { FleetPlan } from "../infra/plan";
import { inputFiles, type CommandIO, type Flags, type INPUT_FLAGS, type ResolvedInputFiles } from "./cli";

/**
 * The fleet plan a command works on, from the school list, ledger, repair
 * log and the environment's stack file named by its flags. Every problem is
 * printed (file, line, field) and the result is then undefined: a command
 * never acts on inputs that did not validate.
 */
export function planForCommand(
  flags: Flags<typeof INPUT_FLAGS>,
  env: string,
  io: CommandIO,
): { plan: FleetPlan; files: ResolvedInputFiles } | undefined {
  const files = inputFiles({ ...flags, stack: flags.stack ?? env }, io);
  const inputs = loadFleetInputs(files);
  const errors = inputs.issues.filter(isError);
  if (!inputs.config || errors.length > 0) {
    for (const issue of errors) io.stderr(`${formatIssue(issue)}\n`);
    return undefined;
  }
  const plan = planFromInputs(inputs, files, io);
  return plan && { plan, files };
}

/** Builds the plan from validated inputs; a plan error is printed (file, line, field) and gives undefined. */
export function planFromInputs(inputs: FleetInputs, files: ResolvedInputFiles, io: Pick<CommandIO, "stderr">): FleetPlan | undefined {
  try {
    return buildFleetPlan({
      schools: inputs.schoolList.schools,
      config: inputs.config!,
      ledger: inputs.ledger.entries,
      files: { schools: files.schools.shownAs, ledger: files.ledger.shownAs },
      repairs: inputs.repairs.counts,
      hosts: inputs.hosts.hosts,
      uids: inputs.uids.bySchool,
    });
  } catch (error) {
    if (!(error instanceof FleetPlanError)) throw error;
    for (const issue of error.issues) io.stderr(`${formatIssue(issue)}\n`);
    return undefined;
  }
}
