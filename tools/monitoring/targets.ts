import { stringify } from "yaml";
import type { FleetOutputs } from "../../infra/outputs/schema";

export const NODE_EXPORTER_PORT = 9100;
export const HOSTS_JOB = "moodle-hosts";
export const SITES_JOB = "moodle-sites";

export const FILES = {
  nodes: "node-exporters.json",
  sites: "moodle-sites.json",
  rules: "alerts.yml",
  prometheus: "prometheus.yml",
} as const;

/** One entry of a Prometheus file_sd file. */
export interface FileSdGroup {
  targets: string[];
  labels: Record<string, string>;
}

const byKey = <T>(record: Record<string, T>): T[] =>
  Object.keys(record)
    .sort()
    .map((k) => record[k]);

/** host:port, with brackets around an IPv6 address. */
export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Node exporters: one group per host VM. */
export function nodeExporterTargets(outputs: FleetOutputs): FileSdGroup[] {
  return byKey(outputs.hosts).map((h) => ({
    targets: [hostPort(h.address, NODE_EXPORTER_PORT)],
    labels: { host: h.name, hypervisor: h.hypervisor, tier: h.tier },
  }));
}

/** Blackbox HTTP probes: one group per site, the URL as the target. */
export function siteProbeTargets(outputs: FleetOutputs): FileSdGroup[] {
  return byKey(outputs.sites).map((s) => ({
    targets: [s.url],
    labels: { school_id: s.schoolId, school_name: s.name, host: s.host },
  }));
}

const FS_FILTER = 'fstype!~"tmpfs|devtmpfs|ramfs|overlay|squashfs|nsfs|fuse.*"';

/** Alert rules: site down, disk above 85 %, memory pressure, exporter gone. */
export function alertRules() {
  return {
    groups: [
      {
        name: "moodle-fleet",
        rules: [
          {
            alert: "MoodleSiteDown",
            expr: `probe_success{job="${SITES_JOB}"} == 0`,
            for: "5m",
            labels: { severity: "critical" },
            annotations: {
              summary: "Moodle of {{ $labels.school_name }} ({{ $labels.school_id }}) is down",
              description: "{{ $labels.instance }} on host {{ $labels.host }} has failed its HTTP probe for more than 5 minutes.",
            },
          },
          {
            alert: "MoodleHostDiskUsageHigh",
            expr:
              `100 * (1 - node_filesystem_avail_bytes{job="${HOSTS_JOB}",${FS_FILTER}}` +
              ` / node_filesystem_size_bytes{job="${HOSTS_JOB}",${FS_FILTER}}) > 85`,
            for: "5m",
            labels: { severity: "warning" },
            annotations: {
              summary: "Disk {{ $labels.mountpoint }} on {{ $labels.host }} is {{ $value | printf \"%.0f\" }} % full",
              description: "More than 85 % of {{ $labels.mountpoint }} on {{ $labels.host }} (hypervisor {{ $labels.hypervisor }}) is used; grow the volume or move sites.",
            },
          },
          {
            alert: "MoodleHostMemoryPressure",
            expr: `100 * node_memory_MemAvailable_bytes{job="${HOSTS_JOB}"} / node_memory_MemTotal_bytes{job="${HOSTS_JOB}"} < 10`,
            for: "5m",
            labels: { severity: "warning" },
            annotations: {
              summary: "Memory pressure on {{ $labels.host }}: {{ $value | printf \"%.1f\" }} % available",
              description: "MemAvailable on {{ $labels.host }} (tier {{ $labels.tier }}) has been below 10 % of MemTotal for 5 minutes; php-fpm and the database will start to swap.",
            },
          },
          {
            alert: "MoodleHostExporterDown",
            expr: `up{job="${HOSTS_JOB}"} == 0`,
            for: "5m",
            labels: { severity: "warning" },
            annotations: {
              summary: "No metrics from {{ $labels.host }}",
              description: "The node exporter on {{ $labels.instance }} has not answered for 5 minutes: the host is down or the exporter stopped.",
            },
          },
        ],
      },
    ],
  };
}

export interface PrometheusOptions {
  /** Where the blackbox exporter listens, as seen from Prometheus. */
  blackbox: string;
  /** Directory of the generated files on the Prometheus server; "" = beside prometheus.yml. */
  fileDir: string;
}

/** The scrape jobs and rule file for prometheus.yml; a complete, checkable configuration. */
export function prometheusConfig(options: PrometheusOptions) {
  const file = (name: string) => (options.fileDir === "" ? name : `${options.fileDir.replace(/\/+$/, "")}/${name}`);
  return {
    rule_files: [file(FILES.rules)],
    scrape_configs: [
      {
        job_name: HOSTS_JOB,
        file_sd_configs: [{ files: [file(FILES.nodes)], refresh_interval: "5m" }],
      },
      {
        job_name: SITES_JOB,
        metrics_path: "/probe",
        params: { module: ["http_2xx"] },
        scrape_interval: "1m",
        scrape_timeout: "15s",
        file_sd_configs: [{ files: [file(FILES.sites)], refresh_interval: "5m" }],
        relabel_configs: [
          { source_labels: ["__address__"], target_label: "__param_target" },
          { source_labels: ["__param_target"], target_label: "instance" },
          { target_label: "__address__", replacement: options.blackbox },
        ],
      },
    ],
  };
}

const HEADER = "# Generated by `fleet targets` from the stack outputs; do not edit, regenerate.\n";

export interface GeneratedFiles {
  [name: string]: string;
}

export function generateMonitoring(outputs: FleetOutputs, options: PrometheusOptions): GeneratedFiles {
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  return {
    [FILES.nodes]: json(nodeExporterTargets(outputs)),
    [FILES.sites]: json(siteProbeTargets(outputs)),
    [FILES.rules]: HEADER + stringify(alertRules(), { lineWidth: 0 }),
    [FILES.prometheus]:
      HEADER +
      "# Merge rule_files and scrape_configs into the Prometheus configuration;\n" +
      `# the probe job needs a blackbox exporter with the http_2xx module at ${options.blackbox}.\n` +
      stringify(prometheusConfig(options), { lineWidth: 0 }),
  };
}
