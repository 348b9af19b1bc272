import { describe, expect, it } from "vitest";
import { beforeHostPasswordsMessage, sitesBeforeHostPasswords } from "../../../../stacks/driver/migration";
import { unconvergedCellsMessage } from "../../../../stacks/driver/deployed";
import { olderSiteResources } from "./urns";

const INSTALL = "/usr/local/sbin/moodle-fleet-site install --print-admin-password --school-id=";
const OLDER_INSTALL = "/usr/local/sbin/moodle-fleet-site install --school-id=";

/** A stack export with the five resources of each school's site, as an older version left them. */
function state(sites: Record<string, { retained: boolean; create: string }>, extra: object[] = []) {
  const resources: object[] = [];
  for (const [school, site] of Object.entries(sites)) {
    for (const r of olderSiteResources("prod-hv01", school)) {
      const fields: Record<string, unknown> = { ...r };
      if (r.urn.endsWith("-dns") && site.retained) fields.retainOnDelete = true;
      if (r.urn.endsWith("-install")) fields.inputs = { create: `${site.create}${school}`, stdin: "[secret]" };
      resources.push(fields);
    }
  }
  return { version: 3, deployment: { resources: [...resources, ...extra] } };
}

describe("sites this version cannot take over", () => {
  it("finds none in a stack the first step converged, nor in an empty or new one", () => {
    expect(sitesBeforeHostPasswords(state({ "04101234": { retained: true, create: INSTALL } }))).toEqual([]);
    expect(sitesBeforeHostPasswords({})).toEqual([]);
    expect(sitesBeforeHostPasswords({ deployment: { resources: [] } })).toEqual([]);
  });

  it("finds a site whose record is not retained, or whose install does not yet print its password", () => {
    const found = sitesBeforeHostPasswords(
      state({
        "04101234": { retained: true, create: INSTALL },
        "04101258": { retained: false, create: INSTALL },
        "04101273": { retained: true, create: OLDER_INSTALL },
        "04101246": { retained: false, create: OLDER_INSTALL },
      }),
    );
    expect(found).toEqual(["04101246", "04101258", "04101273"]);
  });

  it("passes a site of this version (two resources, no record) and skips resources pending deletion", () => {
    const pending = { ...olderSiteResources("prod-hv01", "04101300").find((r) => r.urn.endsWith("-dns"))!, delete: true };
    const now = state({ "04101234": { retained: true, create: INSTALL } }).deployment.resources.filter(
      (r) => !/-(dns|password)$/.test((r as { urn: string }).urn),
    );
    expect(sitesBeforeHostPasswords({ deployment: { resources: [...now, pending] } })).toEqual([]);
  });

  it("names up to five schools and the step to apply first", () => {
    const schools = ["04101234", "04101246", "04101258", "04101261", "04101273", "04101300", "04101301"];
    const message = beforeHostPasswordsMessage("prod-hv01", schools);
    expect(message).toContain("stack prod-hv01: 7 site(s)");
    expect(message).toContain("(04101234, 04101246, 04101258, 04101261, 04101273 and 2 more)");
    expect(message).toContain("commit a5fdc37");
  });

  it("stops a run only for the cells it covers", () => {
    const deployments = [
      { cell: "hv01", stack: "prod-hv01", outputs: {}, sitesBeforeHostPasswords: ["04101234"] },
      { cell: "hv02", stack: "prod-hv02", outputs: {}, sitesBeforeHostPasswords: [] },
    ];
    expect(unconvergedCellsMessage(deployments, ["hv02"])).toBeUndefined();
    expect(unconvergedCellsMessage(deployments, ["hv01", "hv02"])).toMatch(/^stack prod-hv01: 1 site\(s\)/);
  });
});
