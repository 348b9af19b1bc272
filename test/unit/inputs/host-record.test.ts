import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { writeFilesAtomic } from "../../../infra/inputs/atomic";
import { hostRecordPath, loadHostRecord, parseHostRecord, serializeHostRecord } from "../../../infra/inputs/host-record";
import { checkHostRecord, checkUidRecord, sizeDrift } from "../../../infra/inputs/record-check";
import { parseUidRecord, SITE_UID_FIRST } from "../../../infra/inputs/uids";
import { buildFleetPlan } from "../../../infra/plan/fleet-plan";
import { planPlacements } from "../../../infra/plan/placement";
import { config, configInput, ledger, school } from "../support/builders";

const HEADER = "host,vcpu,memory_mib,root_disk_gib,data_disk_gib,sites_per_host";
/** standard: 4 vcpu, 8192 MiB, 4 sites x 20 GiB, root 20 GiB. */
const cfg = config();
/** The same fleet after someone raised the standard tier. */
const raised = config({
  tiers: { ...configInput().tiers, standard: { vcpu: 8, memoryMiB: 16384, sitesPerHost: 6, diskGiBPerSite: 40, phpWorkers: 6, rootDiskGiB: 30 } },
});
const record = (rows: string[], file = "hosts.csv") => parseHostRecord([HEADER, ...rows].join("\n"), file);
const uids = (rows: string[]) => parseUidRecord(["school_id,uid", ...rows].join("\n"), "uids.csv");

describe("the host record", () => {
  it("reads sizes and names file, line and field of every bad value", () => {
    const r = record(["hv01-vm01,4,8192,20,80,4", "hv01-vm1,4,8192,20,80,4", "hv01-vm02,four,8192,20,0,4", "hv01-vm01,4,8192,20,80,4"]);
    expect(r.hosts.get("hv01-vm01")).toEqual({
      host: "hv01-vm01",
      sizes: { vcpu: 4, memoryMiB: 8192, rootDiskGiB: 20, dataDiskGiB: 80, sitesPerHost: 4 },
      line: 2,
    });
    expect(r.issues.map((i) => [i.file, i.line, i.field, i.rule])).toEqual([
      ["hosts.csv", 3, "host", "host-name"],
      ["hosts.csv", 4, "vcpu", "whole-number"],
      ["hosts.csv", 4, "data_disk_gib", "whole-number"],
      ["hosts.csv", 5, "host", "duplicate-host"],
    ]);
  });

  it("round-trips through its file, beside the ledger", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hosts-"));
    const file = hostRecordPath(path.join(dir, "placement.csv"));
    expect(file).toBe(path.join(dir, "hosts.csv"));
    expect(loadHostRecord(file).hosts.size).toBe(0);
    const r = record(["hv01-vm01,4,8192,20,80,4", "hv02-vm01,2,4096,10,30,3"]);
    fs.writeFileSync(file, serializeHostRecord([...r.hosts.values()]));
    expect([...loadHostRecord(file).hosts.values()]).toEqual([...r.hosts.values()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("writing the ledger and its records", () => {
  it("changes no file when one of them cannot be written", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atomic-"));
    const ledgerFile = path.join(dir, "placement.csv");
    fs.writeFileSync(ledgerFile, "old\n");
    expect(() =>
      writeFilesAtomic([
        { path: ledgerFile, text: "new\n" },
        { path: path.join(dir, "missing-dir", "hosts.csv"), text: "new\n" },
      ]),
    ).toThrow();
    expect(fs.readFileSync(ledgerFile, "utf8")).toBe("old\n");
    expect(fs.readdirSync(dir)).toEqual(["placement.csv"]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("site UIDs", () => {
  it("refuses numbers outside the range and numbers or schools given twice", () => {
    const u = uids(["04100001,20000", "04100002,20000", "04100001,20001", "04100003,19999", "04100004,60000"]);
    expect(u.bySchool.get("04100001")?.uid).toBe(20000);
    expect(u.issues.map((i) => [i.line, i.field, i.rule])).toEqual([
      [3, "uid", "duplicate-uid"],
      [4, "school_id", "duplicate-school"],
      [5, "uid", "uid-range"],
      [6, "uid", "uid-range"],
    ]);
  });

  it("warns about placed schools without one", () => {
    const issues = checkUidRecord(uids(["04100001,20000"]), ledger([["04100001", "hv01-vm01"], ["04100002", "hv01-vm01"]]).entries);
    expect(issues).toEqual([expect.objectContaining({ file: "uids.csv", rule: "uid-missing", severity: "warning" })]);
    expect(issues[0].message).toContain("04100002");
  });
});

describe("placement with the records", () => {
  const schools = [school("04100001"), school("04100002"), school("04100003")];

  it("records a new host with its tier's sizes and gives every new school the next UID", () => {
    const result = planPlacements({ schools, config: cfg, ledger: ledger([]), hosts: record([]), uids: uids([]) });
    expect(result.ok).toBe(true);
    expect(result.hosts).toEqual([{ host: "hv01-vm01", sizes: { vcpu: 4, memoryMiB: 8192, rootDiskGiB: 20, dataDiskGiB: 80, sitesPerHost: 4 } }]);
    expect(result.uids).toEqual([
      { schoolId: "04100001", uid: SITE_UID_FIRST },
      { schoolId: "04100002", uid: SITE_UID_FIRST + 1 },
      { schoolId: "04100003", uid: SITE_UID_FIRST + 2 },
    ]);
    expect(result.report.recorded).toEqual([]);
  });

  it("back-fills a host placed before hosts were recorded from its tier, and says so", () => {
    const result = planPlacements({ schools: schools.slice(0, 1), config: cfg, ledger: ledger([["04100001", "hv01-vm01"]]) });
    expect(result.changed).toBe(true);
    expect(result.report.recorded).toEqual([{ host: "hv01-vm01", tier: "standard", sizes: expect.objectContaining({ dataDiskGiB: 80 }) }]);
    expect(result.hosts.map((h) => h.host)).toEqual(["hv01-vm01"]);
    expect(result.uids).toEqual([{ schoolId: "04100001", uid: SITE_UID_FIRST }]);
  });

  it("never reuses a UID: a removed school keeps its row, the next school gets a new number", () => {
    const result = planPlacements({
      schools: [school("04100002")],
      config: cfg,
      ledger: ledger([["04100001", "hv01-vm01"]]),
      hosts: record(["hv01-vm01,4,8192,20,80,4"]),
      uids: uids(["04100001,20005"]),
    });
    expect(result.report.toRemove.map((r) => r.schoolId)).toEqual(["04100001"]);
    expect(result.uids).toEqual([
      { schoolId: "04100001", uid: 20005 },
      { schoolId: "04100002", uid: 20006 },
    ]);
  });

  it("keeps a host's recorded slots and sizes when the tier is raised, and drops the row of a host left empty", () => {
    const result = planPlacements({
      schools: [school("04100001"), school("04100002"), school("04100003"), school("04100004"), school("04100005")],
      config: raised,
      ledger: ledger([["04100001", "hv01-vm01"], ["04100002", "hv01-vm01"], ["04100003", "hv01-vm01"], ["04100004", "hv01-vm01"]]),
      hosts: record(["hv01-vm01,4,8192,20,80,4", "hv02-vm07,4,8192,20,80,4"]),
      uids: uids([]),
    });
    expect(result.ok).toBe(true);
    // hv01-vm01 was made for 4 sites: the fifth school opens a new host, sized by the raised tier.
    expect(result.report.placed).toEqual([{ schoolId: "04100005", tier: "standard", host: "hv02-vm01", newHost: true }]);
    expect(result.hosts).toEqual([
      { host: "hv01-vm01", sizes: { vcpu: 4, memoryMiB: 8192, rootDiskGiB: 20, dataDiskGiB: 80, sitesPerHost: 4 } },
      { host: "hv02-vm01", sizes: { vcpu: 8, memoryMiB: 16384, rootDiskGiB: 30, dataDiskGiB: 240, sitesPerHost: 6 } },
    ]);
    expect(result.report.unrecorded).toEqual(["hv02-vm07"]);
  });

  it("blocks on a record that does not read cleanly", () => {
    const result = planPlacements({ schools, config: cfg, ledger: ledger([]), hosts: record(["hv01-vm01,x,8192,20,80,4"]) });
    expect(result.ok).toBe(false);
    expect(result.report.blocking.map((i) => [i.file, i.line, i.field])).toEqual([["hosts.csv", 2, "vcpu"]]);
  });
});

describe("the plan with the records", () => {
  const rows: [string, string][] = [["04100001", "hv01-vm01"], ["04100002", "hv02-vm01"]];
  const schools = [school("04100001"), school("04100002")];
  const hosts = record(["hv01-vm01,4,8192,20,80,4"]);

  it("sizes a recorded host from its row, whatever the tier says now; a host without a row from its tier", () => {
    const plan = buildFleetPlan({ schools, config: raised, ledger: ledger(rows).entries, hosts: hosts.hosts });
    expect(plan.hostsByName["hv01-vm01"]).toMatchObject({ vcpu: 4, memoryMiB: 8192, rootDiskGiB: 20, dataDiskGiB: 80, sitesPerHost: 4 });
    expect(plan.hostsByName["hv02-vm01"]).toMatchObject({ vcpu: 8, memoryMiB: 16384, rootDiskGiB: 30, dataDiskGiB: 240, sitesPerHost: 6 });
    // Not a size: the tier's php workers reach every host.
    expect(plan.hostsByName["hv01-vm01"].phpWorkers).toBe(6);
  });

  it("gives a recorded host the same plan before and after a tier change", () => {
    const before = buildFleetPlan({ schools, config: cfg, ledger: ledger(rows).entries, hosts: hosts.hosts });
    const after = buildFleetPlan({ schools, config: raised, ledger: ledger(rows).entries, hosts: hosts.hosts });
    const sizes = ({ vcpu, memoryMiB, rootDiskGiB, dataDiskGiB, sitesPerHost }: (typeof before.hosts)[number]) => ({
      vcpu,
      memoryMiB,
      rootDiskGiB,
      dataDiskGiB,
      sitesPerHost,
    });
    expect(sizes(after.hostsByName["hv01-vm01"])).toEqual(sizes(before.hostsByName["hv01-vm01"]));
  });

  it("puts each school's UID on its site", () => {
    const plan = buildFleetPlan({ schools, config: cfg, ledger: ledger(rows).entries, uids: uids(["04100001,20010"]).bySchool });
    expect(plan.sitesById["04100001"].uid).toBe(20010);
    expect("uid" in plan.sitesById["04100002"]).toBe(false);
  });
});

describe("what validate says about the record", () => {
  const rows = ledger([["04100001", "hv01-vm01"], ["04100002", "hv02-vm01"]]).entries;
  const schools = [school("04100001"), school("04100002")];

  it("names each host whose recorded sizes the tier now sets differently, and how to grow its data disk", () => {
    const r = record(["hv01-vm01,4,8192,20,80,4", "hv02-vm01,8,16384,30,240,6"], "schools/hosts.csv");
    expect(sizeDrift(r, rows, schools, raised)).toEqual([
      { host: "hv01-vm01", tier: "standard", field: "vcpu", recorded: 4, tierNow: 8, line: 2 },
      { host: "hv01-vm01", tier: "standard", field: "memory_mib", recorded: 8192, tierNow: 16384, line: 2 },
      { host: "hv01-vm01", tier: "standard", field: "root_disk_gib", recorded: 20, tierNow: 30, line: 2 },
      { host: "hv01-vm01", tier: "standard", field: "data_disk_gib", recorded: 80, tierNow: 240, line: 2 },
      { host: "hv01-vm01", tier: "standard", field: "sites_per_host", recorded: 4, tierNow: 6, line: 2 },
    ]);
    const disk = checkHostRecord(r, rows, { config: raised, schools, env: "prod" }).find((i) => i.field === "data_disk_gib")!;
    expect(disk).toMatchObject({ file: "schools/hosts.csv", line: 2, rule: "tier-drift", severity: "warning" });
    expect(disk.message).toBe("hv01-vm01: data disk 80 GiB recorded, tier standard now says 240 GiB: unchanged");
    expect(disk.fix).toBe("grow it with `fleet grow-disk --env prod --host hv01-vm01 --gib 240`");
  });

  it("warns about placed hosts without a row and rows without a host", () => {
    const issues = checkHostRecord(record(["hv01-vm01,4,8192,20,80,4", "hv01-vm05,4,8192,20,80,4"]), rows, { config: cfg, schools });
    expect(issues.map((i) => [i.rule, i.severity, i.line])).toEqual([
      ["host-unrecorded", "warning", undefined],
      ["host-unplaced", "warning", 3],
    ]);
    expect(issues[0].message).toContain("hv02-vm01");
  });
});
