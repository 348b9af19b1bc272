// Program evaluation under Pulumi's mocks: time from the program's start to
// the last resource registration, and the process's peak memory, for
// generated fleets. Each size runs in its own process so peaks don't mix.
//   npx tsx bench/mock-eval.ts [500 2000 4000]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";

interface Sample {
  schools: number;
  resources: number;
  seconds: number;
  peakRssMiB: number;
}

async function child(schools: number): Promise<Sample> {
  const { generateFleet } = await import("./generated-fleet");
  const { runUnderMocks, testSecrets } = await import("../test/support/mocks");
  const { fleetProgram } = await import("../infra/program");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-"));
  const fleet = generateFleet(dir, schools);
  const config = Object.fromEntries(
    Object.entries(fleet.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  const started = process.hrtime.bigint();
  const run = await runUnderMocks(
    fleetProgram({ schoolsFile: fleet.schoolsFile, ledgerFile: fleet.ledgerFile }),
    { ...config, "moodle-fleet:singleStack": "true", ...testSecrets() },
    ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"],
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.rmSync(dir, { recursive: true, force: true });
  return { schools, resources: run.resources.length, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

function main(): void {
  const sizes = process.argv.slice(2).map(Number);
  const samples: Sample[] = [];
  for (const n of sizes.length > 0 ? sizes : [500, 2000, 4000]) {
    const out = execFileSync(process.execPath, ["--import", "tsx", __filename, "--child", String(n)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 20,
    });
    samples.push(JSON.parse(out.trim().split("\n").pop()!));
  }
  const base = samples[0];
  console.log("schools  resources  eval s  s/1k res  peak RSS MiB  time vs first  res vs first");
  for (const s of samples) {
    console.log(
      [
        String(s.schools).padStart(7),
        String(s.resources).padStart(10),
        s.seconds.toFixed(1).padStart(7),
        ((1000 * s.seconds) / s.resources).toFixed(2).padStart(9),
        s.peakRssMiB.toFixed(0).padStart(13),
        (s.seconds / base.seconds).toFixed(1).padStart(14),
        (s.resources / base.resources).toFixed(1).padStart(13),
      ].join(" "),
    );
  }
  const outDir = path.join(__dirname, "out");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "mock-eval.json"), JSON.stringify({ node: process.version, cpus: os.cpus().length, samples }, null, 2));
}

if (process.argv[2] === "--child") {
  child(Number(process.argv[3])).then((s) => console.log(JSON.stringify(s)));
} else {
  main();
}
