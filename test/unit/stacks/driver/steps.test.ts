import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { countSteps, dataLossSteps, describeResource, plannedSteps, stepEvent } from "../../../../stacks/driver/steps";
import { domain, events, hostVolume, olderSiteResources, pool, siteResources, TYPES, urn } from "./urns";

const pre = (op: string, u: string, type: string) => ({ sequence: 1, timestamp: 0, resourcePreEvent: { metadata: { op, urn: u, type, provider: "" } } }) as EngineEvent;

describe("stepEvent", () => {
  it("passes on steps that change something and drops the rest", () => {
    const u = urn("prod-hv01", [], TYPES.pool, "hv01-pool");
    expect(stepEvent(pre("delete", u, TYPES.pool))).toEqual({ op: "delete", urn: u, type: TYPES.pool });
    expect(stepEvent(pre("create-replacement", u, TYPES.pool))?.op).toBe("create-replacement");
    for (const op of ["same", "read", "refresh"]) expect(stepEvent(pre(op, u, TYPES.pool)), op).toBeUndefined();
    expect(stepEvent({ sequence: 1, timestamp: 0, resOutputsEvent: { metadata: { op: "delete", urn: u, type: TYPES.pool, provider: "" } } } as EngineEvent)).toBeUndefined();
  });
});

describe("plannedSteps", () => {
  it("folds the three steps of a replacement into one replace, in either order", () => {
    const vol = hostVolume("prod-hv01", "hv01-vm01", "data");
    const vm = domain("prod-hv01", "hv01-vm01");
    const steps = plannedSteps([
      ...events([vol], "create-replacement", "replace", "delete-replaced"),
      ...events([vm], "delete-replaced", "replace", "create-replacement"),
    ]);
    expect(steps.map((s) => [s.name, s.kind])).toEqual([
      ["hv01-vm01-data", "replace"],
      ["hv01-vm01", "replace"],
    ]);
    expect(countSteps(steps)).toEqual({ create: 0, update: 0, replace: 2, delete: 0 });
  });

  it("finds the school of every resource of a site, also of those older versions made, and marks only the install as data", () => {
    const steps = plannedSteps(events(olderSiteResources("prod-hv01", "04101234"), "delete"));
    expect(steps.map((s) => [s.name, s.school, s.holdsData])).toEqual([
      ["04101234", "04101234", false],
      ["04101234-db-password", "04101234", false],
      ["04101234-admin-password", "04101234", false],
      ["04101234-dns", "04101234", false],
      ["04101234-install", "04101234", true],
    ]);
    expect(dataLossSteps(steps).map((s) => s.name)).toEqual(["04101234-install"]);
  });

  it("counts a created site as one create and loses nothing", () => {
    const steps = plannedSteps(events(siteResources("prod-hv01", "04101300"), "create"));
    expect(countSteps(steps)).toEqual({ create: 1, update: 0, replace: 0, delete: 0 });
    expect(steps[0]).toMatchObject({ name: "04101300-install", school: "04101300", label: "site install (database and files)" });
    expect(dataLossSteps(steps)).toEqual([]);
  });
});

describe("describeResource", () => {
  it("marks data volumes, pools and databases as holding data, and not root volumes or VMs", () => {
    const holds = (r: { urn: string; type: string }) => describeResource(r.urn, r.type).holdsData;
    expect(holds(hostVolume("prod-hv01", "hv01-vm01", "data"))).toBe(true);
    expect(holds(pool("prod-hv01", "hv01"))).toBe(true);
    expect(holds({ urn: urn("prod-hv01", [], "mysql:index/database:Database", "moodle_04101234"), type: "mysql:index/database:Database" })).toBe(true);
    expect(holds(hostVolume("prod-hv01", "hv01-vm01", "root"))).toBe(false);
    expect(holds(domain("prod-hv01", "hv01-vm01"))).toBe(false);
    // A host's bootstrap is a remote command too, but outside any site.
    expect(holds({ urn: urn("prod-hv01", ["moodle-fleet:infra:MoodleHost"], TYPES.remote, "hv01-vm01-bootstrap"), type: TYPES.remote })).toBe(false);
  });

  it("leaves hosts and hypervisors without a school", () => {
    const d = describeResource(hostVolume("prod-hv01", "hv01-vm01", "data").urn, TYPES.volume);
    expect(d).toMatchObject({ name: "hv01-vm01-data", school: undefined, label: "data volume (the host's sites)" });
  });

  it("names a host's bootstrap and its site tool upload, neither holding data", () => {
    const host = ["moodle-fleet:infra:Fleet", "moodle-fleet:infra:Hypervisor", "moodle-fleet:infra:MoodleHost"];
    const upload = describeResource(urn("prod-hv01", host, "command:remote:CopyToRemote", "hv01-vm01-site-tool"), "command:remote:CopyToRemote");
    expect(upload).toMatchObject({ name: "hv01-vm01-site-tool", school: undefined, label: "site tool upload", holdsData: false });
    expect(describeResource(urn("prod-hv01", host, TYPES.remote, "hv01-vm01-bootstrap"), TYPES.remote)).toMatchObject({ label: "host bootstrap" });
  });

  it("names the steps around a host's VM by what they are for, none holding data", () => {
    const hostVm = ["moodle-fleet:infra:Fleet", "moodle-fleet:infra:Hypervisor", "moodle-fleet:infra:MoodleHost", "moodle-fleet:infra:HostVm"];
    const local = "command:local:Command";
    const of = (type: string, name: string) => describeResource(urn("prod-hv01", hostVm, type, name), type);
    expect(of(local, "hv01-vm01-private-volumes")).toMatchObject({ label: "seed made root-only (hypervisor)", holdsData: false });
    expect(of(local, "hv01-vm01-shutdown-on-delete")).toMatchObject({ label: "clean shutdown before a VM's delete (hypervisor)" });
    expect(of(local, "hv01-vm01-grow-data-disk")).toMatchObject({ label: "data disk growth (hypervisor)", holdsData: false });
    expect(of(TYPES.remote, "hv01-vm01-grow-file-system")).toMatchObject({ label: "data file system growth (VM)" });
    expect(of("random:index/randomBytes:RandomBytes", "hv01-vm01-host-key")).toMatchObject({ label: "VM's SSH host key" });
    // The name alone does not make the label: a site install stays one.
    expect(of(TYPES.remote, "04101234-install")).toMatchObject({ label: "site install (database and files)", holdsData: true });
    expect(of(TYPES.remote, "hv01-vm01-private-volumes").label).toBe(TYPES.remote);
  });

  it("tells a host's DNS records from a site's of older versions, neither holding data", () => {
    const host = describeResource(urn("prod-hv01", ["moodle-fleet:infra:Fleet", "moodle-fleet:infra:Hypervisor", "moodle-fleet:infra:MoodleHost"], TYPES.dns, "hv01-vm01-dns"), TYPES.dns);
    expect(host).toMatchObject({ name: "hv01-vm01-dns", school: undefined, label: "DNS records (the host's sites)", holdsData: false });
    const site = olderSiteResources("prod-hv01", "04101234").find((r) => r.urn.endsWith("-dns"))!;
    expect(describeResource(site.urn, site.type)).toMatchObject({ school: "04101234", label: "DNS record", holdsData: false });
  });
});
