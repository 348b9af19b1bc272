import { formatFactor, formatGiB, LOAD_RULE, percent, type CapacityReport } from "./capacity";

type Align = "l" | "r";

/** A plain text table: header, a rule, rows; columns padded to their widest cell. */
export function textTable(header: string[], rows: string[][], align: Align[]): string {
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, k) => (align[k] === "r" ? c.padStart(widths[k]) : c.padEnd(widths[k])))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const pct = (part: number, whole: number) => `${percent(part, whole).toFixed(0)}%`;

export function renderText(report: CapacityReport, title: string): string {
  const L = report.loadFactor;
  const flag = (over: boolean) => (over ? `OVER at ${L}×` : "ok");
  const out: string[] = [];
  out.push(title, "");

  out.push("Hypervisors");
  out.push(
    textTable(
      ["hypervisor", "hosts", "sites", "free", "vCPU committed", "RAM GiB committed", "disk GiB", "headroom", `at ${L}×`],
      report.hypervisors.map((h) => [
        h.name,
        String(h.hosts),
        `${h.sites}/${h.slots}`,
        String(h.slots - h.sites),
        `${h.vcpu}/${h.capacity.vcpu} ${pct(h.vcpu, h.capacity.vcpu)}`,
        `${formatGiB(h.memoryMiB)}/${formatGiB(h.capacity.memoryMiB)} ${pct(h.memoryMiB, h.capacity.memoryMiB)}`,
        String(h.diskGiB),
        formatFactor(h.headroom),
        h.overcommitted ? "OVERCOMMITTED" : flag(h.overloaded),
      ]),
      ["l", "r", "r", "r", "r", "r", "r", "r", "l"],
    ),
  );
  out.push("");

  out.push("Hosts");
  out.push(
    textTable(
      ["host", "hypervisor", "tier", "sites", "free", "vCPU", "RAM GiB", "disk GiB", "headroom", `at ${L}×`],
      report.hosts.map((h) => [
        h.name,
        h.hypervisor,
        h.tier,
        `${h.sites}/${h.slots}`,
        String(h.slots - h.sites),
        String(h.vcpu),
        formatGiB(h.memoryMiB),
        String(h.diskGiB),
        formatFactor(h.headroom),
        flag(h.overloaded),
      ]),
      ["l", "l", "l", "r", "r", "r", "r", "r", "r", "l"],
    ),
  );
  out.push("");

  out.push("Tiers");
  out.push(
    textTable(
      ["tier", "hosts", "sites", "free", "vCPU", "RAM GiB", "disk GiB"],
      report.tiers.map((t) => [t.name, String(t.hosts), `${t.sites}/${t.slots}`, String(t.slots - t.sites), String(t.vcpu), formatGiB(t.memoryMiB), String(t.diskGiB)]),
      ["l", "r", "r", "r", "r", "r", "r"],
    ),
  );
  out.push("");

  const t = report.total;
  out.push(
    `Total: ${t.sites}/${t.slots} sites (${t.slots - t.sites} free) on ${t.hosts} hosts and ${t.hypervisors} hypervisors; ` +
      `vCPU ${t.vcpu}/${t.capacity.vcpu}, RAM ${formatGiB(t.memoryMiB)}/${formatGiB(t.capacity.memoryMiB)} GiB committed; disk ${t.diskGiB} GiB allocated`,
  );
  const hostsOver = report.hosts.filter((h) => h.overloaded).map((h) => h.name);
  const hvsOver = report.hypervisors.filter((h) => h.overloaded).map((h) => h.name);
  out.push(
    `Flagged at ${L}× load: ${hostsOver.length} host(s)${hostsOver.length ? ` (${abbreviate(hostsOver)})` : ""}, ` +
      `${hvsOver.length} hypervisor(s)${hvsOver.length ? ` (${abbreviate(hvsOver)})` : ""}`,
  );
  out.push("", `Rule (load factor ${L}×):`, ...LOAD_RULE.flatMap((l) => wrap(l, 96).map((w, k) => (k === 0 ? `  ${w}` : `    ${w}`))));
  for (const w of report.warnings) out.push(`warning: ${w}`);
  return `${out.join("\n")}\n`;
}

function abbreviate(names: string[]): string {
  return names.length <= 10 ? names.join(", ") : `${names.slice(0, 10).join(", ")}, … ${names.length - 10} more`;
}

/** Breaks a sentence into lines of at most `width` characters at spaces. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}
