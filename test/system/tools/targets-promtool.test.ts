import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../../../stacks/commands/targets";
import { captureIO, sampleOutputs, tempDir, writeJson } from "../../unit/tools/fixtures";

/**
 * The generated monitoring files, checked by Prometheus's own promtool
 * (Debian package `prometheus`). A missing promtool fails the test unless
 * the person running it chose LAB=skip.
 */
const labSkipped = process.env.LAB === "skip";

function findPromtool(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/bin", "/usr/local/bin"])) {
    const candidate = path.join(dir, "promtool");
    if (dir !== "" && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

const promtool = findPromtool();
if (!promtool && labSkipped) console.warn("\n*** LAB=skip and no promtool: the Prometheus checks of `fleet targets` are NOT run ***\n");

function check(...args: string[]): string {
  const result = spawnSync(promtool as string, args, { encoding: "utf8" });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`promtool ${args.join(" ")} failed (exit ${result.status}):\n${output}`);
  return output;
}

describe.skipIf(!promtool && labSkipped)("fleet targets: files accepted by promtool", () => {
  let dir: string;

  beforeAll(async () => {
    if (!promtool)
      throw new Error(
        "promtool not found: install Debian's prometheus package (apt-get install -y --no-install-recommends prometheus), " +
          "or set LAB=skip to skip this test knowingly",
      );
    execFileSync(promtool, ["--version"], { stdio: "ignore" });
    const work = tempDir("targets-sys");
    const outputs = writeJson(path.join(work, "outputs.json"), sampleOutputs());
    dir = path.join(work, "prometheus");
    const c = captureIO(work);
    expect(await run(["--outputs", outputs, "--out", dir], c.io)).toBe(0);
  });

  it("promtool check rules accepts the alert rules", () => {
    expect(check("check", "rules", path.join(dir, "alerts.yml"))).toMatch(/SUCCESS: 4 rules found/);
  });

  it("promtool check config accepts prometheus.yml with its rule file and file_sd files", () => {
    expect(check("check", "config", path.join(dir, "prometheus.yml"))).toMatch(/SUCCESS: .*prometheus\.yml is valid/);
  });

  it("promtool check config notices a broken file_sd file, so the check above means something", () => {
    const broken = path.join(path.dirname(dir), "broken");
    fs.cpSync(dir, broken, { recursive: true });
    fs.writeFileSync(path.join(broken, "moodle-sites.json"), '[{"targets": "not-a-list"}]');
    expect(() => check("check", "config", path.join(broken, "prometheus.yml"))).toThrow(/moodle-sites\.json/);
  });

  it("the alerts fire on the series they are meant for, and only after 5 minutes", () => {
    const site = (id: string, host: string) =>
      `{job="moodle-sites",instance="https://${id}.moodle.schulen.example/",school_id="${id}",school_name="School ${id}",host="${host}"}`;
    const node = (host: string, extra = "") => `{job="moodle-hosts",instance="10.0.0.1:9100",host="${host}",hypervisor="hv01",tier="standard"${extra}}`;
    const fsLabels = ',mountpoint="/srv/moodle",fstype="ext4",device="/dev/vdb"';
    const tests = {
      rule_files: [path.join(dir, "alerts.yml")],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            { series: `probe_success${site("04101234", "hv01-vm01")}`, values: "0x10" },
            { series: `probe_success${site("04101246", "hv01-vm01")}`, values: "1x10" },
            { series: `node_filesystem_avail_bytes${node("hv01-vm01", fsLabels)}`, values: "10x10" },
            { series: `node_filesystem_size_bytes${node("hv01-vm01", fsLabels)}`, values: "100x10" },
            { series: `node_filesystem_avail_bytes${node("hv02-vm01", fsLabels)}`, values: "50x10" },
            { series: `node_filesystem_size_bytes${node("hv02-vm01", fsLabels)}`, values: "100x10" },
            { series: `node_memory_MemAvailable_bytes${node("hv01-vm01")}`, values: "5x10" },
            { series: `node_memory_MemTotal_bytes${node("hv01-vm01")}`, values: "100x10" },
            { series: `node_memory_MemAvailable_bytes${node("hv02-vm01")}`, values: "50x10" },
            { series: `node_memory_MemTotal_bytes${node("hv02-vm01")}`, values: "100x10" },
            { series: `up${node("hv01-vm01")}`, values: "1x10" },
          ],
          alert_rule_test: [
            { eval_time: "4m", alertname: "MoodleSiteDown", exp_alerts: [] },
            {
              eval_time: "10m",
              alertname: "MoodleSiteDown",
              exp_alerts: [
                {
                  exp_labels: {
                    severity: "critical",
                    job: "moodle-sites",
                    instance: "https://04101234.moodle.schulen.example/",
                    school_id: "04101234",
                    school_name: "School 04101234",
                    host: "hv01-vm01",
                  },
                  exp_annotations: {
                    summary: "Moodle of School 04101234 (04101234) is down",
                    description: "https://04101234.moodle.schulen.example/ on host hv01-vm01 has failed its HTTP probe for more than 5 minutes.",
                  },
                },
              ],
            },
            {
              eval_time: "10m",
              alertname: "MoodleHostDiskUsageHigh",
              exp_alerts: [
                {
                  exp_labels: {
                    severity: "warning",
                    job: "moodle-hosts",
                    instance: "10.0.0.1:9100",
                    host: "hv01-vm01",
                    hypervisor: "hv01",
                    tier: "standard",
                    mountpoint: "/srv/moodle",
                    fstype: "ext4",
                    device: "/dev/vdb",
                  },
                  exp_annotations: {
                    summary: "Disk /srv/moodle on hv01-vm01 is 90 % full",
                    description: "More than 85 % of /srv/moodle on hv01-vm01 (hypervisor hv01) is used; grow the volume or move sites.",
                  },
                },
              ],
            },
            {
              eval_time: "10m",
              alertname: "MoodleHostMemoryPressure",
              exp_alerts: [
                {
                  exp_labels: {
                    severity: "warning",
                    job: "moodle-hosts",
                    instance: "10.0.0.1:9100",
                    host: "hv01-vm01",
                    hypervisor: "hv01",
                    tier: "standard",
                  },
                  exp_annotations: {
                    summary: "Memory pressure on hv01-vm01: 5.0 % available",
                    description:
                      "MemAvailable on hv01-vm01 (tier standard) has been below 10 % of MemTotal for 5 minutes; php-fpm and the database will start to swap.",
                  },
                },
              ],
            },
            { eval_time: "10m", alertname: "MoodleHostExporterDown", exp_alerts: [] },
          ],
        },
      ],
    };
    const file = path.join(path.dirname(dir), "alerts.test.yml");
    fs.writeFileSync(file, stringify(tests, { lineWidth: 0 }));
    expect(check("test", "rules", file)).toMatch(/SUCCESS/);
  });
});
