import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { checkPinnedHostKeys, configFromValues, parseFleetConfig } from "./config";
import {
  checkRepairLog,
  hostRecordPath,
  loadHostRecord,
  loadLedger,
  loadRepairLog,
  loadSchoolList,
  loadUidRecord,
  repairLogPath,
  uidRecordPath,
  InputError,
} from "./inputs";
import { buildFleetPlan, selectHypervisors, type FleetPlan } from "./plan";
import { Fleet } from "./components/fleet";
import { readFleetSecrets } from "./components/secrets";

export const CONFIG_NAMESPACE = "moodle-fleet";

export interface FleetProgramOptions {
  /**
   * The school list and the placement ledger. Default: the files the stack's
   * config names (`inputs`, written by the fleet driver on each cell stack),
   * else schools/schools.csv and schools/placement.csv.
   */
  schoolsFile?: string;
  ledgerFile?: string;
  /** Declare only these hypervisors (a cell); else the config's `cell`. */
  cell?: readonly string[];
}

const REPO_ROOT = path.join(__dirname, "..");

export const DEFAULT_INPUTS = {
  schoolsFile: path.join(REPO_ROOT, "schools", "schools.csv"),
  ledgerFile: path.join(REPO_ROOT, "schools", "placement.csv"),
};

/**
 * The stack names no cell and does not opt into one stack for the whole
 * fleet: most likely `pulumi up -s prod`, the environment's own stack. Going
 * on would declare every school a second time beside the cell stacks.
 */
export function missingCellMessage(stack: string): string {
  const env = stack.replace(/-[^-]+$/, "") || stack;
  return [
    `stack "${stack}" names no cell (moodle-fleet:cell), so it would declare the whole fleet a second time:`,
    `new passwords for every school and volumes adopted from the cells' stacks.`,
    `The fleet runs one stack per hypervisor: use \`fleet preview --env ${env}\` and \`fleet up --env ${env}\`,`,
    `or \`pulumi up -s ${env}-<hypervisor>\` on a cell stack the driver created.`,
    `To declare the whole fleet in this one stack on purpose, set moodle-fleet:singleStack: true.`,
  ].join("\n");
}

/** Validates the inputs and builds the plan; throws an InputError naming every problem. */
export function planFromStackConfig(opts: FleetProgramOptions, config: pulumi.Config): FleetPlan {
  const fleetConfig = parseFleetConfig(configFromValues((key) => config.get(key)), { file: `stack config (${pulumi.getStack()})` });
  const cell = opts.cell ?? fleetConfig.cell;
  if (!cell && !fleetConfig.singleStack) throw new pulumi.RunError(missingCellMessage(pulumi.getStack()));
  const fromConfig = fleetConfig.inputs && {
    schoolsFile: path.resolve(REPO_ROOT, fleetConfig.inputs.schools),
    ledgerFile: path.resolve(REPO_ROOT, fleetConfig.inputs.ledger),
  };
  const schoolsFile = opts.schoolsFile ?? fromConfig?.schoolsFile ?? DEFAULT_INPUTS.schoolsFile;
  const ledgerFile = opts.ledgerFile ?? fromConfig?.ledgerFile ?? DEFAULT_INPUTS.ledgerFile;
  const tiers = { names: Object.keys(fleetConfig.tiers), defaultTier: fleetConfig.defaultTier };
  const schoolList = loadSchoolList(schoolsFile, tiers);
  const ledger = loadLedger(ledgerFile);
  const repairs = loadRepairLog(repairLogPath(ledgerFile));
  // Sizes a host was created with, and site UIDs: recorded beside the ledger.
  const hostRecord = loadHostRecord(hostRecordPath(ledgerFile));
  const uids = loadUidRecord(uidRecordPath(ledgerFile));
  const placed = new Set(ledger.entries.map((e) => e.schoolId));
  const issues = [
    ...schoolList.issues,
    ...ledger.issues,
    ...repairs.issues,
    ...checkRepairLog(repairs, placed),
    ...hostRecord.issues,
    ...uids.issues,
    ...checkPinnedHostKeys(fleetConfig, new Set(ledger.entries.map((e) => e.host)), { file: `stack config (${pulumi.getStack()})` }),
  ].filter(
    (i) => i.severity !== "warning",
  );
  if (issues.length > 0) throw new InputError(issues, "invalid fleet inputs");
  const plan = buildFleetPlan({
    schools: schoolList.schools,
    config: fleetConfig,
    ledger: ledger.entries,
    files: { schools: schoolsFile, ledger: ledgerFile },
    repairs: repairs.counts,
    hosts: hostRecord.hosts,
    uids: uids.bySchool,
  });
  return cell ? selectHypervisors(plan, cell) : plan;
}

/**
 * The Pulumi program: stack config and input files -> plan -> resources ->
 * outputs. Runs the same under `pulumi up`, the fleet driver and mocks.
 */
export function fleetProgram(opts: FleetProgramOptions) {
  return async () => {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const plan = planFromStackConfig(opts, config);
    const fleet = await Fleet.create("fleet", {
      plan,
      secrets: readFleetSecrets(config, plan.settings.tls !== undefined),
    });
    return { ...fleet.inventory, adminPasswords: fleet.adminPasswords };
  };
}

/** The program of one cell, in the form the fleet driver's cell processes load. */
export function fleetCellProgram(inputs: Pick<FleetProgramOptions, "schoolsFile" | "ledgerFile">, cell: string) {
  return fleetProgram({ ...inputs, cell: [cell] });
}
