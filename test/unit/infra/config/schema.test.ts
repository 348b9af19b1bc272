import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadStackConfig } from "../../../../infra/config/stack-file";
import { validateFleetConfig } from "../../../../infra/config/validate";
import { configInput } from "../../support/builders";

const ROOT = path.resolve(__dirname, "../../../..");
const CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END CERTIFICATE-----";
const issues = (value: unknown) => validateFleetConfig(value, { file: "Pulumi.x.yaml" }).issues.map((i) => [i.file, i.field, i.rule]);

describe("plain http", () => {
  it("is refused without tls, naming the file and the key", () => {
    expect(issues({ ...configInput(), allowPlainHttp: undefined, tls: undefined })).toEqual([["Pulumi.x.yaml", "tls", "tls-required"]]);
    expect(validateFleetConfig({ ...configInput(), allowPlainHttp: undefined, tls: undefined }).issues[0].message).toMatch(/plain http.*allowPlainHttp: true only in a lab/);
  });

  it("is fine with a certificate, or where allowPlainHttp says so", () => {
    expect(issues({ ...configInput(), allowPlainHttp: undefined, tls: { certificate: CERT } })).toEqual([]);
    expect(issues({ ...configInput(), allowPlainHttp: true, tls: undefined })).toEqual([]);
    expect(issues({ ...configInput(), allowPlainHttp: "yes", tls: undefined })).toEqual([["Pulumi.x.yaml", "allowPlainHttp", "invalid_type"]]);
  });

  it("is allowed by the lab's stack file and nowhere else in the repository", () => {
    expect(loadStackConfig(path.join(ROOT, "Pulumi.lab.yaml")).config?.allowPlainHttp).toBe(true);
    const prod = loadStackConfig(path.join(ROOT, "Pulumi.prod.yaml"), "Pulumi.prod.yaml");
    expect(prod.config?.allowPlainHttp ?? false).toBe(false);
    expect(prod.config?.tls !== undefined || prod.issues.some((i) => i.rule === "tls-required" && i.file === "Pulumi.prod.yaml")).toBe(true);
  });
});
