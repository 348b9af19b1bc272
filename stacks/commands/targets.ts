import { join, relative } from "node:path";
import { parseArgs, processIO, requireFlag, runTool, stringFlag, UsageError, userPath, type ToolIO } from "../../tools/common/cli";
import { ensureDir, writeFileAtomic } from "../../tools/common/files";
import { loadFleetOutputs } from "../../tools/common/outputs";
import { FILES, generateMonitoring } from "../../tools/monitoring/targets";

export const summary = "write Prometheus targets, alert rules and a prometheus.yml snippet from the stack outputs";

export const usage = `usage: fleet targets --outputs FILE --out DIR [--blackbox HOST:PORT] [--file-dir PATH]
  Writes into DIR:
    ${FILES.nodes}   file_sd targets <address>:9100 per host (labels host, hypervisor, tier)
    ${FILES.sites}     file_sd targets per site URL (labels school_id, school_name, host)
    ${FILES.rules}            alerts: site down > 5m, disk > 85 %, MemAvailable < 10 %, exporter down
    ${FILES.prometheus}        rule_files and scrape jobs using the files above
  --blackbox   blackbox exporter address for the probes (default 127.0.0.1:9115)
  --file-dir   where the files live on the Prometheus server (default: beside prometheus.yml)
  Check with: promtool check config DIR/${FILES.prometheus}`;

const SPEC = { outputs: "string", out: "string", blackbox: "string", "file-dir": "string" } as const;

function shown(io: ToolIO, path: string): string {
  const rel = relative(io.cwd, path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}

export async function run(argv: string[], io: ToolIO = processIO()): Promise<number> {
  return runTool("targets", usage, argv, io, async () => {
    const args = parseArgs(argv, SPEC);
    if (args.positional.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positional[0])}`);
    const outputsPath = userPath(io, requireFlag(args, "outputs"));
    const dir = userPath(io, requireFlag(args, "out"));
    const blackbox = stringFlag(args, "blackbox") ?? "127.0.0.1:9115";
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(blackbox)) throw new UsageError(`--blackbox: expected HOST:PORT, got ${JSON.stringify(blackbox)}`);
    const fileDir = stringFlag(args, "file-dir") ?? "";

    const outputs = loadFleetOutputs(outputsPath, shown(io, outputsPath));
    const files = generateMonitoring(outputs, { blackbox, fileDir });
    ensureDir(dir, 0o755);
    for (const [name, text] of Object.entries(files)) writeFileAtomic(join(dir, name), text, 0o644);
    io.stdout(
      `${shown(io, dir)}: ${Object.keys(outputs.hosts).length} node exporters, ${Object.keys(outputs.sites).length} site probes, ` +
        `alert rules and ${FILES.prometheus} (${Object.keys(files).join(", ")})\n`,
    );
    return 0;
  });
}

/** Picked up by the fleet dispatcher (stacks/cli.ts). */
export const command = {
  name: "targets",
  summary,
  usage: usage.replace(/^usage: fleet targets /, ""),
  run: (args: string[], io: ToolIO) => run(args, io),
};

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`fleet targets: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
