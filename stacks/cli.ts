import { existsSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { FleetInputFiles, InputFile } from "../infra/inputs/fleet-inputs";
import { parseArgs, UsageError } from "../tools/common/cli";

/** Where a command writes and how it resolves paths. */
export interface CommandIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Directory relative paths on the command line are resolved against. */
  cwd: string;
  /** The repository root: home of the default school list, ledger and stack files. */
  root: string;
  /** Where a command reads a confirmation; absent: nothing can be confirmed. */
  stdin?: NodeJS.ReadableStream;
}

/**
 * A `fleet` subcommand. A module stacks/commands/<name>.ts that exports
 * `command` (with that name) is picked up, so new subcommands need no
 * change here.
 * `run` returns the exit code: 0 ok, 1 problems found, 2 bad usage
 * (`fleet preview` adds codes of its own for what the plan changes).
 */
export interface Command {
  name: string;
  summary: string;
  /** Argument synopsis, e.g. "[--write] [--schools FILE]". */
  usage: string;
  run(args: string[], io: CommandIO): number | Promise<number>;
}

// One command-line grammar for every fleet command (tools/common/cli.ts).
export { UsageError };

/** "strings": a flag that may be given more than once (`--allow-move A --allow-move B`), read as a list. */
export type FlagSpec = Record<string, "boolean" | "string" | "strings">;
export type Flags<S extends FlagSpec> = { [K in keyof S]?: S[K] extends "boolean" ? boolean : S[K] extends "strings" ? string[] : string };

/**
 * A flag's value as a whole number of at least 1: `fallback` when the flag
 * is not given (required when there is none), and a usage error naming the
 * flag and what was given otherwise. `unit` names what is counted.
 */
export function positiveInteger(name: string, given: string | undefined, fallback?: number, unit = ""): number {
  if (given === undefined && fallback !== undefined) return fallback;
  if (given === undefined || !/^[1-9][0-9]*$/.test(given)) {
    throw new UsageError(`--${name} must be a whole number${unit ? ` of ${unit}` : ""} of at least 1 (${JSON.stringify(given ?? "")})`);
  }
  return Number(given);
}

/** Parses `--name value`, `--name=value`, boolean `--name` and repeatable `--name value`; nothing positional. */
export function parseFlags<S extends FlagSpec>(args: readonly string[], spec: S): Flags<S> {
  // Repeatable flags are taken out first; the shared grammar refuses a flag given twice.
  const lists: Record<string, string[]> = {};
  const rest: string[] = [];
  for (let k = 0; k < args.length; k += 1) {
    if (args[k] === "--") {
      rest.push(...args.slice(k));
      break;
    }
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(args[k]);
    if (!m || spec[m[1]] !== "strings") {
      rest.push(args[k]);
      continue;
    }
    const [, name, inline] = m;
    const value = inline ?? args[k + 1];
    if (inline === undefined) k += 1;
    if (value === undefined || value === "" || (inline === undefined && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    lists[name] = [...(lists[name] ?? []), value];
  }
  const single = Object.fromEntries(Object.entries(spec).filter(([, kind]) => kind !== "strings")) as Record<string, "boolean" | "string">;
  const { flags, positional } = parseArgs(rest, single);
  if (positional.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  return { ...flags, ...lists } as Flags<S>;
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

const COMMANDS_DIR = join(__dirname, "commands");

/** Loads one command module; `<name>.ts` must export `command` named `<name>`. */
function loadCommand(file: string): Command | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as { command?: Command };
  return mod.command && typeof mod.command.run === "function" ? mod.command : undefined;
}

/**
 * Every command in `dir`. A module that fails to load is listed in
 * `broken` instead of taking the other commands down with it.
 */
export function loadCommands(dir = COMMANDS_DIR): { commands: Command[]; broken: string[] } {
  const commands: Command[] = [];
  const broken: string[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!/^[a-z][a-z0-9-]*\.ts$/.test(file)) continue;
    try {
      const command = loadCommand(join(dir, file));
      if (command) commands.push(command);
    } catch (error) {
      broken.push(`${file}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
  }
  commands.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { commands, broken };
}

function usage({ commands, broken }: { commands: readonly Command[]; broken: readonly string[] }): string {
  const width = Math.max(0, ...commands.map((c) => c.name.length));
  return [
    "usage: fleet <command> [options]",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    ...(broken.length > 0 ? ["", "commands that failed to load:", ...broken.map((b) => `  ${b}`)] : []),
    "",
    "`fleet <command> --help` shows a command's options.",
  ].join("\n");
}

/**
 * Runs `fleet <command> ...`. Only the named command's module is loaded,
 * so a quick `fleet validate` does not pay for the Pulumi automation
 * modules other commands import.
 */
export async function main(argv: readonly string[], io: CommandIO, commands?: Command[]): Promise<number> {
  const [name, ...rest] = argv;
  const all = () => (commands ? { commands, broken: [] } : loadCommands());
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout)(`${usage(all())}\n`);
    return name === undefined ? 2 : 0;
  }
  const file = join(COMMANDS_DIR, `${name}.ts`);
  const command = commands
    ? commands.find((c) => c.name === name)
    : /^[a-z][a-z0-9-]*$/.test(name) && existsSync(file)
      ? loadCommand(file)
      : undefined;
  if (!command || command.name !== name) {
    io.stderr(`fleet: unknown command ${JSON.stringify(name)}\n\n${usage(all())}\n`);
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
    stdin: process.stdin,
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
