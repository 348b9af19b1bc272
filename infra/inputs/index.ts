export * from "./issues";
export { parseCsv, type CsvRecord, type CsvParseResult } from "./csv";
export { parseSchoolList, loadSchoolList, type SchoolList } from "./schools";
export { parseHostName, formatHostName, type HostName } from "./host-name";
export { LEDGER_COLUMNS, parseLedger, loadLedger, serializeLedger, writeLedger, type Ledger, type LedgerEntry } from "./ledger";
export { checkLedger, PLAN_COMMAND, type LedgerContext } from "./ledger-check";
export { loadFleetInputs, type FleetInputFiles, type FleetInputs, type InputFile } from "./fleet-inputs";
export { REPAIR_COLUMNS, appendRepair, checkRepairLog, loadRepairLog, parseRepairLog, repairLogPath, type RepairLog } from "./repairs";
