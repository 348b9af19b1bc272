import { execFile } from "node:child_process";
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation";

export const CELL_KEY = "moodle-fleet:cell";
export const INPUTS_KEY = "moodle-fleet:inputs";

/** The school list and ledger a cell is planned from, relative to the repository root. */
export interface CellInputs {
  schools: string;
  ledger: string;
}

/**
 * Makes a cell stack's config equal to its environment's, plus the cell's
 * name and input files. Plain values go through the Automation API; secrets are written with
 * `pulumi config set --secret` reading the value from stdin, so a secret
 * never appears in a process's arguments.
 */
export async function syncCellConfig(
  stack: Stack,
  envConfig: ConfigMap,
  cell: string,
  cli: { path: string; env: Record<string, string>; cwd: string },
  inputs?: CellInputs,
): Promise<void> {
  const wanted: ConfigMap = { ...envConfig, [CELL_KEY]: { value: JSON.stringify([cell]), secret: false } };
  // Recorded so that a plain `pulumi preview -s <cell stack>` plans from the same files.
  if (inputs) wanted[INPUTS_KEY] = { value: JSON.stringify(inputs), secret: false };
  const current = await stack.getAllConfig();

  const stale = Object.keys(current).filter((k) => !(k in wanted));
  if (stale.length > 0) await stack.removeAllConfig(stale);

  const plain: ConfigMap = {};
  for (const [key, v] of Object.entries(wanted)) {
    if (!v.secret && (current[key]?.value !== v.value || current[key]?.secret)) plain[key] = v;
  }
  if (Object.keys(plain).length > 0) await stack.setAllConfig(plain);

  for (const [key, v] of Object.entries(wanted)) {
    if (v.secret && (current[key]?.value?.trimEnd() !== v.value.trimEnd() || !current[key]?.secret)) {
      await setSecretFromStdin(cli, stack.name, key, v.value);
    }
  }
}

function setSecretFromStdin(
  cli: { path: string; env: Record<string, string>; cwd: string },
  stackName: string,
  key: string,
  value: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cli.path,
      ["config", "set", "--secret", "--stack", stackName, key],
      { cwd: cli.cwd, env: { ...process.env, ...cli.env } },
      (error, _stdout, stderr) => (error ? reject(new Error(`setting secret ${key} on ${stackName}: ${stderr.trim()}`)) : resolve()),
    );
    // A child that fails before reading its input closes the pipe; its exit status reports that.
    child.stdin!.on("error", () => undefined);
    child.stdin!.end(value);
  });
}
