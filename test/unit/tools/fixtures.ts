import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { FleetOutputs, HostOutput, SiteOutput } from "../../../infra/outputs/schema";

export const DOMAIN = "moodle.schulen.example";

export function site(schoolId: string, name: string, host: string, extra: Partial<SiteOutput> = {}): SiteOutput {
  const fqdn = `${schoolId}.${DOMAIN}`;
  return {
    schoolId,
    name,
    town: "Lörrach",
    email: `poststelle@${schoolId}.schulen.example`,
    tier: "standard",
    host,
    fqdn,
    url: `https://${fqdn}/`,
    adminUser: "admin",
    ...extra,
  };
}

export function host(name: string, hypervisor: string, address: string, extra: Partial<HostOutput> = {}): HostOutput {
  return { name, hypervisor, address, tier: "standard", vcpu: 8, memoryMiB: 32768, dataDiskGiB: 1000, siteSlots: 50, siteCount: 0, ...extra };
}

/** Four schools on two hosts of two hypervisors, with passwords that need escaping everywhere. */
export function sampleOutputs(): FleetOutputs {
  const sites = [
    site("04101234", "Grundschule am Mühlbach", "hv01-vm01"),
    site("04101246", 'Gymnasium "Am See", Überlingen', "hv01-vm01"),
    site("04101258", "<script>alert(1)</script> & Co", "hv02-vm01", { tier: "small" }),
    site("04101261", "Realschule im Eichenhain", "hv01-vm01"),
  ];
  const hosts = [
    host("hv01-vm01", "hv01", "10.20.1.10", { siteCount: 3 }),
    host("hv02-vm01", "hv02", "10.20.2.10", { tier: "small", vcpu: 4, memoryMiB: 16384, dataDiskGiB: 500, siteSlots: 25, siteCount: 1 }),
  ];
  return {
    domain: DOMAIN,
    sites: Object.fromEntries(sites.map((s) => [s.schoolId, s])),
    hosts: Object.fromEntries(hosts.map((h) => [h.name, h])),
    hypervisors: {
      hv01: { name: "hv01", capacity: { vcpu: 96, memoryMiB: 491520 }, hostCount: 1 },
      hv02: { name: "hv02", capacity: { vcpu: 96, memoryMiB: 491520 }, hostCount: 1 },
    },
    adminPasswords: {
      "04101234": "Pw-1234=\"quote\";,x",
      "04101246": "Pw-1246-äöü-secret",
      "04101258": "Pw-1258-<>&-secret",
      "04101261": "Pw-1261-plain-secret",
    },
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fleet-${prefix}-`));
}

export function writeJson(file: string, value: unknown): string {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}

/** A ToolIO that records what a command printed. */
export function captureIO(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), cwd, root: cwd },
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}
