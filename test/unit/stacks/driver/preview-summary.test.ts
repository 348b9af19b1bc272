import { describe, expect, it } from "vitest";
import { formatPreviewMarkdown, PREVIEW_EXIT, previewExitCode, type CellPreview } from "../../../../stacks/driver/preview-summary";
import { plannedSteps } from "../../../../stacks/driver/steps";
import { events, hostVolume, retiredSiteComponent, siteResources } from "./urns";

const cell = (name: string, ...evts: Parameters<typeof plannedSteps>[0][]): CellPreview => ({ cell: name, ok: true, steps: plannedSteps(evts.flat()) });

describe("preview summary for a merge request", () => {
  it("marks the data loss of a removed school, by school, and exits with the data-loss code", () => {
    const cells = [
      cell("hv01", events(siteResources("prod-hv01", "04101234"), "delete")),
      cell("hv02", events(siteResources("prod-hv02", "04101300"), "create")),
    ];
    const md = formatPreviewMarkdown("prod", cells);
    expect(md).toContain("**DATA LOSS**: 1 data-holding resource(s) would be deleted or replaced, sites of 1 school(s)");
    expect(md).toMatch(/^\| hv01 \| 0 \| 0 \| 0 \| 1 \| \*\*data loss\*\* \|$/m);
    expect(md).toMatch(/^\| hv02 \| 1 \| 0 \| 0 \| 0 \| {2}\|$/m);
    expect(md).toMatch(/^\| \*\*total\*\* \| 1 \| 0 \| 0 \| 1 \|/m);
    expect(md).toContain("**School 04101234** (hv01)");
    expect(md).toMatch(/^\| `04101234-install` \| site install \(database and files\) \| delete \| \*\*DATA LOSS\*\* \|$/m);
    // The added school is counted, not listed.
    expect(md).not.toContain("04101300");
    expect(previewExitCode(cells)).toBe(PREVIEW_EXIT.dataLoss);
  });

  it("marks nothing when a school is only added, and exits with the changes code", () => {
    const cells = [cell("hv01", events(siteResources("prod-hv01", "04101300"), "create"))];
    const md = formatPreviewMarkdown("prod", cells);
    expect(md).toContain("Changes, no data loss.");
    expect(md).not.toMatch(/data loss\*\*|DATA LOSS/);
    expect(md).not.toContain("Deleted or replaced");
    expect(previewExitCode(cells)).toBe(PREVIEW_EXIT.changes);
  });

  it("lists a replaced data volume under hosts, and says so when nothing changes", () => {
    const cells = [cell("hv01", events([hostVolume("prod-hv01", "hv01-vm01", "data")], "delete-replaced", "replace", "create-replacement"))];
    const md = formatPreviewMarkdown("prod", cells);
    expect(md).toContain("**Hosts and hypervisors** (hv01)");
    expect(md).toMatch(/^\| `hv01-vm01-data` \| data volume \(the host's sites\) \| replace \| \*\*DATA LOSS\*\* \|$/m);
    expect(previewExitCode(cells)).toBe(PREVIEW_EXIT.dataLoss);

    const quiet = [cell("hv01"), cell("hv02")];
    expect(formatPreviewMarkdown("prod", quiet)).toContain("No changes.");
    expect(previewExitCode(quiet)).toBe(PREVIEW_EXIT.noChanges);
  });

  it("reports a failed cell, keeps the table intact and exits 1", () => {
    const cells: CellPreview[] = [{ cell: "hv01", ok: false, error: "ssh: handshake | failed\nsecond line", steps: [] }];
    const md = formatPreviewMarkdown("prod", cells);
    expect(md).toContain("**Preview failed** in 1 of 1 cell(s)");
    expect(md).toMatch(/^\| hv01 \| 0 \| 0 \| 0 \| 0 \| \*\*failed\*\*: ssh: handshake \\\| failed second line \|$/m);
    expect(previewExitCode(cells)).toBe(PREVIEW_EXIT.failed);
  });

  it("lists a move within a cell as MOVE and DATA LOSS although the engine shows only updates", () => {
    const move = { school: "04190003", from: { host: "hv01-vm01", cell: "hv01" }, to: { host: "hv01-vm02", cell: "hv01" } };
    const cells = [cell("hv01", events(siteResources("prod-hv01", "04190003").filter((r) => r.urn.endsWith("-install")), "update"))];
    // Without the move the same steps are a change without loss: the engine cannot see a move.
    expect(previewExitCode(cells)).toBe(PREVIEW_EXIT.changes);
    const md = formatPreviewMarkdown("prod", cells, [move]);
    expect(md).toContain("**DATA LOSS**: 1 site(s) moved to another host (each starts empty there). Approve only if that is intended; `fleet up` needs --allow-move 04190003.");
    expect(md).toMatch(/^\| hv01 \| 0 \| 1 \| 0 \| 0 \| \*\*data loss\*\* \|$/m);
    expect(md).toContain("#### Moved to another host (1) **DATA LOSS**");
    expect(md).toContain("- MOVE 04190003 hv01-vm01 -> hv01-vm02: the site on the new host starts empty; the old site is archived on the old host\n");
    expect(previewExitCode(cells, [move])).toBe(PREVIEW_EXIT.dataLoss);
  });

  it("shows a move across cells as a move, its old cell's deletions marked as the move's archive", () => {
    const move = { school: "04101246", from: { host: "hv01-vm01", cell: "hv01" }, to: { host: "hv02-vm01", cell: "hv02" } };
    const cells = [
      cell("hv01", events(siteResources("prod-hv01", "04101246"), "delete")),
      cell("hv02", events(siteResources("prod-hv02", "04101246"), "create")),
    ];
    const md = formatPreviewMarkdown("prod", cells, [move]);
    expect(md).toContain("**DATA LOSS**: 1 data-holding resource(s) would be deleted or replaced, sites of 1 school(s); 1 site(s) moved to another host");
    expect(md).toContain("MOVE 04101246 hv01-vm01 -> hv02-vm01");
    expect(md).toContain("**School 04101246** (hv01, moving to hv02-vm01: the old site is archived on the old host)");
    expect(md).toMatch(/^\| hv02 \| 1 \| 0 \| 0 \| 0 \| \*\*data loss\*\* \|$/m);
    expect(previewExitCode(cells, [move])).toBe(PREVIEW_EXIT.dataLoss);
  });

  it("lists the site components an older stack drops under their schools, without data loss", () => {
    const schools = ["04101234", "04101246"];
    const cells = [cell("hv01", events(schools.map((s) => retiredSiteComponent("prod-hv01", s)), "delete"))];
    const md = formatPreviewMarkdown("prod", cells);
    expect(md).toContain("Changes, no data loss.");
    for (const s of schools) {
      expect(md).toContain(`**School ${s}** (hv01)`);
      expect(md).toContain(`| \`${s}\` | site component (a record, no data) | delete |  |`);
    }
    expect(previewExitCode(cells)).toBe(PREVIEW_EXIT.changes);
  });

  it("uses four distinct exit codes beside 0", () => {
    expect(new Set(Object.values(PREVIEW_EXIT)).size).toBe(5);
  });
});
