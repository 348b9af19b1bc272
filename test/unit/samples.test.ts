import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadFleetInputs } from "../../infra/inputs/fleet-inputs";
import { isError } from "../../infra/inputs/issues";
import { buildFleetPlan } from "../../infra/plan/fleet-plan";
import { planPlacements } from "../../infra/plan/placement";

const ROOT = resolve(__dirname, "../..");
const load = (stackConfig: string) =>
  loadFleetInputs({
    schools: { path: resolve(ROOT, "schools/schools.csv"), shownAs: "schools/schools.csv" },
    ledger: { path: resolve(ROOT, "schools/placement.csv"), shownAs: "schools/placement.csv" },
    stackConfig: { path: stackConfig, shownAs: "Pulumi.prod.yaml" },
    stack: "prod",
  });

/**
 * Pulumi.prod.yaml as it will be once its wildcard certificate is added (a
 * stand-in PEM): the committed file has none, so it is refused until then.
 */
function withCertificate(): string {
  const dir = mkdtempSync(join(tmpdir(), "samples-"));
  const file = join(dir, "Pulumi.prod.yaml");
  const pem = "-----BEGIN CERTIFICATE-----\\nMIIBszCCAVmgAwIBAgIUQ==\\n-----END CERTIFICATE-----";
  writeFileSync(file, readFileSync(resolve(ROOT, "Pulumi.prod.yaml"), "utf8").replace(/^config:\n/m, `config:\n  moodle-fleet:tls: {certificate: "${pem}"}\n`));
  return file;
}
const inputs = () => load(withCertificate());

describe("committed sample inputs", () => {
  it("refuse the production config until it has a certificate", () => {
    const committed = load(resolve(ROOT, "Pulumi.prod.yaml"));
    expect(committed.issues.filter(isError).map((i) => [i.file, i.field, i.rule])).toEqual([["Pulumi.prod.yaml", "tls", "tls-required"]]);
  });

  it("validate together with a certificate, with only missing-secret warnings", () => {
    const loaded = inputs();
    expect(loaded.issues.filter(isError)).toEqual([]);
    expect(loaded.issues.map((i) => i.rule)).toEqual(["missing-secret", "missing-secret", "missing-secret"]);
  });

  it("hold at least 48 schools of several tiers under .example addresses", () => {
    const { schoolList } = inputs();
    expect(schoolList.schools.length).toBeGreaterThanOrEqual(48);
    expect(new Set(schoolList.schools.map((s) => s.tier))).toEqual(new Set(["small", "standard"]));
    for (const s of schoolList.schools) expect(s.email).toMatch(/\.example$/);
  });

  it("describe the production fleet", () => {
    const { config } = inputs();
    expect(config?.hypervisors.map((h) => h.name)).toEqual(["hv01", "hv02", "hv03"]);
    expect(config?.tiers).toEqual({
      small: { vcpu: 4, memoryMiB: 16384, sitesPerHost: 25, diskGiBPerSite: 20, phpWorkers: 4, rootDiskGiB: 20 },
      standard: { vcpu: 8, memoryMiB: 32768, sitesPerHost: 50, diskGiBPerSite: 20, phpWorkers: 8, rootDiskGiB: 20 },
    });
    expect(config?.moodle.release.git).toMatchObject({ tag: "v4.5.7", commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(config?.allowPlainHttp).toBe(false);
  });

  it("have a ledger the planner leaves alone and a plan that builds", () => {
    const { schoolList, config, ledger, hosts, uids } = inputs();
    const result = planPlacements({ schools: schoolList.schools, config: config!, ledger, hosts, uids });
    expect(result.changed).toBe(false);
    const plan = buildFleetPlan({ schools: schoolList.schools, config: config!, ledger: ledger.entries, hosts: hosts.hosts, uids: uids.bySchool });
    expect(plan.sites).toHaveLength(schoolList.schools.length);
  });
});
