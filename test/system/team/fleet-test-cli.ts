// `fleet` for the team tests and the pipeline test: the real commands and
// driver, with each cell running test/support/team-test-program.ts (no VMs)
// and the environment's files in $FLEET_TEST_ROOT instead of the repository.
import * as path from "node:path";
import { main, type Command, type CommandIO } from "../../../stacks/cli";
import { driverCommand } from "../../../stacks/driver/fleet-command";
import { runCells, type DriverOptions } from "../../../stacks/driver/run-cells";
import { command as validate } from "../../../stacks/commands/validate";
import { command as cells } from "../../../stacks/commands/cells";
import { command as state } from "../../../stacks/commands/state";
import { command as outputs } from "../../../stacks/commands/outputs";

const root = process.env.FLEET_TEST_ROOT;
if (!root) throw new Error("FLEET_TEST_ROOT must name the test environment's directory");

const testCells = (opts: DriverOptions) =>
  runCells({
    ...opts,
    program: { module: path.join(__dirname, "../../support/team-test-program.ts"), exportName: "teamTestProgram", args: opts.program.args },
    stackFile: path.join(root, `Pulumi.${opts.env}.yaml`),
    secretsDir: opts.secretsDir ?? process.env.FLEET_TEST_SECRETS,
  });

const commands: Command[] = [
  driverCommand("preview", "preview every cell", { runCells: testCells }),
  driverCommand("up", "converge every cell", { runCells: testCells }),
  driverCommand("destroy", "destroy every cell", { runCells: testCells }),
  validate,
  cells,
  state,
  outputs,
];

const io: CommandIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  root,
  stdin: process.stdin,
};
main(process.argv.slice(2), io, commands).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`fleet: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
