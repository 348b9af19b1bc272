import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { FleetOutputs } from "../../../infra/outputs/schema";
import { run } from "../../../stacks/commands/status";
import { capacityReport } from "../../../tools/status/capacity";
import { escapeHtml } from "../../../tools/status/render-html";
import { captureIO, host, sampleOutputs, site, tempDir, writeJson } from "./fixtures";

/** hv01: a full standard VM (50/50) and a quarter-full one; hv02: small, with a VM fleet larger than it. */
function busyOutputs(): FleetOutputs {
  const o = sampleOutputs();
  const sites = [];
  for (let k = 0; k < 50; k += 1) sites.push(site(`0420${String(k).padStart(4, "0")}`, `Schule ${k}`, "hv01-vm01"));
  for (let k = 0; k < 12; k += 1) sites.push(site(`0421${String(k).padStart(4, "0")}`, `Schule B${k}`, "hv01-vm02"));
  sites.push(site("04101258", "<script>alert(1)</script> & Co", "hv02-vm01", { tier: "small" }));
  o.sites = Object.fromEntries(sites.map((s) => [s.schoolId, s]));
  o.hosts = {
    "hv01-vm01": host("hv01-vm01", "hv01", "10.20.1.10", { siteCount: 50 }),
    "hv01-vm02": host("hv01-vm02", "hv01", "10.20.1.11", { siteCount: 12 }),
    "hv02-vm01": host("hv02-vm01", "hv02", "10.20.2.10", { tier: "small", vcpu: 4, memoryMiB: 16384, dataDiskGiB: 500, siteSlots: 25, siteCount: 1 }),
  };
  o.hypervisors = {
    hv01: { name: "hv01", capacity: { vcpu: 96, memoryMiB: 491520 }, hostCount: 2 },
    hv02: { name: "hv02", capacity: { vcpu: 2, memoryMiB: 8192 }, hostCount: 1 },
  };
  o.adminPasswords = {};
  return o;
}

/** Checks that every non-void element is closed in order: enough to catch broken markup. */
function expectBalancedMarkup(html: string) {
  const voids = new Set(["meta", "br", "hr", "img", "input", "link", "line", "rect"]);
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(\/?)>/g)) {
    const [, closing, rawName, selfClosing] = m;
    const name = rawName.toLowerCase();
    if (name === "!doctype") continue;
    if (closing) {
      expect(stack.pop(), `closing </${name}>`).toBe(name);
    } else if (!selfClosing && !voids.has(name)) stack.push(name);
  }
  expect(stack).toEqual([]);
}

describe("fleet status: capacity", () => {
  it("counts sites, slots, vCPU, RAM and disk per hypervisor, host and tier", () => {
    const r = capacityReport(busyOutputs(), 5);
    const hv01 = r.hypervisors.find((h) => h.name === "hv01");
    expect(hv01).toMatchObject({ hosts: 2, sites: 62, slots: 100, vcpu: 16, memoryMiB: 65536, diskGiB: 2000 });
    // Normal share: the full VM entirely, the other at 12/50.
    expect(hv01?.normal.vcpu).toBeCloseTo(8 + 8 * 0.24);
    expect(r.tiers.map((t) => [t.name, t.hosts, t.sites, t.slots])).toEqual([
      ["small", 1, 1, 25],
      ["standard", 2, 62, 100],
    ]);
    expect(r.total).toMatchObject({ sites: 63, slots: 125, hosts: 3, hypervisors: 2 });
    expect(r.warnings).toEqual([]);
  });

  it("flags hosts whose sites × load factor exceed their slots, and hypervisors whose demand × load factor exceeds capacity", () => {
    const at5 = capacityReport(busyOutputs(), 5);
    expect(at5.hosts.filter((h) => h.overloaded).map((h) => h.name)).toEqual(["hv01-vm01", "hv01-vm02"]); // 12 × 5 = 60 > 50
    expect(at5.hosts.find((h) => h.name === "hv01-vm02")?.headroom).toBeCloseTo(50 / 12);
    // hv01: 9.92 vCPU at normal load × 5 = 49.6 ≤ 96; hv02 commits 4 vCPU of 2: overcommitted.
    expect(at5.hypervisors.map((h) => [h.name, h.overloaded, h.overcommitted])).toEqual([
      ["hv01", false, false],
      ["hv02", true, true],
    ]);
    const at20 = capacityReport(busyOutputs(), 20);
    expect(at20.hypervisors.find((h) => h.name === "hv01")?.overloaded).toBe(true); // 9.92 × 20 > 96
    const at1 = capacityReport(busyOutputs(), 1);
    expect(at1.hosts.some((h) => h.overloaded)).toBe(false);
  });

  it("warns when siteCount and the sites disagree", () => {
    const o = busyOutputs();
    o.hosts["hv01-vm02"].siteCount = 13;
    expect(capacityReport(o, 5).warnings).toEqual(["host hv01-vm02: siteCount is 13, but 12 site(s) name it; counting 12"]);
  });
});

describe("fleet status: command", () => {
  it("prints the tables, the flags and the rule", async () => {
    const work = tempDir("status");
    const outputs = writeJson(path.join(work, "outputs.json"), busyOutputs());
    const c = captureIO(work);
    expect(await run(["--outputs", "outputs.json", "--stack", "prod"], c.io)).toBe(0);
    const text = c.stdout();
    expect(text).toContain("stack prod");
    expect(text).toMatch(/^hv01\s+2\s+62\/100\s+38\s+16\/96 17%\s+64\/480 13%\s+2000\s+9\.7×\s+ok$/m);
    expect(text).toMatch(/^hv02\s+1\s+1\/25\s+24\s+4\/2 200%\s+16\/8 200%\s+500\s+0\.0×\s+OVERCOMMITTED$/m);
    expect(text).toMatch(/^hv01-vm01\s+hv01\s+standard\s+50\/50\s+0\s+8\s+32\s+1000\s+1\.0×\s+OVER at 5×$/m);
    expect(text).toMatch(/^hv02-vm01\s+hv02\s+small\s+1\/25\s+24\s+4\s+16\s+500\s+25×\s+ok$/m);
    expect(text).toMatch(/^small\s+1\s+1\/25\s+24\s+4\s+16\s+500$/m);
    expect(text).toContain("Flagged at 5× load: 2 host(s) (hv01-vm01, hv01-vm02), 1 hypervisor(s) (hv02)");
    expect(text).toContain("A host is flagged when sites × L > slots");
    expect(text).toContain("BelWü planned for 5× the usual load and got 20×");
    expect(fs.existsSync(outputs)).toBe(true);

    const c20 = captureIO(work);
    expect(await run(["--outputs", "outputs.json", "--load-factor", "20"], c20.io)).toBe(0);
    expect(c20.stdout()).toContain("2 hypervisor(s) (hv01, hv02)");
  });

  it("writes a self-contained HTML page with a chart, flags, and every name escaped", async () => {
    const work = tempDir("status");
    writeJson(path.join(work, "outputs.json"), busyOutputs());
    const c = captureIO(work);
    expect(await run(["--outputs", "outputs.json", "--html", "status.html"], c.io, () => new Date("2020-03-16T06:00:00Z"))).toBe(0);
    const html = fs.readFileSync(path.join(work, "status.html"), "utf8");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain("<style>");
    expect(html).toContain("<svg");
    expect(html).toContain("Generated 2020-03-16T06:00:00.000Z");
    // The school name arrives as text, never as markup.
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co");
    // No external assets: nothing is loaded from anywhere.
    expect(html).not.toMatch(/<link\b|<img\b|<iframe\b|\bsrc=|@import|url\(/i);
    // Flagged rows and the rule are on the page.
    expect(html).toMatch(/<tr class="over"><td class="l">hv01-vm01<\/td>/);
    expect(html).toMatch(/<tr class="over"><td class="l">hv02<\/td>.*overcommitted/);
    expect(html).toContain("A host is flagged when sites × L &gt; slots");
    expectBalancedMarkup(html);
  });

  it("escapes every character that matters in HTML", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });

  it("rejects a bad load factor and a missing --outputs", async () => {
    const c = captureIO(tempDir("status"));
    expect(await run(["--outputs", "x.json", "--load-factor", "-1"], c.io)).toBe(2);
    expect(await run([], c.io)).toBe(2);
    expect(c.stderr()).toContain("--outputs is required");
  });
});
