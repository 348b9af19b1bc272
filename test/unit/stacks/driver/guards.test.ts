import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { checkDeletions, confirmDestroy, deletionRefusal, parseAllowDelete, readLine } from "../../../../stacks/driver/guards";
import type { CellPreview } from "../../../../stacks/driver/preview-summary";
import { plannedSteps } from "../../../../stacks/driver/steps";
import { UsageError } from "../../../../tools/common/cli";
import { events, hostVolume, retiredSiteComponent, siteResources } from "./urns";

const removing = (c: string, ...schools: string[]): CellPreview => ({
  cell: c,
  ok: true,
  steps: plannedSteps(schools.flatMap((s) => events(siteResources(`prod-${c}`, s), "delete"))),
});

describe("checkDeletions", () => {
  const cells = [removing("hv01", "04101234", "04101246"), removing("hv02", "04101258")];

  it("counts deleted sites over all cells and refuses unless --allow-delete covers them", () => {
    const refused = checkDeletions(cells, 2);
    expect(refused).toMatchObject({ count: 3, allowed: false });
    expect(refused.sites).toEqual([
      { school: "04101234", cell: "hv01" },
      { school: "04101246", cell: "hv01" },
      { school: "04101258", cell: "hv02" },
    ]);
    expect(checkDeletions(cells, 3).allowed).toBe(true);
    expect(checkDeletions(cells, 0).allowed).toBe(false);
  });

  it("allows the deletes of the site components an older stack holds: they are records, the installs stay", () => {
    const upgrading: CellPreview = {
      cell: "hv01",
      ok: true,
      steps: plannedSteps(events(["04101234", "04101246"].map((s) => retiredSiteComponent("prod-hv01", s)), "delete")),
    };
    expect(checkDeletions([upgrading], 0)).toMatchObject({ count: 0, allowed: true, sites: [] });
  });

  it("allows a plan that only adds or changes, with no flag", () => {
    const adding: CellPreview = { cell: "hv01", ok: true, steps: plannedSteps(events(siteResources("prod-hv01", "04101300"), "create")) };
    expect(checkDeletions([adding], 0)).toMatchObject({ count: 0, allowed: true, sites: [] });
  });

  it("counts a site whose install is replaced, and a replaced data volume", () => {
    const install = siteResources("prod-hv01", "04101234").filter((r) => r.urn.endsWith("-install"));
    const cell: CellPreview = {
      cell: "hv01",
      ok: true,
      steps: plannedSteps([
        ...events(install, "create-replacement", "replace", "delete-replaced"),
        ...events([hostVolume("prod-hv01", "hv01-vm02", "data")], "delete-replaced", "replace", "create-replacement"),
      ]),
    };
    const check = checkDeletions([cell], 1);
    expect(check).toMatchObject({ count: 2, allowed: false, sites: [{ school: "04101234", cell: "hv01" }] });
    expect(check.other).toEqual([{ name: "hv01-vm02-data", label: "data volume (the host's sites)", kind: "replace", cell: "hv01" }]);
  });

  it("leaves out moved schools: a move across cells is consented by --allow-move, not counted again", () => {
    // 04101246 moves from hv01 to hv02: hv01 deletes its site, hv02 creates it.
    const moving = [removing("hv01", "04101234", "04101246"), { cell: "hv02", ok: true, steps: plannedSteps(events(siteResources("prod-hv02", "04101246"), "create")) }];
    expect(checkDeletions(moving, 1, new Set(["04101246"]))).toMatchObject({ count: 1, allowed: true, sites: [{ school: "04101234", cell: "hv01" }] });
    expect(checkDeletions(moving, 1)).toMatchObject({ count: 2, allowed: false });
  });

  it("names every school and the flag that would allow it", () => {
    const text = deletionRefusal("prod", checkDeletions(cells, 1), 1);
    expect(text).toContain('the plan for "prod" destroys data that --allow-delete 1 does not cover');
    for (const id of ["04101234", "04101246", "04101258"]) expect(text).toContain(id);
    expect(text).toContain("rerun with --allow-delete 3");
    expect(text).toContain("Nothing was changed");
  });
});

describe("parseAllowDelete", () => {
  it("takes a whole number, 0 when absent", () => {
    expect(parseAllowDelete(undefined)).toBe(0);
    expect(parseAllowDelete("12")).toBe(12);
    for (const bad of ["-1", "2.5", "all", ""]) expect(() => parseAllowDelete(bad), bad).toThrow(UsageError);
  });
});

describe("readLine", () => {
  it("returns the first line, with or without CR, and undefined at once on an empty stream", async () => {
    expect(await readLine(Readable.from(["pr", "od\r\nrest\n"]))).toBe("prod");
    expect(await readLine(Readable.from([]))).toBeUndefined();
    expect(await readLine(Readable.from(["no newline"]))).toBe("no newline");
  });
});

describe("confirmDestroy", () => {
  const io = (input?: NodeJS.ReadableStream) => {
    let err = "";
    return { io: { stderr: (t: string) => void (err += t), stdin: input }, err: () => err };
  };

  it("goes on when the environment's name is typed", async () => {
    const stdin = new PassThrough();
    const c = io(stdin);
    const answer = confirmDestroy("prod", ["hv01", "hv02"], undefined, c.io);
    // The prompt is out before anything is typed.
    await new Promise((r) => setImmediate(r));
    expect(c.err()).toContain('environment "prod" (cells hv01, hv02)');
    expect(c.err()).toContain("Type the environment's name to go on: ");
    stdin.write("prod\n");
    expect(await answer).toBe(true);
  });

  it("stops on another name, an empty line, a closed stdin or no stdin", async () => {
    for (const input of [Readable.from(["lab\n"]), Readable.from(["\n"]), Readable.from([]), undefined]) {
      const c = io(input);
      expect(await confirmDestroy("prod", ["hv01"], undefined, c.io)).toBe(false);
      expect(c.err()).toContain("nothing was destroyed");
    }
  });

  it("takes --yes-destroy naming the same environment, and refuses another", async () => {
    const c = io(Readable.from(["wrong\n"]));
    expect(await confirmDestroy("prod", ["hv01"], "prod", c.io)).toBe(true);
    expect(c.err()).toBe("");
    await expect(confirmDestroy("prod", ["hv01"], "lab", c.io)).rejects.toThrow(/--yes-destroy lab does not name the environment being destroyed \(--env prod\)/);
  });
});
