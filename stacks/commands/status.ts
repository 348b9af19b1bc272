import { relative } from "node:path";
import { parseArgs, processIO, requireFlag, runTool, stringFlag, UsageError, userPath, type ToolIO } from "../../tools/common/cli";
import { writeFileAtomic } from "../../tools/common/files";
import { loadFleetOutputs } from "../../tools/common/outputs";
import { capacityReport } from "../../tools/status/capacity";
import { renderHtml } from "../../tools/status/render-html";
import { renderText } from "../../tools/status/render-text";

export const summary = "show capacity per hypervisor, host and tier, and what a load surge would overload";

export const usage = `usage: fleet status --outputs FILE [--stack NAME] [--load-factor L] [--html FILE]
  Sites used and free (slots), vCPU and RAM committed against each
  hypervisor's capacity, and disk, per hypervisor, host and tier. Flags the
  hosts and hypervisors that would be overloaded at L times normal load
  (default 5; BelWü planned 5× in March 2020 and got 20×); the rule is
  printed with the table.
  --stack   stack name shown in the title (default prod)
  --html    also write a self-contained HTML page (inline CSS and SVG chart)`;

const SPEC = { outputs: "string", stack: "string", "load-factor": "string", html: "string" } as const;

function shown(io: ToolIO, path: string): string {
  const rel = relative(io.cwd, path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}

export async function run(argv: string[], io: ToolIO = processIO(), now: () => Date = () => new Date()): Promise<number> {
  return runTool("status", usage, argv, io, async () => {
    const args = parseArgs(argv, SPEC);
    if (args.positional.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positional[0])}`);
    const outputsPath = userPath(io, requireFlag(args, "outputs"));
    const stack = stringFlag(args, "stack") ?? "prod";
    const factorText = stringFlag(args, "load-factor") ?? "5";
    const loadFactor = Number(factorText.replace(/[x×]$/i, ""));
    if (!/^\d+(\.\d+)?[x×]?$/i.test(factorText) || !(loadFactor > 0)) throw new UsageError(`--load-factor: expected a positive number, got ${JSON.stringify(factorText)}`);

    const outputsShown = shown(io, outputsPath);
    const outputs = loadFleetOutputs(outputsPath, outputsShown);
    const report = capacityReport(outputs, loadFactor);
    const title = `Moodle fleet capacity: stack ${stack} (${outputs.domain})`;
    io.stdout(renderText(report, `${title}, from ${outputsShown}, load factor ${loadFactor}×`));
    const html = stringFlag(args, "html");
    if (html !== undefined) {
      const path = userPath(io, html);
      writeFileAtomic(path, renderHtml(report, title, now()), 0o644);
      io.stdout(`wrote ${shown(io, path)}\n`);
    }
    return 0;
  });
}

/** Picked up by the fleet dispatcher (stacks/cli.ts). */
export const command = {
  name: "status",
  summary,
  usage: usage.replace(/^usage: fleet status /, ""),
  run: (args: string[], io: ToolIO) => run(args, io),
};

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`fleet status: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
