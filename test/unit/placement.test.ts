import { describe, expect, it } from "vitest";
import { planPlacements } from "../../infra/plan/placement";
import { formatPlacementReport } from "../../infra/plan/report";
import { parseHostRecord } from "../../infra/inputs/host-record";
import { parseUidRecord } from "../../infra/inputs/uids";
import { config, hypervisor, ledger, school } from "./support/builders";

const cfg = config();
const plan = (schools: ReturnType<typeof school>[], rows: [string, string][], c = cfg) =>
  planPlacements({ schools, config: c, ledger: ledger(rows), schoolsFile: "s.csv" });
const rowsOf = (result: ReturnType<typeof plan>) => result.ledger.map((e) => [e.schoolId, e.host]);

describe("planPlacements", () => {
  it("starts an empty fleet on the first hypervisor by name", () => {
    const result = plan([school("04100002"), school("04100001")], []);
    expect(rowsOf(result)).toEqual([
      ["04100001", "hv01-vm01"],
      ["04100002", "hv01-vm01"],
    ]);
    expect(result.report.newHosts).toEqual([{ host: "hv01-vm01", hypervisor: "hv01", tier: "standard", vcpu: 4, memoryMiB: 8192 }]);
    expect(result.ok && result.changed).toBe(true);
  });

  it("fills a free slot of the school's tier", () => {
    const result = plan([school("04100001"), school("04100002"), school("04100003")], [
      ["04100001", "hv02-vm01"],
      ["04100002", "hv02-vm01"],
    ]);
    expect(result.report.placed).toEqual([{ schoolId: "04100003", tier: "standard", host: "hv02-vm01", newHost: false }]);
    expect(result.report.newHosts).toEqual([]);
  });

  it("picks the lowest-numbered host with a free slot, on any hypervisor", () => {
    const schools = ["04100001", "04100002", "04100003", "04100004", "04100005", "04100006"].map((id) => school(id));
    const result = plan(schools, [
      ["04100001", "hv01-vm01"],
      ["04100002", "hv01-vm01"],
      ["04100003", "hv01-vm01"],
      ["04100004", "hv01-vm01"],
      ["04100005", "hv01-vm02"],
    ]);
    expect(result.report.placed.map((p) => p.host)).toEqual(["hv01-vm02"]);
  });

  it("never puts a school on a host of another tier", () => {
    const result = plan([school("04100001", "small"), school("04100002")], [["04100001", "hv01-vm01"]]);
    expect(result.report.placed).toEqual([{ schoolId: "04100002", tier: "standard", host: "hv02-vm01", newHost: true }]);
  });

  it("puts a new host on the hypervisor with the most free capacity, numbered max+1", () => {
    const standard = ["04100001", "04100002", "04100003", "04100004"];
    const rows: [string, string][] = [...standard.map((id): [string, string] => [id, "hv02-vm03"]), ["04100005", "hv01-vm01"]];
    const schools = [...standard.map((id) => school(id)), school("04100005", "small"), school("04100006")];
    const result = plan(schools, rows);
    // hv01 holds a small VM (2 vcpu), hv02 a standard one (4 vcpu): hv01 has more room.
    expect(result.report.newHosts.map((h) => h.host)).toEqual(["hv01-vm02"]);

    // With hv01 shrunk to 8 vcpu, hv02 can take more standard VMs than hv01.
    const busy = plan(schools, rows, config({
      hypervisors: [hypervisor("hv01", 1, { vcpu: 8, memoryMiB: 65536 }), hypervisor("hv02", 2, { vcpu: 32, memoryMiB: 131072 })],
    }));
    expect(busy.report.newHosts.map((h) => h.host)).toEqual(["hv02-vm04"]);
  });

  it("needs both vcpu and memory to fit", () => {
    const c = config({
      hypervisors: [hypervisor("hv01", 1, { vcpu: 64, memoryMiB: 4096 }), hypervisor("hv02", 2, { vcpu: 4, memoryMiB: 65536 })],
      tiers: { standard: { vcpu: 4, memoryMiB: 8192, sitesPerHost: 4, diskGiBPerSite: 20, phpWorkers: 4, rootDiskGiB: 20 } },
    });
    const result = plan([school("04100001")], [], c);
    expect(result.report.newHosts.map((h) => h.host)).toEqual(["hv02-vm01"]);
  });

  it("reports exhausted capacity with what is needed, and keeps existing rows", () => {
    const c = config({
      hypervisors: [hypervisor("hv01", 1, { vcpu: 4, memoryMiB: 8192 })],
    });
    const schools = ["04100001", "04100002", "04100003", "04100004", "04100005", "04100006"].map((id) => school(id));
    const result = plan(schools, [["04100001", "hv01-vm01"]], c);
    expect(result.ok).toBe(false);
    expect(result.report.placed.map((p) => p.schoolId)).toEqual(["04100002", "04100003", "04100004"]);
    expect(result.report.noCapacity).toEqual([
      { tier: "standard", schoolIds: ["04100005", "04100006"], hostsNeeded: 1, vcpuPerHost: 4, memoryMiBPerHost: 8192 },
    ]);
    expect(formatPlacementReport(result, "p.csv")).toContain(
      "tier standard: 2 school(s) (04100005, 04100006) need 1 more host(s) of 4 vcpu and 8192 MiB",
    );
  });

  it("treats the end of the address range as exhausted capacity", () => {
    const hv = hypervisor("hv01", 1);
    const c = config({ hypervisors: [{ ...hv, addresses: { ...hv.addresses, last: "10.20.1.10" } }] });
    const schools = ["04100001", "04100002", "04100003", "04100004", "04100005"].map((id) => school(id));
    const result = plan(schools, [], c);
    expect(result.report.newHosts.map((h) => h.host)).toEqual(["hv01-vm01"]);
    expect(result.report.noCapacity[0].schoolIds).toEqual(["04100005"]);
  });

  it("reports hosts over capacity and sends new schools elsewhere", () => {
    const small = ["04100001", "04100002", "04100003", "04100004"];
    const result = plan([...small, "04100005"].map((id) => school(id, "small")), small.map((id): [string, string] => [id, "hv01-vm01"]));
    expect(result.report.overCapacity).toEqual([{ host: "hv01-vm01", tier: "small", sites: 4, sitesPerHost: 3 }]);
    expect(result.report.placed).toEqual([{ schoolId: "04100005", tier: "small", host: "hv02-vm01", newHost: true }]);
    expect(result.report.blocking).toEqual([]);
  });

  it("removes ledger rows of schools that left the list, keeping the others in order", () => {
    const result = plan([school("04100003"), school("04100001"), school("04100009")], [
      ["04100003", "hv01-vm01"],
      ["04100002", "hv01-vm01"],
      ["04100001", "hv01-vm01"],
      ["04100004", "hv01-vm01"],
    ]);
    expect(result.report.toRemove).toEqual([
      { schoolId: "04100002", host: "hv01-vm01", line: 3 },
      { schoolId: "04100004", host: "hv01-vm01", line: 5 },
    ]);
    expect(rowsOf(result)).toEqual([
      ["04100003", "hv01-vm01"],
      ["04100001", "hv01-vm01"],
      ["04100009", "hv01-vm01"],
    ]);
  });

  it("appends new rows in school-id order and never touches existing ones", () => {
    const rows: [string, string][] = [
      ["04100050", "hv02-vm02"],
      ["04100010", "hv01-vm01"],
    ];
    const result = plan(["04100050", "04100010", "04100040", "04100020", "04100030"].map((id) => school(id)), rows);
    expect(rowsOf(result).slice(0, 2)).toEqual(rows);
    expect(rowsOf(result).slice(2).map(([id]) => id)).toEqual(["04100020", "04100030", "04100040"]);
  });

  it("says nothing changed when every school is placed, its host recorded and its UID given", () => {
    const result = planPlacements({
      schools: [school("04100001")],
      config: cfg,
      ledger: ledger([["04100001", "hv01-vm01"]]),
      hosts: parseHostRecord("host,vcpu,memory_mib,root_disk_gib,data_disk_gib,sites_per_host\nhv01-vm01,4,8192,20,80,4\n", "hosts.csv"),
      uids: parseUidRecord("school_id,uid\n04100001,20000\n", "uids.csv"),
    });
    expect(result.changed).toBe(false);
    expect(result.ok).toBe(true);
  });

  it("blocks on problems only a person can fix, and skips the affected hosts", () => {
    const result = plan([school("04100001"), school("04100002", "small"), school("04100003")], [
      ["04100001", "hv01-vm01"],
      ["04100002", "hv01-vm01"],
    ]);
    expect(result.ok).toBe(false);
    expect(result.report.blocking.map((i) => i.rule)).toEqual(["mixed-tiers"]);
    expect(result.report.placed).toEqual([{ schoolId: "04100003", tier: "standard", host: "hv02-vm01", newHost: true }]);
  });

  it("carries ledger syntax problems as blocking", () => {
    const result = planPlacements({
      schools: [],
      config: cfg,
      ledger: { file: "p.csv", entries: [], issues: [{ file: "p.csv", line: 2, rule: "host-name", message: "x" }] },
    });
    expect(result.ok).toBe(false);
  });

  it("formats a stable, readable report", () => {
    const result = plan([school("04100001"), school("04100002", "small")], [["04109999", "hv01-vm01"]]);
    expect(formatPlacementReport(result, "p.csv")).toBe(
      [
        "Placement ledger p.csv: 0 placed schools kept, 2 to place, 1 to remove, 2 new hosts",
        "",
        "New hosts:",
        "  hv01-vm01  on hv01, tier standard (4 vcpu, 8192 MiB)",
        "  hv02-vm01  on hv02, tier small (2 vcpu, 4096 MiB)",
        "",
        "Schools to place:",
        "  04100001 -> hv01-vm01  (tier standard, new host)",
        "  04100002 -> hv02-vm01  (tier small, new host)",
        "",
        "To remove (no longer in the school list; `pulumi up` then deletes their sites):",
        "  04109999 on hv01-vm01  (p.csv:2)",
        "",
        "Committed capacity after this plan:",
        "  hv01: 1 host, 4/32 vcpu, 8192/131072 MiB",
        "  hv02: 1 host, 2/32 vcpu, 4096/131072 MiB",
        "",
        "Site UIDs assigned:",
        "  04100001: 20000",
        "  04100002: 20001",
        "",
      ].join("\n"),
    );
  });
});

describe("planPlacements on unchecked input", () => {
  it("blocks on a school whose tier is not configured instead of crashing", () => {
    const result = plan([school("04100001", "huge"), school("04100002")], []);
    expect(result.ok).toBe(false);
    expect(result.report.blocking.map((i) => [i.field, i.rule])).toEqual([["tier", "tier"]]);
    expect(result.report.placed.map((p) => p.schoolId)).toEqual(["04100002"]);
  });
});
