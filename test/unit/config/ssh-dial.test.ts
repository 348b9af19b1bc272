import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { validateFleetConfig } from "../../../infra/config/validate";
import { hostConnection } from "../../../infra/components/host-connection";
import type { FleetSettings, PlannedHost } from "../../../infra/plan";
import { config, configInput } from "../support/builders";

const errors = (value: unknown) => validateFleetConfig(value).issues.map((i) => [i.field, i.rule]);

function connectionOf(ssh: FleetSettings["ssh"]) {
  return hostConnection({
    plan: { name: "hv01-vm01", address: "10.20.1.10" } as PlannedHost,
    settings: { ssh } as FleetSettings,
    seededHostKey: pulumi.output<string | undefined>("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb8fHf5bGqGzB0yBEHn7yH5ioOmhM4Mw0t7y7RZ0p1S"),
    parent: {} as pulumi.Resource,
  });
}

describe("ssh dial settings", () => {
  it("default to the patience a VM booting under software emulation needs: 60 attempts of 10 s", () => {
    const ssh = config().ssh;
    expect([ssh.dialErrorLimit, ssh.perDialTimeout]).toEqual([60, 10]);
    expect(connectionOf(ssh)).toMatchObject({ dialErrorLimit: 60, perDialTimeout: 10 });
  });

  it("reach every remote command's connection as configured", () => {
    const ssh = config({ ssh: { dialErrorLimit: 2, perDialTimeout: 3 } }).ssh;
    expect(connectionOf(ssh)).toMatchObject({ host: "10.20.1.10", user: "root", dialErrorLimit: 2, perDialTimeout: 3 });
  });

  it("carry no private key: the run's ssh-agent signs, so no state holds the fleet's key", () => {
    const connection = connectionOf(config().ssh);
    expect(Object.keys(connection).sort()).toEqual(["dialErrorLimit", "host", "hostKey", "perDialTimeout", "user"]);
  });

  it("reject counts that would dial forever or never, naming the field", () => {
    expect(errors(configInput({ ssh: { dialErrorLimit: 0 } }))).toEqual([["ssh.dialErrorLimit", "too_small"]]);
    expect(errors(configInput({ ssh: { dialErrorLimit: -1 } }))).toEqual([["ssh.dialErrorLimit", "too_small"]]);
    expect(errors(configInput({ ssh: { perDialTimeout: 0 } }))).toEqual([["ssh.perDialTimeout", "too_small"]]);
    expect(errors(configInput({ ssh: { perDialTimeout: 2.5 } }))).toEqual([["ssh.perDialTimeout", "invalid_type"]]);
  });
});
