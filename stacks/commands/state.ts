import * as path from "node:path";
import { parseArgs } from "../../tools/common/cli";
import { UsageError, type Command, type CommandIO } from "../cli";
import { backendEnv, requireEnv } from "../driver/fleet-command";
import { knownEnvs, listProjectStacks, sortEnvStacks } from "../driver/env-stacks";
import { cellStackName } from "../driver/cells";
import { backupStacks, restoreStack, StateError } from "../state/backup";
import { breakFleetLocks, describeHolder, fleetLockKey, lockStacks, pulumiLockPrefix } from "../state/locks";
import { openStateStore } from "../state/store";

const USAGE = [
  "backup --env NAME --out DIR | restore --env NAME --file EXPORT [--cell NAME] | locks --env NAME | unlock --env NAME --cells hv01,hv02",
  "  backup   every stack of the environment (`pulumi stack export`, secrets stay encrypted) into",
  "           DIR/<env>-<UTC time>/ (mode 0700, files 0600) with a manifest of digests",
  "  restore  puts one export back (`pulumi stack import`) after checking it: it parses, names the",
  "           same stack and project, matches its manifest, and neither it nor the stack has pending",
  "           operations. The stack is the one the export names, or <env>-<cell> with --cell.",
  "  locks    who holds the fleet's and Pulumi's locks of the environment's stacks",
  "  unlock   removes fleet locks left by a run that is gone (check its host first)",
].join("\n");

const FLAGS = { env: "string", out: "string", file: "string", cell: "string", cells: "string", stacks: "string" } as const;

function backendVars(env: string): { envVars: Record<string, string>; url: string | undefined } {
  const envVars = backendEnv(env);
  return { envVars, url: envVars.PULUMI_BACKEND_URL ?? process.env.PULUMI_BACKEND_URL };
}

/** Every stack of `env` on the backend: its own (shared secrets) and its cells', configured or not. */
async function envStacks(env: string, envVars: Record<string, string>): Promise<string[]> {
  const all = await listProjectStacks(envVars);
  const sorted = sortEnvStacks(env, [], all, knownEnvs());
  const own = all.some((s) => s.name.split("/").pop() === env) ? [env] : [];
  return [...own, ...[...sorted.strays, ...sorted.emptyStrays].map((s) => s.name)].sort();
}

async function run(args: string[], io: CommandIO): Promise<number> {
  const [sub, ...rest] = args;
  const { flags, positional } = parseArgs(rest, FLAGS);
  if (positional.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  const f = flags as { [K in keyof typeof FLAGS]?: string };
  const env = requireEnv(f.env);
  const { envVars, url } = backendVars(env);

  switch (sub) {
    case "backup": {
      if (!f.out) throw new UsageError("backup needs --out DIR");
      const stacks = await envStacks(env, envVars);
      if (stacks.length === 0) {
        io.stderr(`fleet state backup: the backend holds no stack of environment "${env}"; nothing was written\n`);
        return 1;
      }
      const { dir, manifest } = await backupStacks({ env, stacks, outRoot: path.resolve(io.cwd, f.out), envVars });
      for (const s of manifest.stacks) io.stdout(`${s.stack}\t${s.resources} resources\t${path.join(dir, s.file)}\n`);
      io.stderr(`backed up ${manifest.stacks.length} stack(s) to ${dir}\n`);
      return 0;
    }
    case "restore": {
      if (!f.file) throw new UsageError("restore needs --file EXPORT (a file written by `fleet state backup`)");
      const file = path.resolve(io.cwd, f.file);
      const stack = f.cell ? cellStackName(env, f.cell) : path.basename(file).replace(/\.json$/, "");
      if (stack !== env && !stack.startsWith(`${env}-`)) {
        throw new UsageError(`${path.basename(file)} names stack ${stack}, which is not of environment "${env}"; give --cell`);
      }
      const store = url ? openStateStore(url, { ...process.env, ...envVars }) : undefined;
      const lock = store ? await lockStacks(store, [stack], `fleet state restore --env ${env}`, { env }) : undefined;
      if (lock && !lock.ok) {
        io.stderr(`fleet state restore: ${lock.message}\n`);
        return 1;
      }
      try {
        const r = await restoreStack({ stack, file, envVars });
        io.stdout(`restored ${stack}: ${r.resources} resources${r.created ? " (the stack was created)" : ""}\n`);
        io.stderr(`next: \`fleet preview --env ${env}\` shows how the restored state differs from the fleet's inputs\n`);
        return 0;
      } catch (error) {
        if (!(error instanceof StateError)) throw error;
        io.stderr(`fleet state restore: ${error.message}; nothing was changed\n`);
        return 1;
      } finally {
        if (lock?.ok) await lock.held.release();
      }
    }
    case "locks":
    case "unlock": {
      const store = url ? openStateStore(url, { ...process.env, ...envVars }) : undefined;
      if (!store) {
        io.stderr(`fleet state ${sub}: the fleet reads locks of file:// and postgres:// backends only\n`);
        return 1;
      }
      if (sub === "unlock") {
        const stacks = f.cells ? f.cells.split(",").map((c) => cellStackName(env, c.trim())) : f.stacks?.split(",").map((s) => s.trim());
        if (!stacks || stacks.length === 0) throw new UsageError("unlock needs --cells hv01,hv02 (or --stacks NAME,…)");
        const removed = await breakFleetLocks(store, stacks);
        for (const r of removed) io.stdout(`removed the fleet lock of ${r.stack} (${describeHolder(r.holder)})\n`);
        if (removed.length === 0) io.stdout("no fleet lock held on those stacks\n");
        return 0;
      }
      let n = 0;
      for (const stack of await envStacks(env, envVars)) {
        for (const o of await store.list(fleetLockKey(stack))) {
          n++;
          io.stdout(`${stack}\tfleet\t${describeHolder(safeHolder(o.data))}\n`);
        }
        for (const o of await store.list(pulumiLockPrefix(stack))) {
          n++;
          io.stdout(`${stack}\tpulumi\t${describeHolder(safeHolder(o.data))}\n`);
        }
      }
      if (n === 0) io.stderr("no locks held\n");
      return 0;
    }
    default:
      throw new UsageError(sub === undefined ? "name a subcommand: backup, restore, locks or unlock" : `unknown subcommand ${JSON.stringify(sub)}`);
  }
}

function safeHolder(text: string) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `fleet state`: backups, restores and locks of an environment's state on its backend. */
export const command: Command = {
  name: "state",
  summary: "back up, restore and inspect the locks of an environment's stacks on the state backend",
  usage: USAGE,
  run,
};
