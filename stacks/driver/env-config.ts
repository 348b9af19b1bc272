import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import { SECRET_KEYS } from "../../infra/config";

const NS = "moodle-fleet";

/**
 * The config every cell of an environment shares: the plain values of
 * Pulumi.<env>.yaml, and its secrets. Secrets come from the environment's
 * own stack when the file holds encrypted values (`pulumi config set
 * --secret -s prod …`), or from a directory of 0600 files named after the
 * keys (the lab generates its secrets there, leaving Pulumi.lab.yaml as
 * committed).
 */
export async function environmentConfig(
  stackFile: string,
  openEnvStack: () => Promise<Stack>,
  secretsDir?: string,
): Promise<ConfigMap> {
  const doc = (parse(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: ConfigMap = {};
  let encrypted = false;
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (value && typeof value === "object" && "secure" in value) {
      encrypted = true;
      continue;
    }
    config[key] = { value: typeof value === "string" ? value : JSON.stringify(value), secret: false };
  }
  if (encrypted) {
    for (const [key, v] of Object.entries(await (await openEnvStack()).getAllConfig())) {
      if (v.secret) config[key] = v;
    }
  }
  if (secretsDir) {
    for (const name of SECRET_KEYS) {
      const file = path.join(secretsDir, name);
      if (!fs.existsSync(file)) continue;
      if ((fs.statSync(file).mode & 0o077) !== 0) throw new Error(`${file} must be readable by its owner only (chmod 600)`);
      config[`${NS}:${name}`] = { value: fs.readFileSync(file, "utf8"), secret: true };
    }
  }
  return config;
}
