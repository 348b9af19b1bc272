// The whole generated fleet in one stack, for the benchmark's single/cells
// ratio. The cell worker passes the stack's cell name (the first
// hypervisor); the program declares every hypervisor instead, as a stack
// with moodle-fleet:singleStack would.
import { fleetProgram } from "../../infra/program";

export interface OneStackArgs {
  schoolsFile: string;
  ledgerFile: string;
  hypervisors: readonly string[];
}

export function oneStackProgram(args: OneStackArgs) {
  return fleetProgram({ schoolsFile: args.schoolsFile, ledgerFile: args.ledgerFile, cell: args.hypervisors });
}
