import { writeFilesAtomic } from "../../infra/inputs/atomic";
import { loadFleetInputs } from "../../infra/inputs/fleet-inputs";
import { growDataDisk, hostRecordPath, serializeHostRecord } from "../../infra/inputs/host-record";
import { formatIssue, isError } from "../../infra/inputs/issues";
import { INPUT_FLAGS, inputFiles, parseFlags, positiveInteger, UsageError, type Command } from "../cli";

const FLAGS = { ...INPUT_FLAGS, env: "string", host: "string", gib: "string" } as const;

/** Large enough for any disk a hypervisor pool holds; a typo with three extra zeros is not. */
export const MAX_DATA_DISK_GIB = 65536;

/**
 * Grows one host's data disk, as a reviewed change: it raises the host's
 * `data_disk_gib` in hosts.csv (beside the ledger) and nothing else. The
 * operator commits that row; the next `fleet preview` shows the change and
 * `fleet up` applies it. The data volume is never replaced for it: libvirt
 * provider 0.7.6 replaces a volume whose size changes, so the volume ignores
 * `size` after creation and the growth is done in place on the running VM
 * (the hypervisor grows the disk, the guest its file system).
 */
export const command: Command = {
  name: "grow-disk",
  summary: "grow one host's data disk (records the new size in hosts.csv; preview and up apply it)",
  usage: `--env ENV --host HOST --gib N [--schools FILE] [--ledger FILE] [--config FILE]`,
  run(args, io) {
    const flags = parseFlags(args, FLAGS);
    if (flags.env === undefined) throw new UsageError("--env is required: the environment whose host grows");
    if (flags.host === undefined) throw new UsageError("--host is required, e.g. --host hv01-vm02");
    const gib = positiveInteger("gib", flags.gib, undefined, "GiB");
    if (gib > MAX_DATA_DISK_GIB) throw new UsageError(`--gib ${gib} is more than ${MAX_DATA_DISK_GIB} GiB; is that a typo?`);

    const files = inputFiles({ ...flags, stack: flags.config === undefined ? (flags.stack ?? flags.env) : undefined }, io);
    const inputs = loadFleetInputs(files);
    const errors = inputs.issues.filter(isError);
    if (errors.length > 0 || !inputs.config) {
      for (const issue of errors) io.stderr(`${formatIssue(issue)}\n`);
      io.stderr("fix these first; nothing was written\n");
      return 1;
    }
    if (!inputs.ledger.entries.some((e) => e.host === flags.host)) {
      io.stderr(`${files.ledger.shownAs}: no school is placed on host ${flags.host}; nothing was written\n`);
      return 1;
    }
    const growth = growDataDisk(inputs.hosts, flags.host, gib);
    if (!growth.ok) {
      io.stderr(`${growth.message}; nothing was written\n`);
      return 1;
    }
    writeFilesAtomic([{ path: hostRecordPath(files.ledger.path), text: serializeHostRecord(growth.entries) }]);
    io.stdout(
      `${inputs.hosts.file}: ${flags.host} data disk ${growth.fromGiB} GiB -> ${gib} GiB.\n` +
        `Commit this row for review; then \`fleet preview --env ${flags.env}\` shows the change and ` +
        `\`fleet up --env ${flags.env}\` grows the disk and its file system in place (no volume is replaced).\n`,
    );
    return 0;
  },
};
