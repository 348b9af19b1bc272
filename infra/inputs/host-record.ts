import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import type { TierConfig } from "../config/schema";
import { parseHostName } from "./host-name";
import { sortIssues, type InputIssue } from "./issues";
import { readUtf8 } from "./read-text";
import { readTable } from "./table";
import { ruleOf } from "./zod-issues";

/**
 * The host record: the sizes each host VM was created with, one row per
 * placed host, committed beside the placement ledger (`hosts.csv`). The plan
 * sizes an existing host from its row, never from its tier: in libvirt
 * provider 0.7.6 every volume attribute forces a replacement, so a tier
 * change that reached an existing host would replace its data volume (stopped
 * by `protect`, or with protection off: the new volume adopts the old one by
 * name and the replaced one's delete removes the live disk). A row is written
 * when `fleet plan --write` first places a host and changes only by a
 * reviewed edit (`fleet grow-disk`, or a person resizing a VM on purpose).
 */
export const HOST_RECORD_COLUMNS = ["host", "vcpu", "memory_mib", "root_disk_gib", "data_disk_gib", "sites_per_host"] as const;

const whole = (what: string) =>
  z
    .string()
    .trim()
    .refine((v) => /^[1-9][0-9]{0,6}$/.test(v), { params: { rule: "whole-number" }, error: (i) => `not a whole number of ${what} (${JSON.stringify(i.input)})` })
    .transform(Number);

/** One row of hosts.csv as read; the output is the sizes in the plan's terms. */
export const hostRecordRowSchema = z
  .object({
    host: z
      .string()
      .trim()
      .refine((v) => parseHostName(v) !== undefined, {
        params: { rule: "host-name" },
        error: (i) => `not a host name of the form <hypervisor>-vm<NN>, e.g. hv01-vm03 (${JSON.stringify(i.input)})`,
      }),
    vcpu: whole("vCPUs"),
    memory_mib: whole("MiB"),
    root_disk_gib: whole("GiB"),
    data_disk_gib: whole("GiB"),
    sites_per_host: whole("sites"),
  })
  .transform((r) => ({
    host: r.host,
    sizes: {
      vcpu: r.vcpu,
      memoryMiB: r.memory_mib,
      rootDiskGiB: r.root_disk_gib,
      dataDiskGiB: r.data_disk_gib,
      sitesPerHost: r.sites_per_host,
    },
  }));

/** What a host VM was created with: the tier's values at the time, or a reviewed change since. */
export type HostSizes = z.output<typeof hostRecordRowSchema>["sizes"];

export interface HostRecordEntry {
  host: string;
  sizes: HostSizes;
  /** Set when read from a file. */
  line?: number;
}

export interface HostRecord {
  /** File as shown in messages. */
  file: string;
  /** Well-formed rows by host name (the first row of a host that appears twice). */
  hosts: Map<string, HostRecordEntry>;
  issues: InputIssue[];
}

/** The sizes a new host of `tier` gets. The data disk is sized for a full VM, so adding a site never grows it. */
export function tierSizes(tier: TierConfig): HostSizes {
  return {
    vcpu: tier.vcpu,
    memoryMiB: tier.memoryMiB,
    rootDiskGiB: tier.rootDiskGiB,
    dataDiskGiB: tier.sitesPerHost * tier.diskGiBPerSite,
    sitesPerHost: tier.sitesPerHost,
  };
}

/** The host record that goes with a ledger: `hosts.csv` in the ledger's folder. */
export function hostRecordPath(ledgerPath: string): string {
  return join(dirname(ledgerPath), "hosts.csv");
}

export function parseHostRecord(text: string, file: string): HostRecord {
  const table = readTable(text, file, HOST_RECORD_COLUMNS);
  const issues = [...table.issues];
  const hosts = new Map<string, HostRecordEntry>();
  for (const { line, values } of table.rows) {
    const parsed = hostRecordRowSchema.safeParse(values);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        issues.push({ file, line, field: String(issue.path[0]), rule: ruleOf(issue), message: issue.message });
      continue;
    }
    const first = hosts.get(parsed.data.host);
    if (first) {
      issues.push({
        file,
        line,
        field: "host",
        rule: "duplicate-host",
        message: `host ${parsed.data.host} is recorded twice (also on line ${first.line})`,
        fix: "keep the row with the sizes the VM really has",
      });
      continue;
    }
    hosts.set(parsed.data.host, { ...parsed.data, line });
  }
  return { file, hosts, issues: sortIssues(issues) };
}

/**
 * Reads the host record. A missing file is an empty record: a fleet placed
 * before hosts were recorded gets its rows at the next `fleet plan --write`.
 */
export function loadHostRecord(path: string, shownAs = path): HostRecord {
  if (!existsSync(path)) return { file: shownAs, hosts: new Map(), issues: [] };
  const { text, issues } = readUtf8(path, shownAs);
  const record = parseHostRecord(text, shownAs);
  return { ...record, issues: sortIssues([...issues, ...record.issues]) };
}

export function serializeHostRecord(entries: readonly HostRecordEntry[]): string {
  const row = ({ host, sizes: s }: HostRecordEntry) =>
    [host, s.vcpu, s.memoryMiB, s.rootDiskGiB, s.dataDiskGiB, s.sitesPerHost].join(",");
  return [HOST_RECORD_COLUMNS.join(","), ...entries.map(row)].join("\n") + "\n";
}

/** What `fleet grow-disk` does to the record, or why it refuses. */
export type DataDiskGrowth =
  | { ok: true; entries: HostRecordEntry[]; fromGiB: number; line?: number }
  | { ok: false; message: string };

/**
 * Raises one host's recorded data disk to `gib`, every other row unchanged.
 * Only ever grows: a smaller size would cut the file system holding every
 * site's data (libvirt shrinks a volume only when asked to, and the guest's
 * ext4 does not shrink while mounted), so it is refused, as is a host
 * without a row (record it first) and a size it already has.
 */
export function growDataDisk(record: HostRecord, host: string, gib: number): DataDiskGrowth {
  const row = record.hosts.get(host);
  if (!row) return { ok: false, message: `${record.file}: host ${host} has no row; run \`fleet plan --write\` to record it first` };
  const from = row.sizes.dataDiskGiB;
  const where = row.line === undefined ? record.file : `${record.file}:${row.line}`;
  if (gib < from)
    return {
      ok: false,
      message: `${where}: refusing to shrink ${host}'s data disk from ${from} GiB to ${gib} GiB: a data disk only grows (shrinking would cut off the sites' data)`,
    };
  if (gib === from) return { ok: false, message: `${where}: ${host}'s data disk is already ${from} GiB; nothing to do` };
  const entries = [...record.hosts.values()].map((e) =>
    e.host === host ? { host: e.host, sizes: { ...e.sizes, dataDiskGiB: gib } } : { host: e.host, sizes: e.sizes },
  );
  return { ok: true, entries, fromGiB: from, line: row.line };
}
