import { formatIssue, idList } from "../inputs/issues";
import type { PlacementResult } from "./placement";

/** The planner's report as text for people; same inputs, same text. */
export function formatPlacementReport(result: PlacementResult, ledgerFile: string): string {
  const { report } = result;
  const out: string[] = [];
  const section = (title: string, lines: string[]) => {
    if (lines.length === 0) return;
    out.push("", `${title}:`, ...lines.map((l) => `  ${l}`));
  };

  out.push(
    `Placement ledger ${ledgerFile}: ${result.ledger.length - report.placed.length} placed schools kept, ` +
      `${report.placed.length} to place, ${report.toRemove.length} to remove, ${report.newHosts.length} new hosts`,
  );
  section(
    "New hosts",
    report.newHosts.map((h) => `${h.host}  on ${h.hypervisor}, tier ${h.tier} (${h.vcpu} vcpu, ${h.memoryMiB} MiB)`),
  );
  section(
    "Schools to place",
    report.placed.map((p) => `${p.schoolId} -> ${p.host}  (tier ${p.tier}${p.newHost ? ", new host" : ""})`),
  );
  section(
    "To remove (no longer in the school list; `pulumi up` then deletes their sites)",
    report.toRemove.map((r) => `${r.schoolId} on ${r.host}${r.line === undefined ? "" : `  (${ledgerFile}:${r.line})`}`),
  );
  section(
    "Hosts over capacity (fix by hand: the planner never moves a school)",
    report.overCapacity.map((h) => `${h.host}: ${h.sites} sites, tier ${h.tier} allows ${h.sitesPerHost}`),
  );
  section(
    "No capacity",
    report.noCapacity.map(
      (n) =>
        `tier ${n.tier}: ${n.schoolIds.length} school(s) (${idList(n.schoolIds)}) need ${n.hostsNeeded} more host(s) of ` +
        `${n.vcpuPerHost} vcpu and ${n.memoryMiBPerHost} MiB; add a hypervisor or raise a hypervisor's capacity/address range`,
    ),
  );
  section(
    "Committed capacity after this plan",
    report.usage.map(
      (u) => `${u.name}: ${u.hosts} host${u.hosts === 1 ? "" : "s"}, ${u.vcpu}/${u.capacityVcpu} vcpu, ${u.memoryMiB}/${u.capacityMemoryMiB} MiB`,
    ),
  );
  section(
    "warning: hosts placed before hosts were recorded, now recorded with their tier's current sizes " +
      "(check each against its VM, e.g. `virsh vol-info`; correct a row by hand before committing if they differ)",
    report.recorded.map(
      (r) =>
        `${r.host}  tier ${r.tier}: ${r.sizes.vcpu} vcpu, ${r.sizes.memoryMiB} MiB, root ${r.sizes.rootDiskGiB} GiB, ` +
        `data ${r.sizes.dataDiskGiB} GiB, ${r.sizes.sitesPerHost} site slots`,
    ),
  );
  section("Host rows dropped (no school left on them)", report.unrecorded);
  section(
    "Site UIDs assigned",
    report.uidsAssigned.length <= 6
      ? report.uidsAssigned.map((u) => `${u.schoolId}: ${u.uid}`)
      : [`${report.uidsAssigned.length} schools: ${report.uidsAssigned[0].uid} to ${report.uidsAssigned[report.uidsAssigned.length - 1].uid}`],
  );
  section("Blocking problems (fix these first)", report.blocking.map(formatIssue));
  out.push("");
  return out.join("\n");
}
