import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareHosts, formatHostName, parseHostName } from "../../infra/inputs/host-name";
import { formatIssue } from "../../infra/inputs/issues";
import { loadLedger, parseLedger, serializeLedger, writeLedger } from "../../infra/inputs/ledger";
import { checkLedger, MOVE_NOTE } from "../../infra/inputs/ledger-check";
import { config, hypervisor, school } from "./support/builders";

describe("host names", () => {
  it("parses and formats <hypervisor>-vm<NN>", () => {
    expect(parseHostName("hv01-vm03")).toEqual({ hypervisor: "hv01", number: 3 });
    expect(parseHostName("rack-2-hv-vm120")).toEqual({ hypervisor: "rack-2-hv", number: 120 });
    expect(formatHostName("hv01", 7)).toBe("hv01-vm07");
    expect(formatHostName("hv01", 100)).toBe("hv01-vm100");
  });

  it("accepts only the canonical spelling", () => {
    for (const bad of ["hv01-vm3", "hv01-vm003", "hv01-vm00", "HV01-vm01", "hv01vm01", "-vm01", "hv01-vm01 "])
      expect(parseHostName(bad), bad).toBeUndefined();
  });

  it("orders by number first, then hypervisor", () => {
    const names = ["hv02-vm01", "hv01-vm02", "hv01-vm01"].map((n) => parseHostName(n)!);
    expect(names.sort(compareHosts).map((h) => formatHostName(h.hypervisor, h.number))).toEqual(["hv01-vm01", "hv02-vm01", "hv01-vm02"]);
  });
});

describe("ledger file", () => {
  it("parses rows with their lines", () => {
    const ledger = parseLedger("school_id,host\r\n04101234,hv01-vm01\r\n\r\n04101235,hv02-vm01\r\n", "p.csv");
    expect(ledger.issues).toEqual([]);
    expect(ledger.entries).toEqual([
      { schoolId: "04101234", host: "hv01-vm01", line: 2 },
      { schoolId: "04101235", host: "hv02-vm01", line: 4 },
    ]);
  });

  it("reports malformed ids, host names and headers", () => {
    const ledger = parseLedger("school_id,host\n4101234,hv01-vm01\n04101235,hv01-vm1\n04101236,hv01-vm02,x\n", "p.csv");
    expect(ledger.issues.map(formatIssue)).toEqual([
      'p.csv:2: field "school_id": not an 8-digit school number ("4101234")',
      'p.csv:3: field "host": not a host name of the form <hypervisor>-vm<NN>, e.g. hv01-vm03 ("hv01-vm1")',
      "p.csv:4: 3 fields, but the header has 2 (unquoted delimiter in a value?)",
    ]);
    expect(parseLedger("school,host\n", "p.csv").issues.map((i) => i.rule)).toEqual(["columns", "columns"]);
  });

  it("treats a missing file as an empty ledger", () => {
    const dir = mkdtempSync(join(tmpdir(), "ledger-"));
    expect(loadLedger(join(dir, "none.csv"), "none.csv")).toEqual({ file: "none.csv", entries: [], issues: [] });
  });

  it("writes atomically and round-trips", () => {
    const dir = mkdtempSync(join(tmpdir(), "ledger-"));
    const path = join(dir, "placement.csv");
    const entries = [
      { schoolId: "04101234", host: "hv01-vm01" },
      { schoolId: "00000001", host: "hv02-vm10" },
    ];
    writeLedger(path, entries);
    writeLedger(path, entries);
    expect(readFileSync(path, "utf8")).toBe("school_id,host\n04101234,hv01-vm01\n00000001,hv02-vm10\n");
    expect(readdirSync(dir)).toEqual(["placement.csv"]);
    expect(loadLedger(path).entries.map(({ schoolId, host }) => ({ schoolId, host }))).toEqual(entries);
    expect(serializeLedger([])).toBe("school_id,host\n");
  });
});

describe("checkLedger", () => {
  const cfg = config();
  const check = (rows: [string, string][], schools = [school("04100001"), school("04100002")]) =>
    checkLedger(
      rows.map(([schoolId, host], k) => ({ schoolId, host, line: k + 2 })),
      "p.csv",
      { config: cfg, schools, schoolsFile: "s.csv", idLines: new Map(schools.map((s, k) => [s.id, k + 2])) },
    );

  it("passes a consistent ledger", () => {
    expect(check([["04100001", "hv01-vm01"], ["04100002", "hv02-vm01"]])).toEqual([]);
  });

  it("reports unknown schools with the fix", () => {
    const issues = check([["04100001", "hv01-vm01"], ["04100002", "hv01-vm01"], ["04109999", "hv01-vm01"]]);
    expect(issues.map(formatIssue)).toEqual([
      'p.csv:4: field "school_id": school 04109999 is not in the school list (fix: run `npx fleet plan --write` to remove it (deletes its site))',
    ]);
  });

  it("reports unplaced schools at their line in the school list", () => {
    const issues = check([["04100001", "hv01-vm01"]]);
    expect(issues.map(formatIssue)).toEqual([
      's.csv:3: field "id": school 04100002 has no host in p.csv (fix: run `npx fleet plan --write`)',
    ]);
  });

  it("reports duplicate school rows naming both lines", () => {
    const issues = check([["04100001", "hv01-vm01"], ["04100002", "hv01-vm01"], ["04100001", "hv02-vm01"]]);
    expect(issues.map((i) => [i.line, i.rule, i.message])).toEqual([
      [4, "duplicate-school", "school 04100001 is placed twice (also line 2, host hv01-vm01)"],
    ]);
  });

  it("reports hosts on unknown hypervisors", () => {
    const issues = check([["04100001", "hv09-vm01"], ["04100002", "hv09-vm01"]]);
    expect(issues.map((i) => [i.line, i.field, i.rule])).toEqual([[2, "host", "unknown-hypervisor"]]);
    expect(issues[0].message).toContain("lines 2, 3");
  });

  it("reports hosts mixing tiers", () => {
    const issues = check([["04100001", "hv01-vm01"], ["04100002", "hv01-vm01"]], [school("04100001"), school("04100002", "small")]);
    expect(issues.map((i) => [i.line, i.rule, i.message])).toEqual([
      [3, "mixed-tiers", "host hv01-vm01 holds schools of different tiers: standard (line 2) and small (line 3)"],
    ]);
  });

  it("reports hosts over capacity at the first excess row", () => {
    const schools = ["04100001", "04100002", "04100003", "04100004"].map((id) => school(id, "small"));
    const issues = check(schools.map((s) => [s.id, "hv01-vm01"]), schools);
    expect(issues.map(formatIssue)).toEqual([
      `p.csv:5: field "host": host over capacity: hv01-vm01 has 4 sites, tier small allows 3 (fix: raise the tier's sitesPerHost, or delete the excess rows and re-plan (${MOVE_NOTE}))`,
    ]);
  });

  it("reports hosts past the hypervisor's address range", () => {
    const hv = hypervisor("hv01", 1);
    const narrow = config({ hypervisors: [{ ...hv, addresses: { ...hv.addresses, last: "10.20.1.11" } }] });
    const issues = checkLedger([{ schoolId: "04100001", host: "hv01-vm03", line: 2 }], "p.csv", { config: narrow, schools: [school("04100001")] });
    expect(issues.map((i) => [i.rule, i.message])).toEqual([
      ["address-range", "host hv01-vm03 would get 10.20.1.12, past the end of hv01's VM range (10.20.1.11)"],
    ]);
  });

  it("does not call a school with a broken row unknown", () => {
    const issues = checkLedger([{ schoolId: "04100001", host: "hv01-vm01", line: 2 }], "p.csv", {
      config: cfg,
      schools: [],
      idLines: new Map([["04100001", 2]]),
    });
    expect(issues).toEqual([]);
  });
});
