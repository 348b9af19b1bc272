import type { z } from "zod";
import { InputError, type InputIssue } from "../inputs/issues";
import { ruleOf } from "../inputs/zod-issues";
import { fleetConfigSchema, pinsWithoutHost, type FleetConfig } from "./schema";

/** Finds the line a config key path was written on, if the config came from a file. */
export type Locator = (path: readonly PropertyKey[]) => number | undefined;

export interface ConfigResult {
  /** Present only when there are no errors. */
  config?: FleetConfig;
  issues: InputIssue[];
}

export interface ConfigSource {
  /** Shown in messages: the stack file's path, or a description such as "stack config". */
  file?: string;
  locate?: Locator;
}

/** `hypervisors[0].addresses.first` */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, k) => (typeof p === "number" ? `[${p}]` : k === 0 ? String(p) : `.${String(p)}`))
    .join("");
}

function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) return "required key is missing";
  if (issue.code === "invalid_key") return `invalid key: ${issue.issues.map((i) => i.message).join("; ")}`;
  if (issue.code === "invalid_value") return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return issue.message;
}

/** Splits zod's "unrecognized keys" issue so that each key gets its own line number. */
function flatten(issues: readonly z.core.$ZodIssue[]): { path: PropertyKey[]; rule: string; message: string }[] {
  return issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: [...issue.path, key], rule: "unknown-key", message: "unknown key (typo?)" }))
      : [{ path: [...issue.path], rule: ruleOf(issue), message: messageOf(issue) }],
  );
}

/**
 * Validates the plain (non-secret) stack config, e.g. as assembled from
 * `pulumi.Config` by `configFromValues`. Reports every problem, each with
 * its key path and, when a locator is given, its line.
 */
export function validateFleetConfig(value: unknown, source: ConfigSource = {}): ConfigResult {
  const file = source.file ?? "stack config";
  const parsed = fleetConfigSchema.safeParse(value);
  if (parsed.success) return { config: parsed.data, issues: [] };
  const issues = flatten(parsed.error.issues).map(
    ({ path, rule, message }): InputIssue => ({
      file,
      line: source.locate?.(path),
      field: path.length > 0 ? formatKeyPath(path) : undefined,
      fieldKind: "key",
      rule,
      message,
    }),
  );
  return { issues };
}

/** As validateFleetConfig, but throws an InputError listing every problem. */
export function parseFleetConfig(value: unknown, source: ConfigSource = {}): FleetConfig {
  const result = validateFleetConfig(value, source);
  if (!result.config) throw new InputError(result.issues, "invalid stack config");
  return result.config;
}

/**
 * The config against the placement: a host key pinned for a VM the ledger
 * puts no school on (a misspelt number, a VM long gone) would check nothing,
 * so it is an error naming the file, line and key. `hosts` are the planned
 * VM names (the ledger's host column). The schema already refuses keys that
 * are no VM name at all (addresses, DNS names, unknown hypervisors).
 */
export function checkPinnedHostKeys(config: Pick<FleetConfig, "ssh">, hosts: Iterable<string>, source: ConfigSource = {}): InputIssue[] {
  const file = source.file ?? "stack config";
  return pinsWithoutHost(config, hosts).map((key): InputIssue => {
    const path = ["ssh", "pinnedHostKeys", key];
    return {
      file,
      line: source.locate?.(path),
      field: formatKeyPath(path),
      fieldKind: "key",
      rule: "pin-host",
      message: `"${key}" is not a placed VM (the ledger puts no school on it): a pin for it checks nothing`,
      fix: "correct the VM's name, or remove the pin of a VM that no longer exists",
    };
  });
}
