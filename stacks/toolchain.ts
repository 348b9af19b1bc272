import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { LocalWorkspace, PulumiCommand, Stack, InlineProgramArgs, LocalWorkspaceOptions } from "@pulumi/pulumi/automation";

/** The repository root, wherever the process was started from. */
export const repoRoot = path.resolve(__dirname, "..");
/** Built by toolchain/setup.sh: the CLI, the plugins' PULUMI_HOME, the SDK. */
export const toolchainDir = path.join(repoRoot, ".toolchain");
/** The lab's and the tests' file state backends and passphrase files (ignored by git). */
export const STATE_DIR = path.join(repoRoot, ".state");

/**
 * The engine's garbage collector, unless the environment sets its own. An
 * `up` rewrites the whole state after every step, and collecting that
 * garbage was 28 % of the engine's CPU in a 200-school cell's `up` from
 * empty (Go's default, GOGC=100). Collecting at 5x the live heap instead
 * of 2x, under a soft limit, took that `up` from 173 to 146 engine CPU
 * seconds, its engine from 1.0 to 1.2 GiB (GOGC=400 alone: 1.9 GiB, past
 * the 1.5 GiB a process may use); bench/RESULTS.md. The plugins, small Go
 * processes, get the same setting.
 */
export const ENGINE_GC = readEngineGc(path.join(repoRoot, "toolchain/engine-gc.env"));

/** GOGC and GOMEMLIMIT from their file, shared with .toolchain/env.sh. */
function readEngineGc(file: string): { GOGC: string; GOMEMLIMIT: string } {
  const values = new Map<string, string>();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = /^([A-Z][A-Z_]*)=([A-Za-z0-9]+)$/.exec(line);
    if (m) values.set(m[1], m[2]);
  }
  const GOGC = values.get("GOGC");
  const GOMEMLIMIT = values.get("GOMEMLIMIT");
  if (!GOGC || !GOMEMLIMIT) throw new Error(`${file}: needs GOGC=… and GOMEMLIMIT=… lines`);
  return { GOGC, GOMEMLIMIT };
}

/** Environment that makes the CLI use the project's own plugins and never download any. */
export function toolchainEnv(): Record<string, string> {
  return {
    PULUMI_HOME: path.join(toolchainDir, "pulumi-home"),
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PATH: `${path.join(toolchainDir, "bin")}:${process.env.PATH ?? ""}`,
    GOGC: process.env.GOGC ?? ENGINE_GC.GOGC,
    GOMEMLIMIT: process.env.GOMEMLIMIT ?? ENGINE_GC.GOMEMLIMIT,
  };
}

/**
 * A passphrase for the file backend's secrets provider, generated once and
 * kept in a 0600 file: it reaches the CLI as PULUMI_CONFIG_PASSPHRASE_FILE,
 * never as an argument or a logged value.
 */
export function ensurePassphraseFile(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, crypto.randomBytes(32).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
  }
  fs.chmodSync(file, 0o600);
  return file;
}

export interface StateLocation {
  /** Folder of the file backend; created if missing. */
  stateDir: string;
  /** Passphrase file for the stack's secrets; created if missing. */
  passphraseFile: string;
}

export function stateEnv(loc: StateLocation): Record<string, string> {
  fs.mkdirSync(loc.stateDir, { recursive: true, mode: 0o700 });
  return {
    PULUMI_BACKEND_URL: `file://${loc.stateDir}`,
    PULUMI_CONFIG_PASSPHRASE_FILE: ensurePassphraseFile(loc.passphraseFile),
  };
}

/** The project's CLI, as built by toolchain/setup.sh. */
export function projectCli(): Promise<PulumiCommand> {
  // Asked once per process: each ask runs `pulumi version`, and a cell
  // worker would otherwise pay it for every stack command it runs.
  cli ??= loadProjectCli().catch((error: unknown) => {
    cli = undefined;
    throw error;
  });
  return cli;
}

let cli: Promise<PulumiCommand> | undefined;

async function loadProjectCli(): Promise<PulumiCommand> {
  const binary = path.join(toolchainDir, "bin", "pulumi");
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} is missing: run \`npm run setup\` first`);
  }
  return PulumiCommand.get({ root: toolchainDir, skipVersionCheck: false });
}

/**
 * Opens (or creates) a stack whose program runs in this process. The
 * Automation API serves the program to the engine itself, so no separate
 * language host binary is involved.
 */
export async function openInlineStack(
  args: InlineProgramArgs,
  loc: StateLocation,
  opts: Omit<LocalWorkspaceOptions, "envVars" | "pulumiCommand"> = {},
): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack(args, {
    ...opts,
    pulumiCommand: await projectCli(),
    envVars: { ...toolchainEnv(), ...stateEnv(loc) },
  });
}
