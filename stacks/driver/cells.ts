/** A cell is one hypervisor; its stack is `<env>-<hypervisor>`. */
export function cellStackName(env: string, cell: string): string {
  return `${env}-${cell}`;
}

/** The cells to run: all hypervisors of the config, or the requested subset (each must exist). */
export function selectCells(all: readonly string[], requested: readonly string[] | undefined): string[] {
  if (!requested || requested.length === 0) return [...all];
  const unknown = requested.filter((c) => !all.includes(c));
  if (unknown.length > 0) {
    throw new Error(`unknown cell(s) ${unknown.join(", ")}: the config has ${all.join(", ")}`);
  }
  return [...new Set(requested)];
}

/** Runs `work` over `items` with at most `limit` at once; every item runs, failures are returned, not thrown. */
export async function boundedAll<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      results[k] = await work(items[k]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
