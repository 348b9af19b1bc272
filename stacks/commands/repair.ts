import { loadFleetInputs } from "../../infra/inputs/fleet-inputs";
import { formatIssue, isError } from "../../infra/inputs/issues";
import { appendRepair, repairLogPath } from "../../infra/inputs/repairs";
import { schoolIdSchema } from "../../schools/schema";
import { parseArgs } from "../../tools/common/cli";
import { INPUT_FLAGS, INPUT_USAGE, inputFiles, UsageError, type Command, type Flags } from "../cli";

const FLAGS = { ...INPUT_FLAGS, reason: "string" } as const;

/**
 * Asks for a school's install to run again: appends a row to the repair log
 * beside the ledger. Nothing runs yet; the next preview shows the install of
 * exactly these schools as an update, and `fleet up` re-runs it.
 */
export const command: Command = {
  name: "repair",
  summary: "mark schools' sites for a fresh run of their install (shown by the next preview, done by up)",
  usage: `SCHOOL_ID... --reason TEXT ${INPUT_USAGE}`,
  run(args, io) {
    const parsed = parseArgs(args, FLAGS);
    const flags = parsed.flags as Flags<typeof FLAGS>;
    const ids = parsed.positional;
    if (ids.length === 0) throw new UsageError("name at least one school id");
    const badId = ids.find((id) => !schoolIdSchema.safeParse(id).success);
    if (badId !== undefined) throw new UsageError(`not an 8-digit school number: ${JSON.stringify(badId)}`);
    const reason = flags.reason?.trim();
    if (!reason) throw new UsageError("--reason is required: it goes into the repair log that reviewers read");
    if (/[\r\n]/.test(reason)) throw new UsageError("--reason must be one line");

    const files = inputFiles(flags, io);
    const inputs = loadFleetInputs(files);
    const errors = [...inputs.ledger.issues, ...inputs.repairs.issues].filter(isError);
    if (errors.length > 0) {
      for (const issue of errors) io.stderr(`${formatIssue(issue)}\n`);
      io.stderr("nothing was written\n");
      return 1;
    }
    const placed = new Set(inputs.ledger.entries.map((e) => e.schoolId));
    const unplaced = ids.filter((id) => !placed.has(id));
    if (unplaced.length > 0) {
      io.stderr(`${files.ledger.shownAs}: no site for ${unplaced.join(", ")}; nothing was written\n`);
      return 1;
    }
    const log = repairLogPath(files.ledger.path);
    const requested = new Date();
    for (const schoolId of new Set(ids)) appendRepair(log, { schoolId, requested, reason });
    io.stdout(
      `${repairLogPath(files.ledger.shownAs)}: repair of ${[...new Set(ids)].join(", ")} requested\n` +
        `review it with \`fleet preview\` (each install shows as one update), then apply with \`fleet up\`\n`,
    );
    return 0;
  },
};
