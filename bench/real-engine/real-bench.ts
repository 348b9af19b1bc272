// The fleet's own cell program through the fleet driver (runCells), with the
// real engine, the real plugins, real SSH connections and a real BIND; only
// the VMs' side is cheap (bench/real-engine/services.sh: a private libvirtd
// whose VMs never boot an OS, an sshd whose ForceCommand runs nothing).
// Runs inside the network namespace moodle-bench (npm run bench:real does
// that); figures go to stdout and bench/out/real-engine.json (merged by
// fleet size and mode, so runs of different sizes add up).
//   npm run bench:real -- [--parallel 2] [--keep] [--one-stack-up-to 500] [--preview-only] [--without-checkpoints] [--with-default-gc] 500 [2000 4000]
// Each size runs as cells (one stack per hypervisor) and, up to
// --one-stack-up-to schools, then again as one stack, after the cells'
// destroy (both declare the same pools and volumes). --preview-only runs
// only the preview from empty. --without-checkpoints runs the cells once
// more with PULUMI_SKIP_CHECKPOINTS (the engine saves the state only at the
// end): the difference is what the checkpoints after each step cost. The
// fleet itself never sets it: a run killed mid-way would lose its record
// of what it created. --with-default-gc runs the cells once more with Go's
// default collector (GOGC=100, no memory limit) in the engine and plugins,
// against the driver's own setting (ENGINE_GC in stacks/toolchain.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fleetCellProgramRef, runCells, type CellResult, type Operation } from "../../stacks/driver/run-cells";
import { repoRoot, stateEnv, toolchainDir, toolchainEnv } from "../../stacks/toolchain";
import { cellStackName } from "../../stacks/driver/cells";
import { generateFleet } from "../generated-fleet";
import { RssSampler } from "./rss-sampler";

const BENCH_DIR = process.env.BENCH_DIR ?? "/var/tmp/moodle-bench";
const LIBVIRT_URI = `qemu+unix:///system?socket=${BENCH_DIR}/libvirt/run/libvirt-sock`;
const OUT = path.join(__dirname, "..", "out", "real-engine.json");

interface Phase {
  phase: string;
  cells: number;
  seconds: number;
  ok: boolean;
  changes: Record<string, number>;
  /** Per cell: seconds, ok, first error. */
  perCell: Array<{ cell: string; seconds: number; ok: boolean; error?: string }>;
  peakRssMiB: Record<string, number>;
  /** CPU seconds per role (engine, plugins, cell workers): where the time goes. */
  cpuSeconds: Record<string, number>;
  /** 1-minute load average at the end: this machine is shared. */
  loadavg: number;
}

type Mode = "cells" | "cells without checkpoints" | "cells, GOGC=100" | "one stack";

interface SizeResult {
  schools: number;
  mode: Mode;
  /** The commit measured (with "+" when the tree had changes). */
  commit: string;
  hypervisors: number;
  parallel: number;
  phases: Phase[];
  stateBytes?: number;
  stateBytesPerSite?: number;
}

const run = promisify(execFile);

function sum(results: CellResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.changes)) out[k] = (out[k] ?? 0) + (v as number);
  return out;
}

interface BenchOptions {
  parallel: number;
  keep: boolean;
  previewOnly: boolean;
  oneStackUpTo: number;
  withoutCheckpoints: boolean;
  withDefaultGc: boolean;
  /** The commit measured, read once per run. */
  commit: string;
}

async function benchSize(schools: number, opts: BenchOptions, all: SizeResult[]): Promise<void> {
  const env = `bench${schools}`;
  const dir = path.join(BENCH_DIR, `fleet-${schools}`);
  const stateDir = path.join(BENCH_DIR, `state-${schools}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(stateDir, { recursive: true, force: true });
  const fleet = generateFleet(dir, schools, {
    uri: LIBVIRT_URI,
    poolPath: path.join(BENCH_DIR, "pools", env),
    baseImageSource: path.join(BENCH_DIR, "base.qcow2"),
    // The VMs boot no OS (the base image is empty): the smallest sizes do.
    tier: { vcpu: 1, memoryMiB: 64, diskGiBPerSite: 1, rootDiskGiB: 1 },
    // The one sshd presents its own key for every host address.
    hostKey: fs.readFileSync(path.join(BENCH_DIR, "sshd/host_ed25519.pub"), "utf8").trim().split(" ").slice(0, 2).join(" "),
    vmShutdownTimeoutSeconds: 10,
  });
  // The fleet starts one school short; "add one school" restores it, into
  // the free slot its ledger line held (placement never moves others).
  const fullSchools = fs.readFileSync(fleet.schoolsFile, "utf8");
  const fullLedger = fs.readFileSync(fleet.ledgerFile, "utf8");
  const dropLast = (text: string) => text.trimEnd().split("\n").slice(0, -1).join("\n") + "\n";
  const added = fullLedger.trimEnd().split("\n").pop()!.split(",");
  const addedCell = added[1].replace(/-vm\d+$/, "");
  const envVars = stateEnv({ stateDir, passphraseFile: path.join(BENCH_DIR, "passphrase") });
  const inputs = { schoolsFile: fleet.schoolsFile, ledgerFile: fleet.ledgerFile };

  // Each mode after the first needs the one before it destroyed.
  const modes: Mode[] = ["cells"];
  if (opts.withoutCheckpoints && !opts.keep) modes.push("cells without checkpoints");
  if (opts.withDefaultGc && !opts.keep) modes.push("cells, GOGC=100");
  if (schools <= opts.oneStackUpTo && !opts.keep) modes.push("one stack");
  for (const mode of modes) {
    fs.writeFileSync(fleet.schoolsFile, dropLast(fullSchools));
    fs.writeFileSync(fleet.ledgerFile, dropLast(fullLedger));
    // The one stack goes through the same driver as a cell: it is named
    // after the first hypervisor (the stack config's cell must be one) in an
    // environment of its own, and its program declares them all.
    const stackEnv = { cells: env, "cells without checkpoints": `${env}nc`, "cells, GOGC=100": `${env}gc`, "one stack": `${env}one` }[mode];
    const cells = mode === "one stack" ? [fleet.hypervisors[0]] : fleet.hypervisors;
    const program =
      mode === "one stack"
        ? { module: path.join(__dirname, "one-stack-program.ts"), exportName: "oneStackProgram", args: { ...inputs, hypervisors: fleet.hypervisors } }
        : fleetCellProgramRef(inputs);
    const modeEnvVars = {
      ...envVars,
      ...(mode === "cells without checkpoints" && { PULUMI_SKIP_CHECKPOINTS: "true" }),
      ...(mode === "cells, GOGC=100" && { GOGC: "100", GOMEMLIMIT: "off" }),
    };
    const result: SizeResult = { schools, mode, commit: opts.commit, hypervisors: fleet.hypervisors.length, parallel: opts.parallel, phases: [] };
    all.push(result);
    const sampler = new RssSampler();

    const phase = async (name: string, operation: Operation, stacks: readonly string[]): Promise<Phase> => {
      process.stderr.write(`${schools} schools, ${mode}: ${name} (${stacks.length} stacks)...\n`);
      sampler.start();
      const started = Date.now();
      const results = await runCells({
        env: stackEnv,
        cells: stacks,
        operation,
        parallel: opts.parallel,
        program,
        expectedResources: () => 0,
        envVars: modeEnvVars,
        stackFile: fleet.stackFile,
        secretsDir: path.join(BENCH_DIR, "secrets"),
        out: { write: () => true },
      });
      const usage = sampler.stop();
      const p: Phase = {
        phase: name,
        cells: stacks.length,
        seconds: (Date.now() - started) / 1000,
        ok: results.every((r) => r.ok),
        changes: sum(results),
        perCell: results.map((r) => ({ cell: r.cell, seconds: r.seconds, ok: r.ok, ...(r.error && { error: r.error }) })),
        peakRssMiB: usage.peakRssMiB,
        cpuSeconds: usage.cpuSeconds,
        loadavg: os.loadavg()[0],
      };
      result.phases.push(p);
      process.stderr.write(`  ${p.seconds.toFixed(1)} s, ok=${p.ok}, ${JSON.stringify(p.changes)}, peak RSS ${JSON.stringify(p.peakRssMiB)}, CPU s ${JSON.stringify(p.cpuSeconds)}, load ${p.loadavg.toFixed(1)}\n`);
      for (const c of p.perCell) if (!c.ok) process.stderr.write(`  ${c.cell}: ${c.error}\n`);
      write(all);
      return p;
    };

    const removeStackFiles = () => {
      for (const cell of cells) fs.rmSync(path.join(repoRoot, `Pulumi.${cellStackName(stackEnv, cell)}.yaml`), { force: true });
    };
    await phase("preview from empty", "preview", cells);
    if (opts.previewOnly) {
      removeStackFiles();
      continue;
    }
    await phase("up from empty", "up", cells);
    await phase("no-op preview", "preview", cells);
    await phase("no-op up", "up", cells);
    fs.writeFileSync(fleet.schoolsFile, fullSchools);
    fs.writeFileSync(fleet.ledgerFile, fullLedger);
    const addTo = mode === "one stack" ? cells[0] : addedCell;
    await phase(`add one school: preview (${addTo})`, "preview", [addTo]);
    await phase(`add one school: up (${addTo})`, "up", [addTo]);

    // State size as `pulumi stack export` writes it (secrets stay encrypted).
    let bytes = 0;
    for (const cell of cells) {
      const { stdout } = await run(path.join(toolchainDir, "bin", "pulumi"), ["stack", "export", "--stack", cellStackName(stackEnv, cell)], {
        cwd: repoRoot,
        env: { ...process.env, ...toolchainEnv(), ...envVars },
        maxBuffer: 1 << 30,
      });
      bytes += Buffer.byteLength(stdout);
    }
    result.stateBytes = bytes;
    result.stateBytesPerSite = Math.round(bytes / schools);
    write(all);

    if (!opts.keep) await phase("destroy", "destroy", cells);
    removeStackFiles();
  }
}

async function commitMeasured(): Promise<string> {
  const { stdout: head } = await run("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot });
  const { stdout: status } = await run("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: repoRoot });
  return head.trim() + (status.trim() === "" ? "" : "+");
}

/** Writes this run's sizes into the JSON file, keeping other sizes and modes from earlier runs. */
function write(all: SizeResult[]): void {
  const key = (s: SizeResult) => `${s.schools} ${s.mode ?? "cells"}`;
  const mine = new Set(all.map(key));
  let earlier: SizeResult[] = [];
  try {
    earlier = (JSON.parse(fs.readFileSync(OUT, "utf8")) as { sizes: SizeResult[] }).sizes.filter((s) => !mine.has(key(s)));
  } catch {
    // No earlier file (or an unreadable one): this run's figures only.
  }
  const sizes = [...earlier, ...all].sort((a, b) => a.schools - b.schools || key(a).localeCompare(key(b)));
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify({ node: process.version, cpus: os.cpus().length, libvirt: LIBVIRT_URI, sizes }, null, 2));
}

function table(all: SizeResult[]): string {
  const lines = [
    "schools  mode                      stacks  phase                                   seconds  ok    changes                         peak RSS MiB (worker / engine / command / libvirt / random)",
  ];
  for (const s of all) {
    for (const p of s.phases) {
      const rss = p.peakRssMiB;
      const get = (k: string) => String(Object.entries(rss).find(([r]) => r.startsWith(k))?.[1] ?? "-");
      lines.push(
        [
          String(s.schools).padStart(7),
          " " + s.mode.padEnd(24),
          String(p.cells).padStart(6),
          " " + p.phase.padEnd(40),
          p.seconds.toFixed(1).padStart(7),
          " " + String(p.ok).padEnd(5),
          JSON.stringify(p.changes).padEnd(32),
          [get("cell worker"), get("pulumi engine"), get("pulumi-resource-command"), get("pulumi-resource-libvirt"), get("pulumi-resource-random")].join(" / "),
        ].join(" "),
      );
    }
    if (s.stateBytes !== undefined) lines.push(`${String(s.schools).padStart(7)}  ${s.mode}: state ${s.stateBytes} bytes, ${s.stateBytesPerSite} bytes per site`);
  }
  // Each other mode against the cells, measured in this run: the ratio of wall times per phase.
  const bare = (phase: string) => phase.replace(/ \(.*\)/, "");
  for (const other of all.filter((s) => s.mode !== "cells")) {
    const cells = all.find((s) => s.schools === other.schools && s.mode === "cells");
    if (!cells) continue;
    for (const p of other.phases) {
      const c = cells.phases.find((q) => bare(q.phase) === bare(p.phase));
      if (c) lines.push(`${String(other.schools).padStart(7)}  ${other.mode} / cells, ${bare(p.phase)}: ${(p.seconds / c.seconds).toFixed(2)}`);
    }
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opts: BenchOptions = { parallel: 2, keep: false, previewOnly: false, oneStackUpTo: 500, withoutCheckpoints: false, withDefaultGc: false, commit: await commitMeasured() };
  const sizes: number[] = [];
  for (let k = 0; k < args.length; k++) {
    if (args[k] === "--parallel") opts.parallel = Number(args[++k]);
    else if (args[k] === "--keep") opts.keep = true;
    else if (args[k] === "--preview-only") opts.previewOnly = true;
    else if (args[k] === "--one-stack-up-to") opts.oneStackUpTo = Number(args[++k]);
    else if (args[k] === "--without-checkpoints") opts.withoutCheckpoints = true;
    else if (args[k] === "--with-default-gc") opts.withDefaultGc = true;
    else if (/^\d+$/.test(args[k])) sizes.push(Number(args[k]));
    else throw new Error(`unknown argument ${args[k]} (usage: [--parallel N] [--keep] [--preview-only] [--one-stack-up-to N] [--without-checkpoints] [--with-default-gc] SCHOOLS...)`);
  }
  if (!(opts.parallel >= 1) || !Number.isFinite(opts.oneStackUpTo)) throw new Error("--parallel and --one-stack-up-to need a number");
  const all: SizeResult[] = [];
  for (const n of sizes.length > 0 ? sizes : [500]) await benchSize(n, opts, all);
  console.log(table(all));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
