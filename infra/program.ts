import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { configFromValues, parseFleetConfig } from "./config";
import { loadLedger, loadSchoolList, InputError } from "./inputs";
import { buildFleetPlan, selectHypervisors, type FleetPlan } from "./plan";
import { Fleet } from "./components/fleet";
import { readFleetSecrets } from "./components/secrets";

export const CONFIG_NAMESPACE = "moodle-fleet";

export interface FleetProgramOptions {
  /** The school list and the placement ledger. */
  schoolsFile: string;
  ledgerFile: string;
  /** Declare only these hypervisors (a cell); else the config's `cell`, else all. */
  cell?: readonly string[];
}

export const DEFAULT_INPUTS = {
  schoolsFile: path.join(__dirname, "..", "schools", "schools.csv"),
  ledgerFile: path.join(__dirname, "..", "schools", "placement.csv"),
};

/** Validates the inputs and builds the plan; throws an InputError naming every problem. */
export function planFromStackConfig(opts: FleetProgramOptions, config: pulumi.Config): FleetPlan {
  const fleetConfig = parseFleetConfig(configFromValues((key) => config.get(key)), { file: `stack config (${pulumi.getStack()})` });
  const tiers = { names: Object.keys(fleetConfig.tiers), defaultTier: fleetConfig.defaultTier };
  const schoolList = loadSchoolList(opts.schoolsFile, tiers);
  const ledger = loadLedger(opts.ledgerFile);
  const issues = [...schoolList.issues, ...ledger.issues].filter((i) => i.severity !== "warning");
  if (issues.length > 0) throw new InputError(issues, "invalid fleet inputs");
  const plan = buildFleetPlan({
    schools: schoolList.schools,
    config: fleetConfig,
    ledger: ledger.entries,
    files: { schools: opts.schoolsFile, ledger: opts.ledgerFile },
  });
  const cell = opts.cell ?? fleetConfig.cell;
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
    const fleet = new Fleet("fleet", {
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
