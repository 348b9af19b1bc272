import { selectHypervisors } from "../../infra/plan";
import { checkSites, formatCheckTable, type SiteCheck } from "../../tools/health/check";
import { INPUT_FLAGS, parseFlags, positiveInteger, UsageError, type Command } from "../cli";
import { planForCommand } from "../plan-inputs";
import { selectCells } from "../driver/cells";

const FLAGS = { ...INPUT_FLAGS, env: "string", cells: "string", json: "boolean", timeout: "string", attempts: "string" } as const;

/**
 * Checks every planned site from where the operator stands: its name at the
 * fleet's DNS server, and its front page over HTTP(S). Prints a table (or
 * JSON) and exits 1 when any site fails every one of its tries, so it can
 * gate a rollout or feed a `fleet repair`.
 */
export const command: Command = {
  name: "check",
  summary: "check each site's DNS record and front page; exit 1 when any fails",
  usage: "--env NAME [--cells hv01,hv02] [--json] [--timeout SECONDS] [--attempts N] [--schools FILE] [--ledger FILE]",
  async run(args, io) {
    const flags = parseFlags(args, FLAGS);
    if (!flags.env) throw new UsageError("--env is required");
    const timeoutSeconds = Number(flags.timeout ?? "10");
    if (!(timeoutSeconds > 0)) throw new UsageError("--timeout must be a positive number of seconds");
    const attempts = positiveInteger("attempts", flags.attempts, 3);
    const planned = planForCommand(flags, flags.env, io);
    if (!planned) return 1;
    const fullPlan = planned.plan;
    const cells = selectCells(
      fullPlan.hypervisors.map((h) => h.name),
      flags.cells?.split(",").map((c) => c.trim()),
    );
    const plan = selectHypervisors(fullPlan, cells);
    const results: SiteCheck[] = await checkSites(plan, { timeoutMs: timeoutSeconds * 1000, attempts });
    io.stdout(flags.json ? `${JSON.stringify(results, null, 2)}\n` : `${formatCheckTable(results)}\n`);
    return results.every((r) => r.ok) ? 0 : 1;
  },
};
