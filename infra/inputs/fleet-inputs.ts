import { existsSync } from "node:fs";
import { basename } from "node:path";
import { SECRET_KEYS, type FleetConfig, type SecretKey } from "../config/schema";
import { loadStackConfig, secretWarnings, type StackConfigFile } from "../config/stack-file";
import { checkPinnedHostKeys } from "../config/validate";
import { isError, sortIssues, type InputIssue } from "./issues";
import { loadLedger, type Ledger } from "./ledger";
import { checkLedger } from "./ledger-check";
import { loadSchoolList, type SchoolList } from "./schools";
import { checkRepairLog, loadRepairLog, repairLogPath, type RepairLog } from "./repairs";
import { hostRecordPath, loadHostRecord, type HostRecord } from "./host-record";
import { checkHostRecord, checkUidRecord } from "./record-check";
import { loadUidRecord, uidRecordPath, type UidRecord } from "./uids";

/** A path to read and the way to show it in messages. */
export interface InputFile {
  path: string;
  shownAs?: string;
}

export interface FleetInputFiles {
  schools: InputFile;
  ledger: InputFile;
  stackConfig: InputFile;
  /** Stack name, for the `pulumi config set` hints. */
  stack?: string;
}

export interface FleetInputs {
  config?: FleetConfig;
  secrets: Record<SecretKey, boolean>;
  schoolList: SchoolList;
  ledger: Ledger;
  /** Repair requests beside the ledger (repairs.csv). */
  repairs: RepairLog;
  /** Sizes each placed host was created with (hosts.csv beside the ledger). */
  hosts: HostRecord;
  /** Site UIDs per school (uids.csv beside the ledger). */
  uids: UidRecord;
  /** Every error and warning of all three inputs, by file and line. */
  issues: InputIssue[];
  /** True when no issue is an error. */
  ok: boolean;
}

/**
 * Reads and cross-checks school list, stack config and ledger, reporting
 * all problems at once. When the config is broken the list is still
 * checked (without the tier rule); the ledger is only checked against list
 * and config when the config loaded.
 */
export function loadFleetInputs(files: FleetInputFiles): FleetInputs {
  const shown = (f: InputFile) => f.shownAs ?? f.path;
  const missing = (f: InputFile): InputIssue => ({ file: shown(f), rule: "missing-file", message: "file not found" });
  const stack: StackConfigFile = existsSync(files.stackConfig.path)
    ? loadStackConfig(files.stackConfig.path, shown(files.stackConfig))
    : {
        secrets: Object.fromEntries(SECRET_KEYS.map((k) => [k, false])) as Record<SecretKey, boolean>,
        issues: [missing(files.stackConfig)],
      };
  const config = stack.config;
  const tiers = config && { names: Object.keys(config.tiers), defaultTier: config.defaultTier };
  const schoolList: SchoolList = existsSync(files.schools.path)
    ? loadSchoolList(files.schools.path, tiers, shown(files.schools))
    : { schools: [], idLines: new Map(), issues: [missing(files.schools)] };
  const ledger = loadLedger(files.ledger.path, shown(files.ledger));
  // The records beside the ledger are shown the way the ledger is.
  const beside = (pathOf: (ledger: string) => string) => [pathOf(files.ledger.path), pathOf(shown(files.ledger))] as const;
  const repairs = loadRepairLog(...beside(repairLogPath));
  const hosts = loadHostRecord(...beside(hostRecordPath));
  const uids = loadUidRecord(...beside(uidRecordPath));
  const cross = config
    ? checkLedger(ledger.entries, ledger.file, {
        config,
        schools: schoolList.schools,
        idLines: schoolList.idLines,
        schoolsFile: shown(files.schools),
      })
    : [];
  const issues = sortIssues([
    ...stack.issues,
    ...(config ? secretWarnings(stack, shown(files.stackConfig), files.stack) : []),
    ...schoolList.issues,
    ...ledger.issues,
    ...cross,
    ...repairs.issues,
    ...checkRepairLog(repairs, new Set(ledger.entries.map((e) => e.schoolId))),
    ...hosts.issues,
    ...(config ? checkHostRecord(hosts, ledger.entries, { config, schools: schoolList.schools, env: files.stack ?? envOf(files.stackConfig.path) }) : []),
    ...uids.issues,
    ...checkUidRecord(uids, ledger.entries),
    // A pin for a VM the ledger does not place checks nothing: a misspelt name would leave the real VM unchecked.
    ...(config
      ? checkPinnedHostKeys(config, new Set(ledger.entries.map((e) => e.host)), { file: shown(files.stackConfig), locate: stack.locate })
      : []),
  ]);
  return { config, secrets: stack.secrets, schoolList, ledger, repairs, hosts, uids, issues, ok: !issues.some(isError) };
}

/** The environment a stack file is for, from its name (Pulumi.<env>.yaml), for hints. */
function envOf(stackFile: string): string {
  return /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(basename(stackFile))?.[1] ?? "ENV";
}
