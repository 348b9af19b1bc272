import { existsSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { CONFIG_NAMESPACE } from "../../infra/config/schema";
import { ToolError } from "../common/cli";

/**
 * Tier names from a stack file's `moodle-fleet:tiers` keys, or undefined
 * when the file does not exist. Only that one key is read, so a stack file
 * with unrelated problems still yields its tiers.
 */
export function tiersFromStackFile(path: string, shownAs = path): string[] | undefined {
  if (!existsSync(path)) return undefined;
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ToolError(`${shownAs}: not valid YAML (${(error as Error).message.split("\n")[0]}); give the tiers with --tiers`);
  }
  const config = (doc as { config?: Record<string, unknown> } | null)?.config;
  const tiers = config?.[`${CONFIG_NAMESPACE}:tiers`];
  if (typeof tiers !== "object" || tiers === null || Array.isArray(tiers) || Object.keys(tiers).length === 0)
    throw new ToolError(`${shownAs}: config has no ${CONFIG_NAMESPACE}:tiers mapping; give the tiers with --tiers`);
  return Object.keys(tiers).sort();
}

export function parseTierList(value: string): string[] {
  return value
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}
