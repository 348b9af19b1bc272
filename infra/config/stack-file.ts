import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { InputIssue } from "../inputs/issues";
import { CONFIG_NAMESPACE, SECRET_KEYS, type FleetConfig, type SecretKey } from "./schema";
import { validateFleetConfig, type Locator } from "./validate";

export interface StackConfigFile {
  /** Present only when the plain config has no errors. */
  config?: FleetConfig;
  /** Whether each secret is set (as `{secure: ...}`); values are never read. */
  secrets: Record<SecretKey, boolean>;
  /** Errors only; see `secretWarnings` for missing secrets. */
  issues: InputIssue[];
  /** Line of a config key path in the file, for checks made later (checkPinnedHostKeys). */
  locate?: Locator;
}

const PREFIX = `${CONFIG_NAMESPACE}:`;
const isSecretKey = (k: string): k is SecretKey => (SECRET_KEYS as readonly string[]).includes(k);

/** Line of each key along `path` in the document, the deepest one found. */
function locator(doc: Document, lines: LineCounter): Locator {
  return (path) => {
    let node: unknown = doc.contents;
    let line: number | undefined;
    const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : lines.linePos(offset).line);
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        line = lineAt((pair.key as Node).range?.[0]) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number" && node.items[segment]) {
        node = node.items[segment];
        line = lineAt((node as Node).range?.[0]) ?? line;
      } else break;
    }
    return line;
  };
}

const isSecure = (v: unknown): boolean =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;

/**
 * Reads a Pulumi stack file (`config:` with `moodle-fleet:<key>` entries),
 * validates the plain keys and notes which secrets are set. Keys of other
 * namespaces (providers, pulumi:*) are left alone.
 */
export function parseStackConfig(text: string, file: string): StackConfigFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const secrets = Object.fromEntries(SECRET_KEYS.map((k) => [k, false])) as Record<SecretKey, boolean>;
  const issues: InputIssue[] = doc.errors.map((e) => ({
    file,
    line: e.linePos?.[0].line,
    rule: "yaml",
    message: e.message.split("\n")[0],
  }));
  if (issues.length > 0) return { secrets, issues };

  const top: unknown = doc.toJS();
  const section = typeof top === "object" && top !== null ? (top as Record<string, unknown>).config : undefined;
  if (typeof section !== "object" || section === null || Array.isArray(section)) {
    issues.push({ file, rule: "yaml", message: "no `config:` mapping; expected keys like `moodle-fleet:domain`" });
    return { secrets, issues };
  }

  const locateRaw = locator(doc, lines);
  const plain: Record<string, unknown> = {};
  // Keys already reported as encrypted are not reported again as missing.
  const reported = new Set<string>();
  for (const [rawKey, value] of Object.entries(section)) {
    const line = locateRaw(["config", rawKey]);
    if (!rawKey.includes(":")) {
      issues.push({ file, line, field: rawKey, fieldKind: "key", rule: "namespace", message: `key has no namespace; write "${PREFIX}${rawKey}"` });
      continue;
    }
    if (!rawKey.startsWith(PREFIX)) continue;
    const key = rawKey.slice(PREFIX.length);
    if (isSecretKey(key)) {
      if (isSecure(value)) secrets[key] = true;
      else
        issues.push({
          file,
          line,
          field: key,
          fieldKind: "key",
          rule: "plain-secret",
          message: "secret stored in plain text",
          fix: `remove it and run \`${secretCommand(key)}\``,
        });
    } else if (isSecure(value)) {
      reported.add(key);
      issues.push({ file, line, field: key, fieldKind: "key", rule: "secure-plain-key", message: "is encrypted, but this key is not a secret; set it in plain text" });
    } else {
      plain[key] = value;
    }
  }

  const locate: Locator = (path) => locateRaw(["config", `${PREFIX}${String(path[0])}`, ...path.slice(1)]) ?? locateRaw(["config"]);
  const result = validateFleetConfig(plain, { file, locate });
  const rest = result.issues.filter((i) => !reported.has(i.field?.split(/[.[]/)[0] ?? ""));
  return { config: issues.length === 0 ? result.config : undefined, secrets, issues: [...issues, ...rest], locate };
}

export function loadStackConfig(path: string, shownAs = path): StackConfigFile {
  return parseStackConfig(readFileSync(path, "utf8"), shownAs);
}

/** The command that sets a secret, for messages. */
export function secretCommand(key: SecretKey, stack?: string): string {
  const stackArg = stack === undefined ? "" : ` --stack ${stack}`;
  return `pulumi config set --secret${stackArg} ${PREFIX}${key} < FILE`;
}

/** Warnings for secrets the program will need but the stack does not set yet. */
export function secretWarnings(stack: StackConfigFile, file: string, stackName?: string): InputIssue[] {
  const needed = SECRET_KEYS.filter((k) => k !== "tlsPrivateKey" || stack.config?.tls !== undefined);
  return needed
    .filter((k) => !stack.secrets[k])
    .map((k) => ({
      file,
      field: k,
      fieldKind: "key" as const,
      rule: "missing-secret",
      severity: "warning" as const,
      message: "secret is not set",
      fix: `\`${secretCommand(k, stackName)}\``,
    }));
}
