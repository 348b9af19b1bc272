import { describe, expect, it } from "vitest";
import { buildFleetPlan } from "../../../../infra/plan/fleet-plan";
import { checkSites, escapeHtml, formatCheckTable, type Probes } from "../../../../tools/health/check";
import { config, school } from "../../support/builders";

const schools = [school("04100001"), { ...school("04100002"), name: `Schule "Am Bach" & <Söhne>` }];
const plan = buildFleetPlan({
  schools,
  config: config(),
  ledger: [
    { schoolId: "04100001", host: "hv01-vm01" },
    { schoolId: "04100002", host: "hv01-vm01" },
  ],
});
const address = plan.hostsByName["hv01-vm01"].address;

/** A healthy fleet as the probes see it; `broken` overrides per fqdn. */
function probes(broken: Partial<Record<string, Partial<{ a: string[]; status: number; body: string }>>> = {}): Probes {
  return {
    async resolve(fqdn) {
      const a = broken[fqdn]?.a ?? [address];
      if (a.length === 0) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
      return a;
    },
    async fetch(url, from) {
      const site = plan.sites.find((s) => s.url === url)!;
      expect(from).toBe(address);
      const b = broken[site.fqdn] ?? {};
      return { status: b.status ?? 200, body: b.body ?? `<h1>${escapeHtml(site.name)}</h1>` };
    },
  };
}

describe("fleet check", () => {
  it("passes sites whose record points at their host and whose page names them", async () => {
    const results = await checkSites(plan, { timeoutMs: 1000, retryDelayMs: 1, probes: probes() });
    expect(results.map((r) => [r.schoolId, r.ok])).toEqual([
      ["04100001", true],
      ["04100002", true],
    ]);
    expect(formatCheckTable(results)).toMatch(/2 ok, 0 failed$/);
  });

  it("fails a missing or wrong record, an error page, and a page showing another name", async () => {
    const [a, b] = plan.sites;
    const missing = await checkSites(plan, { timeoutMs: 1000, retryDelayMs: 1, probes: probes({ [a.fqdn]: { a: [] }, [b.fqdn]: { status: 503 } }) });
    expect(missing.map((r) => [r.dns, r.http])).toEqual([
      ["lookup failed: ENOTFOUND", "ok"],
      ["ok", "HTTP 503"],
    ]);
    const wrong = await checkSites(plan, {
      timeoutMs: 1000,
      retryDelayMs: 1,
      // The name unescaped is not what Moodle prints: the check must not accept it.
      probes: probes({ [a.fqdn]: { a: ["10.9.9.9"] }, [b.fqdn]: { body: `<h1>${b.name}</h1>` } }),
    });
    expect(wrong[0].dns).toBe(`A 10.9.9.9, expected ${address}`);
    expect(wrong[1].http).toMatch(/does not show the school's name/);
    const table = formatCheckTable(wrong);
    expect(table).toMatch(/0 ok, 2 failed$/);
    expect(table).toContain("FAILED");
  });

  it("tries a failing site again, and fails it only when every try fails", async () => {
    const [a, b] = plan.sites;
    const healthy = probes();
    const fetched: Record<string, number> = {};
    // Site a drops its first request (a host reloading php-fpm); site b is down.
    const flaky: Probes = {
      resolve: healthy.resolve,
      async fetch(url, from) {
        fetched[url] = (fetched[url] ?? 0) + 1;
        if (url === a.url && fetched[url] === 1) throw Object.assign(new Error("reset"), { code: "ECONNRESET" });
        if (url === b.url) return { status: 503, body: "" };
        return healthy.fetch(url, from);
      },
    };
    const results = await checkSites(plan, { timeoutMs: 1000, attempts: 3, retryDelayMs: 1, probes: flaky });
    expect(results.map((r) => [r.schoolId, r.ok, r.http])).toEqual([
      [a.schoolId, true, "ok"],
      [b.schoolId, false, "HTTP 503"],
    ]);
    expect(fetched).toEqual({ [a.url]: 2, [b.url]: 3 });
    const once = await checkSites(plan, { timeoutMs: 1000, attempts: 1, probes: { ...flaky, fetch: async () => ({ status: 502, body: "" }) } });
    expect(once.every((r) => !r.ok)).toBe(true);
  });

  it("escapes a name as Moodle's htmlspecialchars does", () => {
    expect(escapeHtml(`a "b" & 'c' <d>`)).toBe("a &quot;b&quot; &amp; &#039;c&#039; &lt;d&gt;");
  });
});
