import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { School } from "../../schools/schema";
import { checkLedger } from "../../infra/inputs/ledger-check";
import type { LedgerEntry } from "../../infra/inputs/ledger";
import { buildFleetPlan } from "../../infra/plan/fleet-plan";
import { planPlacements } from "../../infra/plan/placement";
import type { PlannedHost } from "../../infra/plan/types";
import { config, hypervisor, schoolId } from "./support/builders";

const roomy = (installsPerHost: number) =>
  config({
    installsPerHost,
    hypervisors: [hypervisor("hv01", 1, { vcpu: 4096, memoryMiB: 1 << 24 }), hypervisor("hv02", 2, { vcpu: 4096, memoryMiB: 1 << 24 })],
  });

const schoolArb = fc.record({
  id: fc.integer({ min: 0, max: 99_999_999 }).map(schoolId),
  name: fc.string({ minLength: 1, maxLength: 30, unit: "grapheme" }),
  town: fc.constantFrom("Ulm", "Tübingen", "Baden-Baden"),
  email: fc.constant("poststelle@x.schulen.example"),
  tier: fc.constantFrom("small", "standard"),
});
const schoolsArb = fc.uniqueArray(schoolArb, { selector: (s) => s.id, maxLength: 40 });
const installsArb = fc.integer({ min: 1, max: 5 });

const ledgerFor = (file: string, entries: LedgerEntry[]) => ({ file, entries, issues: [] });
const place = (schools: readonly School[], entries: LedgerEntry[], installs: number) => {
  const result = planPlacements({ schools, config: roomy(installs), ledger: ledgerFor("p.csv", entries) });
  expect(result.ok).toBe(true);
  return result.ledger;
};
const build = (schools: readonly School[], ledger: LedgerEntry[], installs: number) =>
  buildFleetPlan({ schools, config: roomy(installs), ledger });
const withoutSites = ({ sites: _sites, ...rest }: PlannedHost) => rest;

describe("properties", () => {
  it("adding a school changes nothing about any other site or host", () => {
    fc.assert(
      fc.property(schoolsArb, schoolArb, installsArb, (schools, extra, installs) => {
        fc.pre(!schools.some((s) => s.id === extra.id));
        const before = place(schools, [], installs);
        const after = place([...schools, extra], before, installs);
        const p1 = build(schools, before, installs);
        const p2 = build([...schools, extra], after, installs);
        for (const site of p1.sites) expect(p2.sitesById[site.schoolId]).toEqual(site);
        for (const host of p1.hosts) expect(withoutSites(p2.hostsByName[host.name])).toEqual(withoutSites(host));
        expect(p2.sites).toHaveLength(p1.sites.length + 1);
      }),
    );
  });

  it("removing a school never moves or renames another", () => {
    fc.assert(
      fc.property(schoolsArb.filter((s) => s.length > 0), fc.nat(), installsArb, (schools, pick, installs) => {
        const gone = schools[pick % schools.length];
        const before = place(schools, [], installs);
        const rest = schools.filter((s) => s !== gone);
        const after = place(rest, before, installs);
        expect(after).toEqual(before.filter((e) => e.schoolId !== gone.id).map(({ schoolId, host }) => ({ schoolId, host })));
        const p1 = build(schools, before, installs);
        const p2 = build(rest, after, installs);
        for (const site of p2.sites) {
          const { installAfter: _a, ...now } = site;
          const { installAfter: _b, ...was } = p1.sitesById[site.schoolId];
          expect(now).toEqual(was);
        }
      }),
    );
  });

  it("the same inputs give a deep-equal plan, whatever the school list's order", () => {
    fc.assert(
      fc.property(schoolsArb, installsArb, fc.nat(), (schools, installs, seed) => {
        const ledger = place(schools, [], installs);
        const shuffled = [...schools].sort((a, b) => ((Number(a.id) * 7919 + seed) % 101) - ((Number(b.id) * 7919 + seed) % 101));
        expect(build(shuffled, place(shuffled, [], installs), installs)).toEqual(build(schools, ledger, installs));
        expect(build(structuredClone(schools), structuredClone(ledger), installs)).toEqual(build(schools, ledger, installs));
      }),
    );
  });

  it("the planner never moves existing entries, and the ledgers it writes are valid", () => {
    fc.assert(
      fc.property(schoolsArb, fc.array(fc.boolean(), { maxLength: 40 }), schoolsArb, installsArb, (first, keep, added, installs) => {
        const ledger = place(first, [], installs);
        const staying = first.filter((_, k) => keep[k] ?? true);
        const second = [...staying, ...added.filter((a) => !first.some((f) => f.id === a.id))];
        const next = place(second, ledger, installs);
        const ids = new Set(second.map((s) => s.id));
        const kept = ledger.filter((e) => ids.has(e.schoolId));
        expect(next.slice(0, kept.length)).toEqual(kept);
        expect(new Set(next.map((e) => e.schoolId))).toEqual(ids);
        expect(checkLedger(next, "p.csv", { config: roomy(installs), schools: second })).toEqual([]);
      }),
    );
  });

  it("placing in batches keeps every host within capacity and of one tier", () => {
    fc.assert(
      fc.property(fc.array(schoolsArb, { maxLength: 4 }), installsArb, (batches, installs) => {
        const all = new Map<string, School>();
        let ledger: LedgerEntry[] = [];
        for (const batch of batches) {
          for (const s of batch) if (!all.has(s.id)) all.set(s.id, s);
          ledger = place([...all.values()], ledger, installs);
          expect(checkLedger(ledger, "p.csv", { config: roomy(installs), schools: [...all.values()] })).toEqual([]);
        }
      }),
    );
  });
});
