import { existsSync, readFileSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import { parseArgs, processIO, REPO_ROOT, runTool, stringFlag, ToolError, UsageError, userPath, type ToolIO } from "../../tools/common/cli";
import { writeFileAtomic } from "../../tools/common/files";
import { DEFAULT_MAPPING, loadMapping } from "../../tools/import/mapping";
import { describeMerge, mergeSchools, readCurrentList, renderSchoolList } from "../../tools/import/merge";
import { formatProblem, normalizeSheet } from "../../tools/import/normalize";
import { readSheet } from "../../tools/import/sheet";
import { parseTierList, tiersFromStackFile } from "../../tools/import/tiers";

export const summary = "import the ministry's school spreadsheet (xlsx or CSV) into the school list";

export const usage = `usage: fleet import <file.xlsx|file.csv> [--mapping FILE] [--schools FILE] [--tiers a,b] [--sheet NAME] [--dry-run]
  Reads the spreadsheet, maps its headers to id,name,town,email,tier (default
  mapping: tools/import/default-mapping.json; --mapping FILE is a JSON object
  {"Header in the sheet": "id"|"name"|"town"|"email"|"tier"}), checks every
  row and rewrites the school list (default schools/schools.csv) sorted by id.
  The sheet is the complete list: schools missing from it are removed.
  Without a tier column, known schools keep their tier.
  --tiers       allowed tiers (default: the keys of moodle-fleet:tiers in Pulumi.prod.yaml)
  --sheet       worksheet of an xlsx file (default: the first)
  --dry-run     report what would change, write nothing
  School numbers of fewer than 8 digits (a spreadsheet that took the column
  for numbers dropped their leading zeros, in the xlsx or in a CSV exported
  from it) are padded back to 8 digits; each such row is listed as a warning.
  Any invalid row: every problem is listed, nothing is written, exit 1.`;

const SPEC = { mapping: "string", schools: "string", tiers: "string", sheet: "string", "dry-run": "boolean" } as const;

function shown(io: ToolIO, path: string): string {
  const rel = relative(io.cwd, path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}

export async function run(argv: string[], io: ToolIO = processIO()): Promise<number> {
  return runTool("import", usage, argv, io, async () => {
    const args = parseArgs(argv, SPEC);
    if (args.positional.length !== 1) throw new UsageError(args.positional.length === 0 ? "name the spreadsheet to import" : "import one spreadsheet at a time");
    const root = io.root ?? REPO_ROOT;
    const sheetPath = userPath(io, args.positional[0]);
    const mappingFlag = stringFlag(args, "mapping");
    const schoolsFlag = stringFlag(args, "schools");
    const schoolsPath = schoolsFlag === undefined ? resolve(root, "schools/schools.csv") : userPath(io, schoolsFlag);
    const dryRun = args.flags["dry-run"] === true;

    const tiersFlag = stringFlag(args, "tiers");
    let tiers: string[] | undefined;
    if (tiersFlag !== undefined) {
      tiers = parseTierList(tiersFlag);
      if (tiers.length === 0) throw new UsageError("--tiers needs at least one tier name");
    } else {
      const stackFile = resolve(root, "Pulumi.prod.yaml");
      tiers = tiersFromStackFile(stackFile, shown(io, stackFile));
      if (tiers === undefined) io.stderr(`fleet import: note: ${shown(io, stackFile)} not found and no --tiers given; tier names are not checked\n`);
    }

    const mapping = mappingFlag === undefined ? DEFAULT_MAPPING : loadMapping(userPath(io, mappingFlag), shown(io, userPath(io, mappingFlag)));
    const sheetShown = shown(io, sheetPath);
    const sheet = await readSheet(sheetPath, sheetShown, stringFlag(args, "sheet"));
    const result = normalizeSheet(sheet, mapping, { tiers });
    for (const w of result.warnings) io.stderr(`${formatProblem(sheetShown, { ...w, message: `warning: ${w.message}` })}\n`);
    if (result.problems.length > 0) {
      for (const p of result.problems) io.stderr(`${formatProblem(sheetShown, p)}\n`);
      const rows = new Set(result.problems.map((p) => p.row)).size;
      io.stderr(`fleet import: ${result.problems.length} problem(s) in ${rows} row(s) of ${sheetShown}; nothing was written\n`);
      return 1;
    }
    if (result.rows.length === 0) throw new ToolError(`${sheetShown}: no school rows below the header (row ${result.headerRow})`);

    const schoolsShown = shown(io, schoolsPath);
    const current = readCurrentList(schoolsPath, schoolsShown);
    const merged = mergeSchools(
      current,
      result.rows.map((r) => r.school),
      result.columns.tier !== undefined,
    );

    const source =
      sheet.kind === "xlsx" ? `worksheet ${JSON.stringify(sheet.worksheet)}` : `CSV, ${sheet.encoding}, delimiter ${JSON.stringify(sheet.delimiter)}`;
    io.stdout(`${sheetShown} (${source}): ${result.rows.length} schools, header in row ${result.headerRow}\n`);
    if (result.ignored.length > 0) io.stdout(`  columns not imported: ${result.ignored.map((h) => JSON.stringify(h)).join(", ")}\n`);
    if (result.columns.tier === undefined) io.stdout("  no tier column: known schools keep their tier, new ones get the default tier\n");
    io.stdout(
      `${schoolsShown}: ${merged.added.length} added, ${merged.changed.length} changed, ${merged.removed.length} removed, ${merged.unchanged} unchanged\n`,
    );
    for (const line of describeMerge(merged)) io.stdout(`${line}\n`);
    if (merged.removed.length > 0)
      io.stdout(`  note: removed schools lose their site at the next \`pulumi up\`; check the preview before applying\n`);

    const text = renderSchoolList(merged.schools);
    if (dryRun) {
      io.stdout("dry run: nothing written\n");
      return 0;
    }
    const same = existsSync(schoolsPath) && readFileSafe(schoolsPath) === text;
    if (same) {
      io.stdout(`${schoolsShown} is already up to date\n`);
      return 0;
    }
    const mode = existsSync(schoolsPath) ? statSync(schoolsPath).mode & 0o777 : 0o644;
    writeFileAtomic(schoolsPath, text, mode);
    io.stdout(`wrote ${schoolsShown}\n`);
    return 0;
  });
}

function readFileSafe(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Picked up by the fleet dispatcher (stacks/cli.ts). */
export const command = {
  name: "import",
  summary,
  usage: usage.replace(/^usage: fleet import /, ""),
  run: (args: string[], io: ToolIO) => run(args, io),
};

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`fleet import: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
