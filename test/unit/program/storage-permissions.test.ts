import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_INPUTS, fleetProgram } from "../../../infra/program";
import { PRIVATE_VOLUME_XSLT, PRIVATE_VOLUMES_SCRIPT } from "../../../infra/components/host-vm";
import { POOL_PERMISSIONS_SCRIPT } from "../../../infra/components/hypervisor";
import { runUnderMocks, stackConfigValues, testSecrets } from "../../support/mocks";
import { repoRoot } from "../../../stacks/toolchain";

const config: Record<string, string> = {
  ...stackConfigValues(path.join(repoRoot, "Pulumi.prod.yaml")),
  "moodle-fleet:allowPlainHttp": "true",
  "moodle-fleet:singleStack": "true",
};

describe("file modes on a hypervisor, as declared", () => {
  it("pools take their folder's permissions from the hypervisor's own step; VM disks are created 0600; seeds are made private before their domain", async () => {
    const run = await runUnderMocks(fleetProgram(DEFAULT_INPUTS), { ...config, ...testSecrets() }, ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"]);
    const hypervisors = JSON.parse(config["moodle-fleet:hypervisors"]) as { name: string; uri: string; domainType?: string; pool: { name: string } }[];
    const byName = new Map(run.resources.map((r) => [r.name, r]));
    const order = (name: string) => run.resources.findIndex((r) => r.name === name);

    for (const hv of hypervisors) {
      const step = byName.get(`${hv.name}-pool-permissions`)!;
      expect(step.type).toBe("command:local:Command");
      expect(step.inputs.create).toBe(POOL_PERMISSIONS_SCRIPT);
      expect(step.inputs).not.toHaveProperty("update");
      expect(step.inputs).not.toHaveProperty("delete");
      expect(step.inputs.environment).toEqual({ LIBVIRT_URI: hv.uri, DOMAIN_TYPE: hv.domainType ?? "kvm" });
      const pool = byName.get(`${hv.name}-pool`)!;
      expect(order(step.name)).toBeLessThan(order(pool.name));
      // The XSLT is what the step prints (the mocks echo inputs: no stdout).
      expect(pool.inputs).toHaveProperty("xml");
      // The base image is no VM's data: the provider's default, inside the closed folder.
      expect(byName.get(`${hv.name}-base-image`)!.inputs).not.toHaveProperty("xml");
    }

    const domains = run.resources.filter((r) => r.type === "libvirt:index/domain:Domain");
    expect(domains.length).toBeGreaterThan(0);
    for (const domain of domains) {
      const vm = domain.name;
      const hv = hypervisors.find((h) => vm.startsWith(`${h.name}-`))!;
      for (const disk of [`${vm}-root`, `${vm}-data`]) {
        expect(byName.get(disk)!.inputs.xml, disk).toEqual({ xslt: PRIVATE_VOLUME_XSLT });
      }
      const step = byName.get(`${vm}-private-volumes`)!;
      expect(step.type).toBe("command:local:Command");
      expect(step.inputs.create).toBe(PRIVATE_VOLUMES_SCRIPT);
      expect(step.inputs).not.toHaveProperty("update");
      expect(step.inputs).not.toHaveProperty("delete");
      expect(step.inputs.environment).toEqual({
        LIBVIRT_URI: hv.uri,
        POOL: hv.pool.name,
        SEED: byName.get(`${vm}-seed`)!.inputs.name,
        VOLUMES: `${byName.get(`${vm}-root`)!.inputs.name} ${byName.get(`${vm}-data`)!.inputs.name}`,
      });
      // After the seed, before the domain (which waits for it).
      expect(order(`${vm}-seed`)).toBeLessThan(order(step.name));
      expect(order(step.name)).toBeLessThan(run.resources.indexOf(domain));
    }
  });
});
