// Program evaluation under Pulumi's mocks: time (wall and CPU) from the
// program's start to the last resource registration, and the process's peak
// memory, for generated fleets. Each run is a process of its own so peaks
// don't mix. Beside the program, a baseline declares the same number of bare
// resources (no inputs, no outputs): what the SDK and its mocks cost alone.
// `--before REF` also evaluates the program as it was at git REF (a
// worktree under bench/out/), interleaved with the current one, so a change
// is measured against its predecessor on the same machine at the same time.
//   npx tsx bench/mock-eval.ts [--before REF] [--no-baseline] [500 2000 4000]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";

type Variant = "program" | "before" | "bare";

interface Sample {
  variant: Variant;
  schools: number;
  resources: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
}

async function child(variant: Variant, schools: number, repo: string): Promise<Sample> {
  const { generateFleet } = await import("./generated-fleet");
  const { runUnderMocks, testSecrets } = await import(path.join(repo, "test/support/mocks"));
  const { fleetProgram } = await import(path.join(repo, "infra/program"));
  const pulumi = await import("@pulumi/pulumi");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-"));
  const fleet = generateFleet(dir, schools);
  const config = Object.fromEntries(
    Object.entries(fleet.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  let program = fleetProgram({ schoolsFile: fleet.schoolsFile, ledgerFile: fleet.ledgerFile });
  if (variant === "bare") {
    // As many resources as the fleet (50 sites per host, 4 hosts per
    // hypervisor; the component below stands for the Fleet's), declared 5
    // at a time like the program's sites.
    const { resourceCount } = await import("../infra/components/fleet");
    const count = resourceCount(Math.ceil(schools / 200), Math.ceil(schools / 50), schools) - 1;
    class Bare extends pulumi.CustomResource {}
    program = async () => {
      const root = new pulumi.ComponentResource("bench:index:Root", "root", {});
      for (let k = 0; k < count; k++) {
        new Bare("bench:index:Bare", `bare-${k}`, {}, { parent: root });
        if (k % 5 === 4) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return {};
    };
  }
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const run = await runUnderMocks(
    program,
    { ...config, "moodle-fleet:singleStack": "true", ...testSecrets() },
    ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"],
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    variant,
    schools,
    resources: run.resources.length,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/** A worktree of the repository at `ref`, sharing this checkout's node_modules. */
function worktreeAt(ref: string): { dir: string; commit: string } {
  const root = path.join(__dirname, "..");
  const commit = execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], { cwd: root, encoding: "utf8" }).trim();
  const dir = path.join(__dirname, "out", `before-${commit.slice(0, 12)}`);
  if (!fs.existsSync(dir)) {
    execFileSync("git", ["worktree", "add", "--detach", dir, commit], { cwd: root, stdio: "ignore" });
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  }
  return { dir, commit };
}

function runChild(variant: Variant, n: number, repo: string): Sample {
  const out = execFileSync(process.execPath, ["--import", "tsx", __filename, "--child", variant, String(n), repo], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split("\n").pop()!);
}

function main(): void {
  const args = process.argv.slice(2);
  let before: { dir: string; commit: string } | undefined;
  let baseline = true;
  const sizes: number[] = [];
  for (let k = 0; k < args.length; k++) {
    if (args[k] === "--before") before = worktreeAt(args[++k]);
    else if (args[k] === "--no-baseline") baseline = false;
    else sizes.push(Number(args[k]));
  }
  const here = path.join(__dirname, "..");
  const samples: Sample[] = [];
  for (const n of sizes.length > 0 ? sizes : [500, 2000, 4000]) {
    if (baseline) samples.push(runChild("bare", n, here));
    if (before) samples.push(runChild("before", n, before.dir));
    samples.push(runChild("program", n, here));
    process.stderr.write(`${JSON.stringify(samples.slice(-3))}\n`);
  }
  console.log("variant  schools  resources  eval s  CPU s  CPU s/1k res  peak RSS MiB");
  for (const s of samples) {
    console.log(
      [
        s.variant.padEnd(7),
        String(s.schools).padStart(8),
        String(s.resources).padStart(10),
        s.seconds.toFixed(1).padStart(7),
        s.cpuSeconds.toFixed(1).padStart(6),
        ((1000 * s.cpuSeconds) / s.resources).toFixed(2).padStart(13),
        s.peakRssMiB.toFixed(0).padStart(13),
      ].join(" "),
    );
  }
  const outDir = path.join(__dirname, "out");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, "mock-eval.json"),
    JSON.stringify({ node: process.version, cpus: os.cpus().length, loadavg: os.loadavg(), before: before?.commit, samples }, null, 2),
  );
}

if (process.argv[2] === "--child") {
  child(process.argv[3] as Variant, Number(process.argv[4]), process.argv[5]).then((s) => console.log(JSON.stringify(s)));
} else {
  main();
}
