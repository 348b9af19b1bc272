import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_INPUTS, fleetProgram } from "../../../infra/program";
import { DOMAIN_SHUTDOWN_SCRIPT } from "../../../infra/components/host-vm";
import { runUnderMocks, stackConfigValues, testSecrets } from "../../support/mocks";
import { repoRoot } from "../../../stacks/toolchain";

const config: Record<string, string> = {
  ...stackConfigValues(path.join(repoRoot, "Pulumi.prod.yaml")),
  "moodle-fleet:allowPlainHttp": "true",
  "moodle-fleet:singleStack": "true",
};

describe("the shutdown before a resize, as declared", () => {
  it("runs nothing at creation and carries the size each domain is given, before the domain", async () => {
    const configured = { ...config, "moodle-fleet:vmShutdownTimeoutSeconds": "420" };
    const run = await runUnderMocks(fleetProgram(DEFAULT_INPUTS), { ...configured, ...testSecrets() }, ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"]);
    const uris = new Map((JSON.parse(config["moodle-fleet:hypervisors"]) as { name: string; uri: string }[]).map((h) => [h.name, h.uri]));
    const domains = run.resources.filter((r) => r.type === "libvirt:index/domain:Domain");
    expect(domains.length).toBeGreaterThan(0);
    for (const domain of domains) {
      const index = run.resources.findIndex((r) => r.name === `${domain.name}-shutdown-for-resize`);
      const shutdown = run.resources[index];
      expect(shutdown.type).toBe("command:local:Command");
      // Registered first: the domain waits for it (dependsOn).
      expect(index).toBeLessThan(run.resources.indexOf(domain));
      expect(shutdown.inputs).not.toHaveProperty("create");
      expect(shutdown.inputs).not.toHaveProperty("delete");
      expect(shutdown.inputs.update).toBe(DOMAIN_SHUTDOWN_SCRIPT);
      expect(shutdown.inputs.interpreter).toEqual(["/bin/bash", "-c"]);
      expect(shutdown.inputs.environment).toEqual({
        LIBVIRT_URI: uris.get(domain.name.replace(/-vm[0-9]+$/, "")),
        DOMAIN: domain.inputs.name,
        VCPU: String(domain.inputs.vcpu),
        MEMORY_MIB: String(domain.inputs.memory),
        TIMEOUT_SECONDS: "420",
      });
    }
  });

  it("shuts each guest down before its domain is deleted: a delete-only step that depends on the domain", async () => {
    const run = await runUnderMocks(fleetProgram(DEFAULT_INPUTS), { ...config, ...testSecrets() }, ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"]);
    const uris = new Map((JSON.parse(config["moodle-fleet:hypervisors"]) as { name: string; uri: string }[]).map((h) => [h.name, h.uri]));
    const domains = run.resources.filter((r) => r.type === "libvirt:index/domain:Domain");
    expect(domains.length).toBeGreaterThan(0);
    for (const domain of domains) {
      const index = run.resources.findIndex((r) => r.name === `${domain.name}-shutdown-on-delete`);
      const step = run.resources[index];
      expect(step.type).toBe("command:local:Command");
      // Registered after the domain, which it depends on: deleted before it.
      expect(index).toBeGreaterThan(run.resources.indexOf(domain));
      expect(step.inputs).not.toHaveProperty("create");
      expect(step.inputs).not.toHaveProperty("update");
      expect(step.inputs.delete).toBe(DOMAIN_SHUTDOWN_SCRIPT);
      expect(step.inputs.environment).toEqual({
        LIBVIRT_URI: uris.get(domain.name.replace(/-vm[0-9]+$/, "")),
        DOMAIN: domain.inputs.name,
        REASON: "delete",
        // The default, Pulumi.prod.yaml setting none.
        TIMEOUT_SECONDS: "300",
      });
    }
  });
});
