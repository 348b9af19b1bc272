// Prints, as JSON, how many resources of each type the fleet program declares
// for one cell under Pulumi's mocks. Run in a process of its own, so the
// mocks' global runtime state never meets a real engine run in the caller.
//   node --import tsx test/support/mock-counts.ts '{"stackFile":…,"schoolsFile":…,"ledgerFile":…,"cell":"hv01"}'
import { fleetProgram } from "../../infra/program";
import { runUnderMocks, stackConfigValues, testSecrets } from "./mocks";

export function countByType(types: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of types) counts[t] = (counts[t] ?? 0) + 1;
  return counts;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as { stackFile: string; schoolsFile: string; ledgerFile: string; cell: string };
  const run = await runUnderMocks(
    fleetProgram({ schoolsFile: args.schoolsFile, ledgerFile: args.ledgerFile, cell: [args.cell] }),
    // The key's value does not matter under mocks; its presence does, when `tls` is set.
    { ...stackConfigValues(args.stackFile), ...testSecrets(), "moodle-fleet:tlsPrivateKey": "test key" },
    ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret", "moodle-fleet:tlsPrivateKey"],
  );
  process.stdout.write(JSON.stringify(countByType(run.resources.map((r) => r.type))));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
