// The second half of bench/real-engine/upgrade.sh: this tree's cell program
// against the stacks an older version's kept benchmark left in
// state-<SCHOOLS>. It prints what the first preview would change (by kind
// and resource), applies it, and checks that a second preview changes
// nothing; with a data-holding resource deleted or replaced, or changes
// left after the up, it exits 1. Without --keep it destroys the stacks.
// First, each stack's state goes through the check `fleet preview` and
// `fleet up` make (stacks/driver/migration.ts): where they would refuse the
// stack, this stops too, with their message, before anything runs.
import * as fs from "node:fs";
import * as path from "node:path";
import { fleetCellProgramRef, runCells, type CellResult, type Operation } from "../../stacks/driver/run-cells";
import { cellStackName } from "../../stacks/driver/cells";
import { readStackState, unconvergedCellsMessage } from "../../stacks/driver/deployed";
import { dataLossSteps } from "../../stacks/driver/steps";
import { repoRoot, stateEnv } from "../../stacks/toolchain";

const BENCH_DIR = process.env.BENCH_DIR ?? "/var/tmp/moodle-bench";

async function main(): Promise<void> {
  const schools = Number(process.argv[2]);
  const keep = process.argv.includes("--keep");
  if (!Number.isInteger(schools) || schools < 1) throw new Error("usage: upgrade-check.ts SCHOOLS [--keep]");
  const env = `bench${schools}`;
  const dir = path.join(BENCH_DIR, `fleet-${schools}`);
  const stateDir = path.join(BENCH_DIR, `state-${schools}`);
  if (!fs.existsSync(stateDir)) throw new Error(`${stateDir} is missing: run the older version's benchmark with --keep first`);
  // The kept stacks, as the older version named them (one per hypervisor).
  const cells = fs
    .readdirSync(path.join(stateDir, ".pulumi/stacks/moodle-fleet"))
    .filter((f) => f.startsWith(`${env}-`) && f.endsWith(".json"))
    .map((f) => f.slice(env.length + 1, -".json".length))
    .sort();
  const envVars = stateEnv({ stateDir, passphraseFile: path.join(BENCH_DIR, "passphrase") });
  const deployments = [];
  for (const cell of cells) {
    const stack = cellStackName(env, cell);
    const facts = await readStackState(stack, envVars);
    console.log(`state check, ${cell}: ${facts.sitesBeforeHostPasswords.length} school(s) this version cannot take over yet`);
    deployments.push({ cell, stack, outputs: {}, ...facts });
  }
  const refusal = unconvergedCellsMessage(deployments, cells);
  const run = (operation: Operation): Promise<CellResult[]> =>
    runCells({
      env,
      cells,
      operation,
      parallel: 2,
      program: fleetCellProgramRef({ schoolsFile: path.join(dir, "schools.csv"), ledgerFile: path.join(dir, "placement.csv") }),
      expectedResources: () => 0,
      envVars,
      stackFile: path.join(dir, "Pulumi.bench.yaml"),
      secretsDir: path.join(BENCH_DIR, "secrets"),
      out: { write: () => true },
    });
  let failed = false;
  const report = (phase: string, results: CellResult[], lossIsFailure = true): void => {
    for (const r of results) {
      const byResource = new Map<string, number>();
      for (const s of r.steps ?? []) byResource.set(`${s.kind} ${s.label}`, (byResource.get(`${s.kind} ${s.label}`) ?? 0) + 1);
      console.log(`${phase}, ${r.cell}: ${r.ok ? "ok" : `FAILED: ${r.error}`} ${JSON.stringify(r.changes)}`);
      for (const [what, n] of byResource) console.log(`  ${String(n).padStart(5)}  ${what}`);
      const lost = dataLossSteps(r.steps ?? []);
      if (lost.length > 0) console.log(`  DATA LOSS: ${lost.map((s) => s.name).join(", ")}`);
      failed ||= !r.ok || (lossIsFailure && lost.length > 0);
    }
  };
  try {
    if (refusal) {
      console.log(`the driver refuses these stacks, as fleet preview and fleet up would; nothing was applied:\n${refusal}`);
      failed = true;
    } else {
      report("first preview", await run("preview"));
      report("up", await run("up"));
      const again = await run("preview");
      report("preview after the up", again);
      for (const r of again) {
        const changed = Object.entries(r.changes).filter(([k, n]) => k !== "same" && n > 0);
        if (changed.length > 0) {
          console.log(`${r.cell}: the up left changes: ${JSON.stringify(r.changes)}`);
          failed = true;
        }
      }
    }
    if (!keep) report("destroy", await run("destroy"), false);
  } finally {
    for (const cell of cells) fs.rmSync(path.join(repoRoot, `Pulumi.${cellStackName(env, cell)}.yaml`), { force: true });
  }
  if (failed) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
