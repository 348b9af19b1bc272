import { describe, expect, it } from "vitest";
import {
  checkMoves,
  deployedSites,
  detectMoves,
  installHostsFromState,
  moveLine,
  moveRefusal,
  parseAllowMove,
  plannedSites,
  replaceTargets,
  type Move,
  type SitePlace,
} from "../../../../stacks/driver/moves";
import type { CellPreview } from "../../../../stacks/driver/preview-summary";
import { plannedSteps } from "../../../../stacks/driver/steps";
import { UsageError } from "../../../../tools/common/cli";
import { cellOutputs } from "../../support/builders";
import { events, siteResources } from "./urns";

const at = (school: string, host: string): SitePlace => ({ school, host, cell: host.split("-")[0] });

describe("deployedSites", () => {
  it("reads each cell's sites with their hosts, and skips a cell not deployed", () => {
    const hv01 = cellOutputs("hv01", ["04101234", "04101258"]);
    hv01.sites["04101258"].host = "hv01-vm02";
    expect(deployedSites([{ cell: "hv01", outputs: hv01 }, { cell: "hv02", outputs: {} }])).toEqual([
      { school: "04101234", host: "hv01-vm01", cell: "hv01" },
      { school: "04101258", host: "hv01-vm02", cell: "hv01" },
    ]);
  });

  it("names the cell and site of outputs it cannot read", () => {
    const broken = cellOutputs("hv02", ["04101246"]) as unknown as { sites: Record<string, Record<string, unknown>> };
    delete broken.sites["04101246"].host;
    expect(() => deployedSites([{ cell: "hv02", outputs: broken }])).toThrow(/outputs of cell hv02: sites\.04101246: host: /);
    expect(() => deployedSites([{ cell: "hv03", outputs: { domain: "x" } }])).toThrow(/outputs of cell hv03: sites: /);
  });
});

describe("the state's install hosts", () => {
  const FLEET = "moodle-fleet:infra:Fleet$moodle-fleet:infra:Hypervisor$moodle-fleet:infra:MoodleHost";
  const bootstrap = (host: string) => `urn:pulumi:prod-hv01::moodle-fleet::${FLEET}$command:remote:Command::${host}-bootstrap`;
  const install = (school: string) => `urn:pulumi:prod-hv01::moodle-fleet::${FLEET}$command:remote:Command::${school}-install`;
  // As a stack holds it until its first `up` by a version without a component per site.
  const olderInstall = (school: string) => `urn:pulumi:prod-hv01::moodle-fleet::${FLEET}$moodle-fleet:infra:MoodleSite$command:remote:Command::${school}-install`;

  it("reads each install's host from the bootstrap it waits for, skipping an old install pending deletion", () => {
    const state = {
      deployment: {
        resources: [
          { urn: bootstrap("hv01-vm01"), type: "command:remote:Command", dependencies: [] },
          { urn: install("04101234"), type: "command:remote:Command", dependencies: [bootstrap("hv01-vm02"), install("04101258")] },
          { urn: olderInstall("04101258"), type: "command:remote:Command", dependencies: [bootstrap("hv01-vm01")] },
          { urn: install("04101273"), type: "command:remote:Command", delete: true, dependencies: [bootstrap("hv01-vm01")] },
          { urn: install("04101273"), type: "command:remote:Command", dependencies: [bootstrap("hv01-vm03")] },
        ],
      },
    };
    expect(installHostsFromState(state)).toEqual({ "04101234": "hv01-vm02", "04101258": "hv01-vm01", "04101273": "hv01-vm03" });
    expect(installHostsFromState({})).toEqual({});
  });

  it("win over the outputs, and count where the outputs no longer list the site", () => {
    const outputs = cellOutputs("hv01", ["04101234"]);
    expect(deployedSites([{ cell: "hv01", outputs, installHosts: { "04101234": "hv01-vm02", "04101258": "hv01-vm01" } }])).toEqual([
      { school: "04101234", host: "hv01-vm02", cell: "hv01" },
      { school: "04101258", host: "hv01-vm01", cell: "hv01" },
    ]);
  });
});

describe("detectMoves", () => {
  it("finds a move within a cell and one across cells, and nothing for added, removed or unmoved schools", () => {
    const planned = [at("04101234", "hv01-vm02"), at("04101246", "hv02-vm01"), at("04101258", "hv01-vm01"), at("04101300", "hv01-vm01")];
    const deployed = [at("04101234", "hv01-vm01"), at("04101246", "hv01-vm01"), at("04101258", "hv01-vm01"), at("04101999", "hv02-vm01")];
    expect(detectMoves(planned, deployed)).toEqual([
      { school: "04101234", from: { host: "hv01-vm01", cell: "hv01" }, to: { host: "hv01-vm02", cell: "hv01" } },
      { school: "04101246", from: { host: "hv01-vm01", cell: "hv01" }, to: { host: "hv02-vm01", cell: "hv02" } },
    ]);
  });

  it("takes a school already deployed on its planned host as no move, even while its old cell still holds it", () => {
    // A move across cells whose old cell has not run yet: that cell's own plan deletes (archives) the old site.
    const planned = [at("04101246", "hv02-vm01")];
    expect(detectMoves(planned, [at("04101246", "hv01-vm01"), at("04101246", "hv02-vm01")])).toEqual([]);
  });

  it("reads the plan's sites with their hypervisor as the cell", () => {
    const plan = { sites: [{ schoolId: "04101234", host: "hv01-vm02", hypervisor: "hv01" }] } as unknown as Parameters<typeof plannedSites>[0];
    expect(plannedSites(plan)).toEqual([{ school: "04101234", host: "hv01-vm02", cell: "hv01" }]);
  });
});

const inCell: Move = { school: "04190003", from: { host: "hv01-vm01", cell: "hv01" }, to: { host: "hv01-vm02", cell: "hv01" } };
const acrossCells: Move = { school: "04101246", from: { host: "hv01-vm01", cell: "hv01" }, to: { host: "hv02-vm01", cell: "hv02" } };

describe("moveLine", () => {
  it("says what a move does, in the words of the review", () => {
    expect(moveLine(inCell)).toBe("MOVE 04190003 hv01-vm01 -> hv01-vm02: the site on the new host starts empty; the old site is archived on the old host");
    expect(moveLine(acrossCells)).toMatch(/^MOVE 04101246 hv01-vm01 -> hv02-vm01: the site on the new host starts empty; the old site is archived on the old host \(the old cell hv01 deletes it, the new cell hv02 creates it\)$/);
  });
});

describe("checkMoves and --allow-move", () => {
  it("refuses every move no --allow-move names, and allows them once each school is named", () => {
    const refused = checkMoves([inCell, acrossCells], ["04190003"], ["hv01", "hv02"]);
    expect(refused.allowed).toBe(false);
    expect(refused.missing.map((m) => m.school)).toEqual(["04101246"]);
    expect(checkMoves([inCell, acrossCells], ["04190003", "04101246"], ["hv01", "hv02"]).allowed).toBe(true);
    expect(checkMoves([], [], ["hv01"]).allowed).toBe(true);
  });

  it("refuses consent for a school that does not move, and a move across cells with one cell left out", () => {
    const typo = checkMoves([inCell], ["04190003", "04190033"], ["hv01"]);
    expect(typo).toMatchObject({ allowed: false, unknown: ["04190033"], missing: [] });
    const partial = checkMoves([acrossCells], ["04101246"], ["hv02"]);
    expect(partial).toMatchObject({ allowed: false, partial: [acrossCells] });
  });

  it("lists every move, the flags that would allow them, and that nothing changed", () => {
    const text = moveRefusal("prod", checkMoves([inCell, acrossCells], ["04190033"], ["hv02"]));
    expect(text).toContain('fleet up: refused: the plan for "prod" moves sites to other hosts:');
    expect(text).toContain(`  ${moveLine(inCell)}`);
    expect(text).toContain("rerun with --allow-move 04190003 --allow-move 04101246");
    expect(text).toContain("--allow-move 04190033: school 04190033 does not move in this plan.");
    expect(text).toContain("run both cells together (--cells hv01,hv02)");
    expect(text).toMatch(/Nothing was changed\.\n$/);
  });

  it("takes 8-digit school ids, each once", () => {
    expect(parseAllowMove(undefined)).toEqual([]);
    expect(parseAllowMove(["04190003", "04190003", "04101246"])).toEqual(["04190003", "04101246"]);
    expect(() => parseAllowMove(["4190003"])).toThrow(UsageError);
    expect(() => parseAllowMove(["all"])).toThrow(/--allow-move takes the 8-digit id/);
  });
});

describe("replaceTargets", () => {
  const installUrn = (stack: string, school: string) => siteResources(stack, school).find((r) => r.urn.endsWith("-install"))!.urn;

  it("replaces the install of a site moved within its cell, with the URN the preview showed", () => {
    const previews: CellPreview[] = [
      { cell: "hv01", ok: true, steps: plannedSteps(events(siteResources("prod-hv01", "04190003").filter((r) => /-(install|dns)$/.test(r.urn)), "update")) },
      { cell: "hv02", ok: true, steps: plannedSteps(events(siteResources("prod-hv02", "04101246"), "create")) },
    ];
    expect(replaceTargets([inCell], previews)).toEqual({ hv01: [installUrn("prod-hv01", "04190003")] });
  });

  it("replaces nothing for a move across cells: the old cell's delete archives the old site", () => {
    const previews: CellPreview[] = [
      { cell: "hv01", ok: true, steps: plannedSteps(events(siteResources("prod-hv01", "04101246"), "delete")) },
      { cell: "hv02", ok: true, steps: plannedSteps(events(siteResources("prod-hv02", "04101246"), "create")) },
    ];
    expect(replaceTargets([acrossCells], previews)).toEqual({});
  });

  it("stops when the preview shows no change to a moved install", () => {
    expect(() => replaceTargets([inCell], [{ cell: "hv01", ok: true, steps: [] }])).toThrow(/shows no change to 04190003-install/);
  });
});
