import { describe, expect, it } from "vitest";
import { buildFleetPlan, FleetPlanError, selectHypervisors } from "../../infra/plan/fleet-plan";
import { config, hypervisor, school } from "./support/builders";

const cfg = config();
const entries = (rows: [string, string][]) => rows.map(([schoolId, host], k) => ({ schoolId, host, line: k + 2 }));

describe("buildFleetPlan", () => {
  const schools = [school("04100001"), school("04100002"), school("04100003", "small")];
  const ledger = entries([
    ["04100002", "hv01-vm01"],
    ["04100001", "hv01-vm01"],
    ["04100003", "hv02-vm03"],
  ]);
  const plan = buildFleetPlan({ schools, config: cfg, ledger });

  it("lists every hypervisor with its hosts", () => {
    expect(plan.hypervisors.map((h) => [h.name, h.hosts])).toEqual([
      ["hv01", ["hv01-vm01"]],
      ["hv02", ["hv02-vm03"]],
    ]);
    expect(plan.hypervisors[0]).toMatchObject({
      uri: "qemu+ssh://root@hv01.example/system",
      pool: { name: "moodle", path: "/srv/pool" },
      baseImage: { source: "/srv/images/base.qcow2", format: "qcow2" },
      network: { bridge: "br0" },
      domainType: "kvm",
    });
  });

  it("sizes hosts by tier, data disk for a full host", () => {
    expect(plan.hostsByName["hv02-vm03"]).toEqual({
      name: "hv02-vm03",
      hypervisor: "hv02",
      number: 3,
      tier: "small",
      vcpu: 2,
      memoryMiB: 4096,
      rootDiskGiB: 10,
      dataDiskGiB: 30,
      sitesPerHost: 3,
      phpWorkers: 2,
      address: "10.20.2.12",
      prefixLength: 24,
      gateway: "10.20.2.1",
      nameservers: ["10.20.0.53"],
      sites: ["04100003"],
    });
    expect(plan.hostsByName["hv01-vm01"].sites).toEqual(["04100002", "04100001"]);
  });

  it("derives every site value from school, host and config", () => {
    expect(plan.sitesById["04100001"]).toEqual({
      schoolId: "04100001",
      name: "Schule 04100001",
      town: "Ulm",
      email: "poststelle@04100001.schulen.example",
      tier: "standard",
      host: "hv01-vm01",
      hypervisor: "hv01",
      fqdn: "04100001.moodle.schulen.example",
      url: "http://04100001.moodle.schulen.example",
      linuxUser: "m04100001",
      dbName: "moodle_04100001",
      dbUser: "m04100001",
      dataDir: "/srv/moodledata/04100001",
      adminUser: "admin",
      installAfter: [],
      repairs: 0,
    });
    expect(plan.sites.map((s) => s.schoolId)).toEqual(["04100001", "04100002", "04100003"]);
  });

  it("counts a school's repair requests into its site and no other", () => {
    const repaired = buildFleetPlan({ schools, config: cfg, ledger, repairs: new Map([["04100001", 2]]) });
    expect(repaired.sitesById["04100001"].repairs).toBe(2);
    expect(repaired.sites.filter((s) => s.schoolId !== "04100001")).toEqual(plan.sites.filter((s) => s.schoolId !== "04100001"));
  });

  it("serves https when a certificate is configured", () => {
    const tls = config({ tls: { certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----" } });
    const p = buildFleetPlan({ schools, config: tls, ledger });
    expect(p.sitesById["04100001"].url).toBe("https://04100001.moodle.schulen.example");
    expect(p.settings.tls).toBeDefined();
  });

  it("chains installs per host: site k waits for site k - installsPerHost", () => {
    const ids = Array.from({ length: 7 }, (_, k) => `0410010${k}`);
    const c = config({
      installsPerHost: 2,
      tiers: { standard: { vcpu: 4, memoryMiB: 8192, sitesPerHost: 10, diskGiBPerSite: 20, phpWorkers: 4, rootDiskGiB: 20 } },
    });
    const p = buildFleetPlan({ schools: ids.map((id) => school(id)), config: c, ledger: entries(ids.map((id) => [id, "hv01-vm01"])) });
    expect(ids.map((id) => p.sitesById[id].installAfter)).toEqual([[], [], [ids[0]], [ids[1]], [ids[2]], [ids[3]], [ids[4]]]);
  });

  it("refuses unplaced schools and bad ledger rows, listing every problem with its fix", () => {
    const bad = () =>
      buildFleetPlan({
        schools: [school("04100001"), school("04100002")],
        config: cfg,
        ledger: entries([
          ["04100001", "hv01-vm01"],
          ["04109999", "hv09-vm01"],
        ]),
        files: { schools: "s.csv", ledger: "p.csv" },
      });
    expect(bad).toThrow(FleetPlanError);
    try {
      bad();
    } catch (error) {
      const e = error as FleetPlanError;
      expect(e.issues.map((i) => i.rule).sort()).toEqual(["unknown-hypervisor", "unknown-school", "unplaced"]);
      expect(e.message).toContain("npx fleet plan --write");
      expect(e.message).toContain("s.csv");
    }
  });

  it("refuses a host past the end of its address range", () => {
    const hv = hypervisor("hv01", 1);
    const c = config({ hypervisors: [{ ...hv, addresses: { ...hv.addresses, last: "10.20.1.10" } }] });
    expect(() => buildFleetPlan({ schools: [school("04100001")], config: c, ledger: entries([["04100001", "hv01-vm02"]]) })).toThrow(
      /past the end/,
    );
  });

  it("is JSON-safe", () => {
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it("selects the part of the plan on some hypervisors", () => {
    const cell = selectHypervisors(plan, ["hv02"]);
    expect(cell.hypervisors.map((h) => h.name)).toEqual(["hv02"]);
    expect(cell.sites.map((s) => s.schoolId)).toEqual(["04100003"]);
    expect(Object.keys(cell.hostsByName)).toEqual(["hv02-vm03"]);
    expect(cell.sitesById["04100003"]).toEqual(plan.sitesById["04100003"]);
  });
});
