import { readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { FleetInputFiles, InputFile } from "../infra/inputs/fleet-inputs";

/** Where a command writes and how it resolves paths. */
export interface CommandIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Directory relative paths on the command line are resolved against. */
  cwd: string;
  /** The repository root: home of the default school list, ledger and stack files. */
  root: string;
}

/**
 * A `fleet` subcommand. Any module in stacks/commands/ that exports
 * `command` is picked up, so new subcommands need no change here.
 * `run` returns the exit code: 0 ok, 1 problems found, 2 bad usage.
 */
export interface Command {
  name: string;
  summary: string;
  /** Argument synopsis, e.g. "[--write] [--schools FILE]". */
  usage: string;
  run(args: string[], io: CommandIO): number | Promise<number>;
}

/** Bad command line; the dispatcher prints usage and exits 2. */
export class UsageError extends Error {}

export type FlagSpec = Record<string, "boolean" | "string">;
export type Flags<S extends FlagSpec> = { [K in keyof S]?: S[K] extends "boolean" ? boolean : string };

/** Parses `--name value`, `--name=value` and boolean `--name`; nothing positional. */
export function parseFlags<S extends FlagSpec>(args: readonly string[], spec: S): Flags<S> {
  const flags: Record<string, string | boolean> = {};
  for (let k = 0; k < args.length; k += 1) {
    const arg = args[k];
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const [, name, inline] = m;
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`unknown option --${name}`);
    if (name in flags) throw new UsageError(`--${name} given twice`);
    if (kind === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else {
      const value = inline ?? args[++k];
      if (value === undefined || value === "" || (inline === undefined && value.startsWith("--")))
        throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    }
  }
  return flags as Flags<S>;
}

/** Resolves a path given on the command line, or a default under the repo root. */
export function inputPath(io: CommandIO, given: string | undefined, fallback: string): { path: string; shownAs: string } {
  const path = given === undefined ? resolve(io.root, fallback) : resolve(io.cwd, given);
  const rel = relative(io.cwd, path);
  return { path, shownAs: rel === "" || rel.startsWith("..") ? path : rel };
}

/** Options every command reading the fleet's inputs accepts. */
export const INPUT_FLAGS = { schools: "string", ledger: "string", stack: "string", config: "string" } as const;
export const INPUT_USAGE = "[--schools FILE] [--ledger FILE] [--stack NAME | --config FILE]";

/**
 * Input files from flags: the school list and ledger under schools/, and
 * Pulumi.<stack>.yaml (stack "prod" unless given; --config names a stack
 * file directly).
 */
export type ResolvedInputFiles = FleetInputFiles & Record<"schools" | "ledger" | "stackConfig", Required<InputFile>>;

export function inputFiles(flags: Flags<typeof INPUT_FLAGS>, io: CommandIO): ResolvedInputFiles {
  const stack = flags.stack ?? "prod";
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`not a stack name: ${JSON.stringify(stack)}`);
  if (flags.stack !== undefined && flags.config !== undefined) throw new UsageError("give --stack or --config, not both");
  return {
    schools: inputPath(io, flags.schools, "schools/schools.csv"),
    ledger: inputPath(io, flags.ledger, "schools/placement.csv"),
    stackConfig: inputPath(io, flags.config, `Pulumi.${stack}.yaml`),
    stack: flags.config === undefined ? stack : undefined,
  };
}

export function loadCommands(dir = join(__dirname, "commands")): Command[] {
  const commands: Command[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!/^[a-z][a-z0-9-]*\.ts$/.test(file) || file.endsWith(".d.ts")) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(join(dir, file)) as { command?: Command };
    if (mod.command && typeof mod.command.run === "function") commands.push(mod.command);
  }
  return commands.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function usage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "usage: fleet <command> [options]",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "`fleet <command> --help` shows a command's options.",
  ].join("\n");
}

export async function main(argv: readonly string[], io: CommandIO, commands = loadCommands()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout)(`${usage(commands)}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`fleet: unknown command ${JSON.stringify(name)}\n\n${usage(commands)}\n`);
    return 2;
  }
  const commandUsage = `usage: fleet ${command.name} ${command.usage}\n  ${command.summary}\n`;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(commandUsage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`fleet ${command.name}: ${error.message}\n${commandUsage}`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) {
  const io: CommandIO = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    root: resolve(__dirname, ".."),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`fleet: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
