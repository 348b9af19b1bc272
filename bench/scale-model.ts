// How long a fleet takes to converge from empty, from a few measured terms:
// what one VM, one host bootstrap and one site install take on the real
// hardware, and what the engine costs per resource on the operator's
// machine. README, "Scale", explains the terms and where each was measured.
//   npx tsx bench/scale-model.ts [--schools 4000] [--install 45] [--bootstrap 300] …
// Every option is a term of ModelInput; the output is the prediction and its parts.

import { resourceCount } from "../infra/components/fleet";

export interface ModelInput {
  schools: number;
  sitesPerHost: number;
  hostsPerHypervisor: number;
  /** Installs that run at once on one host (the stack's installsPerHost). */
  installsPerHost: number;
  /** Cells (hypervisors' stacks) the driver runs at once (`--parallel`). */
  parallel: number;
  /** Seconds from the domain's creation to the VM answering SSH. */
  vmSeconds: number;
  /** Seconds of one host's bootstrap (packages, PHP, MariaDB, Redis, the release). */
  bootstrapSeconds: number;
  /** Seconds of one site's install while installsPerHost run on its host. */
  installSeconds: number;
  /** The engine's and program's CPU seconds per resource on the operator's machine. */
  engineCpuSecondsPerResource: number;
  /** Cores of the operator's machine. */
  operatorCores: number;
  /** Concurrent steps the driver allows the engine in one cell (stacks/driver/cell-worker.ts). */
  enginePerCell: number;
  /** Sites on the fullest host, when the ledger spreads them (the lab: 3 of 4 slots); default every slot. */
  sitesOnBusiestHost?: number;
}

export interface ModelOutput {
  hypervisors: number;
  hosts: number;
  resources: number;
  /** Installs that run at once on one host: installsPerHost, unless the cell's engine allows fewer. */
  effectiveInstallsPerHost: number;
  installRounds: number;
  /** One cell's hardware path: VM, bootstrap, then its hosts' install rounds side by side. */
  cellSeconds: number;
  /** Cells one after the other in rounds of `parallel`. */
  hardwareSeconds: number;
  /** The engine's CPU for every resource, spread over the cores the cells can use. */
  engineSeconds: number;
  /** The two overlap (the engine works while installs run): the larger one bounds the run. */
  totalSeconds: number;
  bound: "hardware" | "engine";
}

export function predictConverge(m: ModelInput): ModelOutput {
  const hosts = Math.ceil(m.schools / m.sitesPerHost);
  const hypervisors = Math.ceil(hosts / m.hostsPerHypervisor);
  const resources = resourceCount(hypervisors, hosts, m.schools);
  const sitesOnBusiestHost = m.sitesOnBusiestHost ?? Math.min(m.sitesPerHost, m.schools);
  const hostsInCell = Math.min(m.hostsPerHypervisor, hosts);
  const effectiveInstallsPerHost = Math.max(1, Math.min(m.installsPerHost, Math.floor(m.enginePerCell / hostsInCell)));
  const installRounds = Math.ceil(sitesOnBusiestHost / effectiveInstallsPerHost);
  const cellSeconds = m.vmSeconds + m.bootstrapSeconds + installRounds * m.installSeconds;
  const hardwareSeconds = Math.ceil(hypervisors / m.parallel) * cellSeconds;
  const engineSeconds = (resources * m.engineCpuSecondsPerResource) / Math.min(m.operatorCores, m.parallel);
  const totalSeconds = Math.max(hardwareSeconds, engineSeconds);
  return {
    hypervisors,
    hosts,
    resources,
    effectiveInstallsPerHost,
    installRounds,
    cellSeconds,
    hardwareSeconds,
    engineSeconds,
    totalSeconds,
    bound: hardwareSeconds >= engineSeconds ? "hardware" : "engine",
  };
}

export const DEFAULTS: ModelInput = {
  schools: 4000,
  sitesPerHost: 50,
  hostsPerHypervisor: 4,
  installsPerHost: 4,
  parallel: 2,
  vmSeconds: 60,
  bootstrapSeconds: 300,
  installSeconds: 180,
  engineCpuSecondsPerResource: 0.05,
  operatorCores: 2,
  enginePerCell: 16,
};

function parseArgs(argv: readonly string[]): ModelInput {
  const m = { ...DEFAULTS };
  for (let k = 0; k < argv.length; k += 2) {
    const key = argv[k].replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof ModelInput;
    const value = Number(argv[k + 1]);
    if (!Object.hasOwn(DEFAULTS, key) && key !== "sitesOnBusiestHost") throw new Error(`unknown term ${argv[k]} (terms: ${[...Object.keys(DEFAULTS), "sitesOnBusiestHost"].join(", ")})`);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${argv[k]} needs a positive number, not ${argv[k + 1] ?? "nothing"}`);
    m[key] = value;
  }
  return m;
}

if (require.main === module) {
  try {
    const input = parseArgs(process.argv.slice(2));
    const out = predictConverge(input);
    const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
    console.log(JSON.stringify(input));
    console.log(
      `${input.schools} schools: ${out.hypervisors} cells, ${out.hosts} hosts, ${out.resources} resources; ` +
        `${out.installRounds} install rounds of ${out.effectiveInstallsPerHost} per host; one cell ${minutes(out.cellSeconds)}; ` +
        `hardware ${minutes(out.hardwareSeconds)}, engine ${minutes(out.engineSeconds)}: about ${minutes(out.totalSeconds)}, bound by the ${out.bound}`,
    );
  } catch (error) {
    console.error(`scale-model: ${(error as Error).message}`);
    process.exit(2);
  }
}
