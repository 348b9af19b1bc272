import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { run } from "../../../stacks/commands/targets";
import { hostPort, nodeExporterTargets, siteProbeTargets } from "../../../tools/monitoring/targets";
import { captureIO, host, sampleOutputs, tempDir, writeJson } from "./fixtures";

describe("fleet targets", () => {
  it("writes file_sd targets per host and per site with their labels", async () => {
    const work = tempDir("targets");
    const outputs = writeJson(path.join(work, "outputs.json"), sampleOutputs());
    const out = path.join(work, "mon");
    const c = captureIO(work);
    expect(await run(["--outputs", outputs, "--out", out, "--blackbox", "blackbox.internal:9115"], c.io)).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["alerts.yml", "moodle-sites.json", "node-exporters.json", "prometheus.yml"]);

    const nodes = JSON.parse(fs.readFileSync(path.join(out, "node-exporters.json"), "utf8"));
    expect(nodes).toEqual([
      { targets: ["10.20.1.10:9100"], labels: { host: "hv01-vm01", hypervisor: "hv01", tier: "standard" } },
      { targets: ["10.20.2.10:9100"], labels: { host: "hv02-vm01", hypervisor: "hv02", tier: "small" } },
    ]);
    const sites = JSON.parse(fs.readFileSync(path.join(out, "moodle-sites.json"), "utf8"));
    expect(sites).toHaveLength(4);
    expect(sites[2]).toEqual({
      targets: ["https://04101258.moodle.schulen.example/"],
      labels: { school_id: "04101258", school_name: "<script>alert(1)</script> & Co", host: "hv02-vm01" },
    });

    const prom = parse(fs.readFileSync(path.join(out, "prometheus.yml"), "utf8"));
    expect(prom.rule_files).toEqual(["alerts.yml"]);
    const probe = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === "moodle-sites");
    expect(probe.metrics_path).toBe("/probe");
    expect(probe.file_sd_configs[0].files).toEqual(["moodle-sites.json"]);
    expect(probe.relabel_configs.at(-1)).toEqual({ target_label: "__address__", replacement: "blackbox.internal:9115" });

    const rules = parse(fs.readFileSync(path.join(out, "alerts.yml"), "utf8")).groups[0].rules;
    const byName = Object.fromEntries(rules.map((r: { alert: string }) => [r.alert, r]));
    expect(byName.MoodleSiteDown).toMatchObject({ expr: 'probe_success{job="moodle-sites"} == 0', for: "5m" });
    expect(byName.MoodleHostDiskUsageHigh.expr).toMatch(/> 85$/);
    expect(byName.MoodleHostMemoryPressure.expr).toMatch(/MemAvailable_bytes.*MemTotal_bytes.* < 10$/);
  });

  it("is deterministic and puts files elsewhere when asked", async () => {
    const work = tempDir("targets");
    const outputs = writeJson(path.join(work, "outputs.json"), sampleOutputs());
    const read = (d: string) => Object.fromEntries(fs.readdirSync(d).map((f) => [f, fs.readFileSync(path.join(d, f), "utf8")]));
    const c = captureIO(work);
    await run(["--outputs", outputs, "--out", "a"], c.io);
    await run(["--outputs", outputs, "--out", "b"], c.io);
    expect(read(path.join(work, "a"))).toEqual(read(path.join(work, "b")));
    await run(["--outputs", outputs, "--out", "c", "--file-dir", "/etc/prometheus/moodle-fleet/"], c.io);
    const prom = parse(fs.readFileSync(path.join(work, "c", "prometheus.yml"), "utf8"));
    expect(prom.rule_files).toEqual(["/etc/prometheus/moodle-fleet/alerts.yml"]);
  });

  it("brackets IPv6 addresses and orders by name", () => {
    expect(hostPort("fd00::10", 9100)).toBe("[fd00::10]:9100");
    const o = sampleOutputs();
    o.hosts = { b: host("b", "hv01", "fd00::2"), a: host("a", "hv01", "10.0.0.1") };
    expect(nodeExporterTargets(o).map((g) => g.targets[0])).toEqual(["10.0.0.1:9100", "[fd00::2]:9100"]);
    expect(siteProbeTargets(o).map((g) => g.labels.school_id)).toEqual(["04101234", "04101246", "04101258", "04101261"]);
  });

  it("accepts outputs exported without --show-secrets, and names a bad field", async () => {
    const work = tempDir("targets");
    const hidden = writeJson(path.join(work, "hidden.json"), { ...sampleOutputs(), adminPasswords: "[secret]" });
    const c = captureIO(work);
    expect(await run(["--outputs", hidden, "--out", "mon"], c.io)).toBe(0);

    const bad = sampleOutputs();
    bad.sites["04101234"].host = "nowhere";
    const c2 = captureIO(work);
    expect(await run(["--outputs", writeJson(path.join(work, "bad.json"), bad), "--out", "mon"], c2.io)).toBe(1);
    expect(c2.stderr()).toContain('bad.json: sites["04101234"].host: names host "nowhere", which is not in hosts');
    const c3 = captureIO(work);
    expect(await run(["--outputs", path.join(work, "absent.json"), "--out", "mon"], c3.io)).toBe(1);
    expect(c3.stderr()).toMatch(/absent\.json: cannot read/);
    expect(await run(["--out", "mon"], c3.io)).toBe(2);
  });
});
