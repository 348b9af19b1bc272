import { describe, expect, it } from "vitest";
import { NEW_VOLUME_MAX_BYTES, PendingOperationError, pendingOperations, refreshArgs, resolvePending } from "../../../stacks/state/pending";
import { URI, hypervisor } from "./fake-hypervisor";

const PROVIDER = "urn:pulumi:prod-hv01::moodle-fleet::pulumi:providers:libvirt::hv01";
const urn = (type: string, name: string) => `urn:pulumi:prod-hv01::moodle-fleet::moodle-fleet:infra:Fleet$${type}::${name}`;

/** A `pulumi stack export` with the given pending creates (and the libvirt provider they point at). */
function exported(pending: Array<{ type: string; name: string; inputs: Record<string, unknown>; op?: string }>, inState: string[] = []) {
  return {
    version: 3,
    deployment: {
      resources: [
        { urn: "urn:pulumi:prod-hv01::moodle-fleet::pulumi:pulumi:Stack::moodle-fleet-prod-hv01", type: "pulumi:pulumi:Stack" },
        { urn: PROVIDER, type: "pulumi:providers:libvirt", id: "a1b2", inputs: { uri: URI } },
        ...inState.map((n) => ({ urn: urn("command:remote:Command", n), type: "command:remote:Command" })),
      ],
      pending_operations: pending.map((p) => ({
        type: p.op ?? "creating",
        resource: { urn: urn(p.type, p.name), type: p.type, inputs: p.inputs, provider: p.type.startsWith("libvirt") ? `${PROVIDER}::a1b2` : undefined },
      })),
    },
  };
}

describe("pending operations left by a killed up", () => {
  it("reads each pending operation with its libvirt URI and whether a later run made it", () => {
    const ops = pendingOperations(
      exported(
        [
          { type: "libvirt:index/domain:Domain", name: "hv01-vm02", inputs: { name: "hv01-vm02" } },
          { type: "command:remote:Command", name: "04000001-install", inputs: {} },
        ],
        ["04000001-install"],
      ),
    );
    expect(ops.map((o) => [o.type, o.resourceType, o.libvirtUri, o.inState])).toEqual([
      ["creating", "libvirt:index/domain:Domain", URI, false],
      ["creating", "command:remote:Command", undefined, true],
    ]);
  });

  it("removes what an interrupted create left on the hypervisor and drops every pending create", async () => {
    const { libvirt, removed } = hypervisor({
      "domain:hv01-vm02": {},
      "volume:fleet-hv01/hv01-vm01-root.qcow2": { allocationBytes: 200_704 },
      "volume:fleet-hv01/hv01-vm01-seed.iso": { allocationBytes: 372_736 },
    });
    const ops = pendingOperations(
      exported([
        { type: "libvirt:index/domain:Domain", name: "hv01-vm02", inputs: { name: "hv01-vm02" } },
        { type: "libvirt:index/volume:Volume", name: "hv01-vm01-root", inputs: { name: "hv01-vm01-root.qcow2", pool: "fleet-hv01", baseVolumeId: "/p/base" } },
        { type: "libvirt:index/cloudInitDisk:CloudInitDisk", name: "hv01-vm01-seed", inputs: { name: "hv01-vm01-seed.iso", pool: "fleet-hv01" } },
        { type: "libvirt:index/volume:Volume", name: "hv01-vm01-data", inputs: { name: "hv01-vm01-data.qcow2", pool: "fleet-hv01", size: 1 << 30 } },
        { type: "random:index/randomPassword:RandomPassword", name: "04000001-db-password", inputs: {} },
        { type: "command:remote:Command", name: "04000001-install", inputs: {}, op: "updating" },
      ]),
    );
    const r = await resolvePending(ops, libvirt);
    expect(r.clearCreates).toBe(true);
    expect(removed).toEqual(["domain:hv01-vm02", "volume:fleet-hv01/hv01-vm01-root.qcow2", "volume:fleet-hv01/hv01-vm01-seed.iso"]);
    expect(r.messages).toEqual([
      expect.stringMatching(/^creating hv01-vm02 .*removed, made again/),
      expect.stringMatching(/^creating hv01-vm01-root .*removed from pool fleet-hv01/),
      expect.stringMatching(/^creating hv01-vm01-seed .*removed from pool fleet-hv01/),
      expect.stringMatching(/^creating hv01-vm01-data .*never reached the hypervisor/),
      expect.stringMatching(/^creating 04000001-db-password .*dropped, made again/),
      expect.stringMatching(/^updating 04000001-install .*left to the engine/),
    ]);
  });

  it("removes a copied volume however full it is: a copy may be half written", async () => {
    const { libvirt, removed } = hypervisor({ "volume:fleet-hv01/moodle-base.qcow2": { allocationBytes: 600 << 20 } });
    const ops = pendingOperations(
      exported([{ type: "libvirt:index/volume:Volume", name: "hv01-base-image", inputs: { name: "moodle-base.qcow2", pool: "fleet-hv01", source: "/srv/images/base.qcow2" } }]),
    );
    await resolvePending(ops, libvirt);
    expect(removed).toEqual(["volume:fleet-hv01/moodle-base.qcow2"]);
  });

  it("stops, removing nothing, when a volume holds more than a new one: it was not this create that made it", async () => {
    const { libvirt, removed } = hypervisor({
      "domain:hv01-vm02": {},
      "volume:fleet-hv01/hv01-vm01-data.qcow2": { allocationBytes: NEW_VOLUME_MAX_BYTES + 1 },
    });
    const ops = pendingOperations(
      exported([
        { type: "libvirt:index/domain:Domain", name: "hv01-vm02", inputs: { name: "hv01-vm02" } },
        { type: "libvirt:index/volume:Volume", name: "hv01-vm01-data", inputs: { name: "hv01-vm01-data.qcow2", pool: "fleet-hv01", size: 1 << 30 } },
      ]),
    );
    const error = await resolvePending(ops, libvirt).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PendingOperationError);
    expect((error as Error).message).toMatch(/nothing was changed[\s\S]*hv01-vm01-data\.qcow2 in pool fleet-hv01 holds 1048577 bytes/);
    expect(removed).toEqual([]);
  });

  it("stops on a pool that already holds volumes, and on a pending create of a kind it does not know", async () => {
    const { libvirt, removed } = hypervisor({ "pool:fleet-hv01": { volumes: 3 } });
    const pool = pendingOperations(exported([{ type: "libvirt:index/pool:Pool", name: "hv01-pool", inputs: { name: "fleet-hv01" } }]));
    await expect(resolvePending(pool, libvirt)).rejects.toThrow(/pool fleet-hv01 already holds 3 volume/);
    const network = pendingOperations(exported([{ type: "libvirt:index/network:Network", name: "hv01-net", inputs: { name: "net" } }]));
    await expect(resolvePending(network, libvirt)).rejects.toThrow(/hv01-net .*not a resource the fleet knows/);
    expect(removed).toEqual([]);
  });

  it("drops a pending create that a later run has made meanwhile, without looking for it", async () => {
    const { libvirt, removed } = hypervisor({});
    const ops = pendingOperations(exported([{ type: "command:remote:Command", name: "04000001-install", inputs: {} }], ["04000001-install"]));
    const r = await resolvePending(ops, libvirt);
    expect(r.messages).toEqual([expect.stringMatching(/made by a later run already; dropped/)]);
    expect(removed).toEqual([]);
  });

  it("refreshes only the stack's root resource when it drops the creates", () => {
    expect(refreshArgs("prod-hv01", ["urn:root"], { clearPendingCreates: true })).toEqual([
      "refresh", "--stack", "prod-hv01", "--yes", "--skip-preview", "--clear-pending-creates", "--target", "urn:root",
    ]);
    expect(refreshArgs("prod-hv01", [], { clearPendingCreates: true })).not.toContain("--target");
  });
});
