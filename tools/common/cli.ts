import { resolve } from "node:path";

/**
 * What a tool needs from its caller. The fleet dispatcher's own IO object
 * fits this shape, so the commands work both under `fleet` and on their own.
 */
export interface ToolIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Relative paths on the command line are resolved against this. */
  cwd: string;
  /** Repository root: home of default files such as Pulumi.prod.yaml. */
  root?: string;
}

/** The repository root, two levels above this file. */
export const REPO_ROOT = resolve(__dirname, "..", "..");

export function processIO(): ToolIO {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    cwd: process.cwd(),
    root: REPO_ROOT,
  };
}

/** A bad command line: the command prints its usage and exits 2. */
export class UsageError extends Error {}

/** A problem with an input file or the environment: printed, exit 1. */
export class ToolError extends Error {}

export type ArgSpec = Record<string, "boolean" | "string">;
export interface ParsedArgs {
  flags: Record<string, string | boolean | undefined>;
  positional: string[];
}

/**
 * Parses `--name value`, `--name=value`, boolean `--name` and positional
 * arguments (a lone `--` ends the options).
 */
export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  let optionsEnded = false;
  for (let k = 0; k < argv.length; k += 1) {
    const arg = argv[k];
    if (optionsEnded || !arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    if (arg === "--") {
      optionsEnded = true;
      continue;
    }
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const [, name, inline] = m;
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`unknown option --${name}`);
    if (name in flags) throw new UsageError(`--${name} given twice`);
    if (kind === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = inline ?? argv[k + 1];
    if (inline === undefined) k += 1;
    if (value === undefined || value === "" || (inline === undefined && value.startsWith("--")))
      throw new UsageError(`--${name} needs a value`);
    flags[name] = value;
  }
  return { flags, positional };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === "string" ? v : undefined;
}

export function requireFlag(args: ParsedArgs, name: string): string {
  const v = stringFlag(args, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

/** Path as given on the command line, resolved against the caller's directory. */
export function userPath(io: ToolIO, given: string): string {
  return resolve(io.cwd, given);
}

/**
 * Runs a command body with the common conventions: `--help` prints usage,
 * UsageError exits 2 with usage, ToolError exits 1 with its message.
 */
export async function runTool(
  name: string,
  usage: string,
  argv: readonly string[],
  io: ToolIO,
  body: () => Promise<number>,
): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(`${usage}\n`);
    return 0;
  }
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`fleet ${name}: ${error.message}\n${usage}\n`);
      return 2;
    }
    if (error instanceof ToolError) {
      io.stderr(`fleet ${name}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
