// Checkpoint cost of the state backends: the same small program (N sites,
// each a component with a generated password and a child component) brought
// up, then up again with nothing to change, then destroyed, on the file
// backend and on PostgreSQL (a cluster of its own, verified TLS over
// loopback, password from a passfile), side by side in one run.
//
//   npm run bench:state [-- 50 200]     (sites per run; default 50 200)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { ensurePassphraseFile, projectCli, toolchainEnv } from "../stacks/toolchain";
import { startTestPostgres } from "../test/support/postgres";

function program(sites: number) {
  return async () => {
    for (let k = 0; k < sites; k++) {
      const site = new pulumi.ComponentResource("bench:index:Site", `site-${k}`);
      new random.RandomPassword(`site-${k}-password`, { length: 20 }, { parent: site });
      new pulumi.ComponentResource("bench:index:Database", `site-${k}-database`, {}, { parent: site });
    }
    return {};
  };
}

interface Row {
  backend: string;
  sites: number;
  resources: number;
  up: number;
  noop: number;
  destroy: number;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function measure(backend: string, envVars: Record<string, string>, workDir: string, sites: number): Promise<Row> {
  const stack: Stack = await LocalWorkspace.createOrSelectStack(
    { stackName: `bench-${sites}`, projectName: "state-bench", program: program(sites) },
    { workDir, pulumiCommand: await projectCli(), envVars: { ...toolchainEnv(), ...envVars } },
  );
  const opts = { color: "never" as const, parallel: 16 };
  let resources = 0;
  const up = await timed(async () => {
    const r = await stack.up(opts);
    resources = r.summary.resourceChanges?.create ?? 0;
  });
  const noop = await timed(async () => {
    const r = await stack.up(opts);
    const changed = Object.entries(r.summary.resourceChanges ?? {}).filter(([k, n]) => k !== "same" && n > 0);
    if (changed.length > 0) throw new Error(`the second up changed something: ${JSON.stringify(changed)}`);
  });
  const destroy = await timed(() => stack.destroy(opts));
  await stack.workspace.removeStack(stack.name);
  return { backend, sites, resources, up, noop, destroy };
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number);
  const runs = sizes.length > 0 ? sizes : [50, 200];
  if (runs.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("usage: state-backends.ts [SITES…]");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-state-bench-"));
  fs.writeFileSync(path.join(work, "Pulumi.yaml"), "name: state-bench\nruntime: nodejs\n");
  const passphrase = ensurePassphraseFile(path.join(work, "passphrase"));
  const pg = await startTestPostgres();
  const rows: Row[] = [];
  try {
    const backends: [string, Record<string, string>][] = [
      ["file", { PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`, PULUMI_CONFIG_PASSPHRASE_FILE: passphrase }],
      ["postgres", { PULUMI_BACKEND_URL: pg.backendUrl, PGPASSFILE: pg.passfile, PULUMI_CONFIG_PASSPHRASE_FILE: passphrase }],
    ];
    fs.mkdirSync(path.join(work, "state"));
    for (const sites of runs) {
      for (const [name, vars] of backends) {
        const row = await measure(name, vars, work, sites);
        rows.push(row);
        process.stderr.write(`${name} ${sites} sites: up ${row.up.toFixed(1)} s, no-op up ${row.noop.toFixed(1)} s\n`);
      }
    }
  } finally {
    pg.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const header = "| sites | resources | backend | up (s) | no-op up (s) | destroy (s) | up pg/file | no-op pg/file |";
  const lines = [header, "|---|---|---|---|---|---|---|---|"];
  for (const r of rows) {
    const file = rows.find((x) => x.backend === "file" && x.sites === r.sites)!;
    const ratio = (a: number, b: number) => (r.backend === "file" ? "" : `${(a / b).toFixed(2)}×`);
    lines.push(
      `| ${r.sites} | ${r.resources} | ${r.backend} | ${r.up.toFixed(1)} | ${r.noop.toFixed(1)} | ${r.destroy.toFixed(1)} | ${ratio(r.up, file.up)} | ${ratio(r.noop, file.noop)} |`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n(${os.cpus().length} cores, ${os.hostname()})\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
