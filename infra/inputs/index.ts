export * from "./issues";
export { parseCsv, type CsvRecord, type CsvParseResult } from "./csv";
export { parseSchoolList, loadSchoolList, type SchoolList } from "./schools";
export { parseHostName, formatHostName, type HostName } from "./host-name";
export { LEDGER_COLUMNS, parseLedger, loadLedger, serializeLedger, writeLedger, type Ledger, type LedgerEntry } from "./ledger";
export { checkLedger, PLAN_COMMAND, type LedgerContext } from "./ledger-check";
export { loadFleetInputs, type FleetInputFiles, type FleetInputs, type InputFile } from "./fleet-inputs";
export { REPAIR_COLUMNS, appendRepair, checkRepairLog, loadRepairLog, parseRepairLog, repairLogPath, type RepairLog } from "./repairs";
export { writeFilesAtomic, type FileWrite } from "./atomic";
export {
  HOST_RECORD_COLUMNS,
  hostRecordPath,
  loadHostRecord,
  parseHostRecord,
  serializeHostRecord,
  tierSizes,
  type HostRecord,
  type HostRecordEntry,
  type HostSizes,
} from "./host-record";
export { SITE_UID_FIRST, SITE_UID_LAST, UID_COLUMNS, loadUidRecord, parseUidRecord, serializeUidRecord, uidRecordPath, type UidEntry, type UidRecord } from "./uids";
export { checkHostRecord, checkUidRecord, formatDrift, sizeDrift, type SizeDrift } from "./record-check";
