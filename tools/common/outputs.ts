import { readFileSync } from "node:fs";
import type { z } from "zod";
import { fleetOutputsSchema, type FleetOutputs } from "../../infra/outputs/schema";
import { ToolError } from "./cli";

/** What `pulumi stack output --json` prints for a secret without --show-secrets. */
const HIDDEN_SECRET = "[secret]";

/** A zod path as a reader writes it: sites["04101234"].url, hosts["hv01-vm01"].vcpu. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === "" ? "(top level)" : out;
}

export interface LoadOutputsOptions {
  /** The admin passwords are needed (mail-out); otherwise hidden secrets are accepted. */
  needSecrets?: boolean;
}

/**
 * Reads a stack outputs file (`pulumi stack output --json --show-secrets`, or
 * the fleet's merged outputs), validates it against the fixed outputs shape
 * and checks that its parts refer to each other. Every problem is reported,
 * each naming the file and the path of the bad field.
 */
export function loadFleetOutputs(path: string, shownAs = path, options: LoadOutputsOptions = {}): FleetOutputs {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ToolError(`${shownAs}: cannot read the outputs file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ToolError(`${shownAs}: not JSON (${(error as Error).message}); expected the output of \`pulumi stack output --json --show-secrets\``);
  }
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    const record = raw as Record<string, unknown>;
    if (record.adminPasswords === HIDDEN_SECRET) {
      if (options.needSecrets)
        throw new ToolError(`${shownAs}: adminPasswords: the secret is hidden ("${HIDDEN_SECRET}"); export the outputs with \`pulumi stack output --json --show-secrets\``);
      raw = { ...record, adminPasswords: {} };
    }
  }
  const parsed = fleetOutputsSchema.safeParse(raw);
  if (!parsed.success) throw new ToolError(describeIssues(shownAs, parsed.error.issues));
  const outputs = parsed.data;

  const problems: string[] = [];
  const at = (p: PropertyKey[], message: string) => problems.push(`${shownAs}: ${formatPath(p)}: ${message}`);
  for (const [key, site] of Object.entries(outputs.sites)) {
    if (site.schoolId !== key) at(["sites", key, "schoolId"], `is ${JSON.stringify(site.schoolId)}, but the site is keyed ${JSON.stringify(key)}`);
    if (!(site.host in outputs.hosts)) at(["sites", key, "host"], `names host ${JSON.stringify(site.host)}, which is not in hosts`);
  }
  for (const [key, host] of Object.entries(outputs.hosts)) {
    if (host.name !== key) at(["hosts", key, "name"], `is ${JSON.stringify(host.name)}, but the host is keyed ${JSON.stringify(key)}`);
    if (!(host.hypervisor in outputs.hypervisors))
      at(["hosts", key, "hypervisor"], `names hypervisor ${JSON.stringify(host.hypervisor)}, which is not in hypervisors`);
  }
  for (const [key, hv] of Object.entries(outputs.hypervisors)) {
    if (hv.name !== key) at(["hypervisors", key, "name"], `is ${JSON.stringify(hv.name)}, but the hypervisor is keyed ${JSON.stringify(key)}`);
  }
  if (options.needSecrets) {
    for (const key of Object.keys(outputs.sites)) {
      if (typeof outputs.adminPasswords[key] !== "string" || outputs.adminPasswords[key] === "")
        at(["adminPasswords", key], "missing: every site needs its admin password");
    }
  }
  if (problems.length > 0) throw new ToolError(`invalid outputs file:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  return outputs;
}

function describeIssues(file: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, 50).map((issue) => `  ${file}: ${formatPath(issue.path)}: ${issue.message}`);
  if (issues.length > 50) lines.push(`  ... and ${issues.length - 50} more`);
  return `invalid outputs file (expected the fleet's stack outputs):\n${lines.join("\n")}`;
}
