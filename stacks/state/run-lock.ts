import { cellStackName } from "../driver/cells";
import { lockStacks, type LockOutcome } from "./locks";
import { openStateStore } from "./store";

/**
 * The fleet lock of an environment's cells for one run, on the backend the
 * run uses (`envVars` as the driver hands them to the CLI, else the
 * process's own PULUMI_BACKEND_URL). Backends the fleet cannot read itself
 * (cloud buckets, Pulumi Cloud) are left to Pulumi's own per-update lock.
 */
export async function lockEnvCells(
  env: string,
  cells: readonly string[],
  operation: string,
  envVars: Record<string, string>,
): Promise<LockOutcome> {
  const url = envVars.PULUMI_BACKEND_URL ?? process.env.PULUMI_BACKEND_URL;
  const store = url ? openStateStore(url, { ...process.env, ...envVars }) : undefined;
  if (!store) return { ok: true, held: { stacks: [], release: async () => {} }, notes: [] };
  return lockStacks(store, cells.map((c) => cellStackName(env, c)), operation, { env });
}
