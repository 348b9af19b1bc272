import { describe, expect, it } from "vitest";
import { PendingOperationError, type LibvirtObjects } from "../../../stacks/state/libvirt-objects";
import { resolveStrays, type NamesInState } from "../../../stacks/state/strays";
import { URI, hypervisor } from "./fake-hypervisor";

const POOL = "moodle";
const planned = { uri: URI, pool: POOL, hosts: ["hv01-vm01", "hv01-vm02", "hv01-vm03"] };

/** A state holding the pool and the given domains and volumes. */
const state = (domains: string[] = [], volumes: string[] = []): NamesInState => ({
  pools: new Set([POOL]),
  domains: new Set(domains),
  volumes: new Set(volumes),
});

describe("domains a failed start left defined", () => {
  it("undefines a planned VM's shut-off domain the state does not hold, and nothing else", async () => {
    const { libvirt, removed } = hypervisor({
      "domain:hv01-vm01": { domainState: "running" },
      "domain:hv01-vm02": { domainState: "shut off" },
    });
    const messages = await resolveStrays(planned, state(["hv01-vm01"]), libvirt);
    expect(removed).toEqual(["domain:hv01-vm02"]);
    expect(messages).toEqual([expect.stringMatching(/^domain hv01-vm02 on .*shut off .*undefined, its volumes kept/)]);
  });

  it("leaves a domain the state holds alone, whatever its state", async () => {
    const { libvirt, removed } = hypervisor({ "domain:hv01-vm02": { domainState: "shut off" } });
    expect(await resolveStrays(planned, state(["hv01-vm02"]), libvirt)).toEqual([]);
    expect(removed).toEqual([]);
  });

  it("stops, removing nothing, when such a domain runs, and says how to resolve it by hand", async () => {
    const { libvirt, removed } = hypervisor({
      "domain:hv01-vm02": { domainState: "shut off" },
      "domain:hv01-vm03": { domainState: "running" },
      [`volume:${POOL}/hv01-vm02-seed.iso`]: { allocationBytes: 380_000 },
    });
    const error = await resolveStrays(planned, state(), libvirt).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PendingOperationError);
    const message = (error as Error).message;
    expect(message).toMatch(/nothing was changed[\s\S]*domain hv01-vm03 is running/);
    expect(message).toContain(`virsh -c ${URI} destroy hv01-vm03 && virsh -c ${URI} undefine hv01-vm03`);
    expect(message).not.toMatch(/hv01-vm02/);
    expect(removed).toEqual([]);
  });

  it("quotes a URI the shell would split in the commands it prints", async () => {
    const uri = "qemu+unix:///system?socket=/run/lab sock";
    const { libvirt } = hypervisor({ "domain:hv01-vm01": { domainState: "paused" } });
    const anyUri: LibvirtObjects = { describe: (_u, kind, name, pool) => libvirt.describe(URI, kind, name, pool), remove: libvirt.remove };
    await expect(resolveStrays({ uri, pool: POOL, hosts: ["hv01-vm01"] }, state(), anyUri)).rejects.toThrow(
      "virsh -c 'qemu+unix:///system?socket=/run/lab sock' destroy hv01-vm01",
    );
  });
});

describe("seed ISOs and pools a failed create left", () => {
  it("deletes a planned VM's seed ISO the state does not hold: the run writes it again", async () => {
    const { libvirt, removed } = hypervisor({
      [`volume:${POOL}/hv01-vm01-seed.iso`]: { allocationBytes: 380_000 },
      [`volume:${POOL}/hv01-vm03-seed.iso`]: { allocationBytes: 380_000 },
      // Plain volumes the provider adopts: never touched.
      [`volume:${POOL}/hv01-vm03-data.qcow2`]: { allocationBytes: 5 << 30 },
    });
    const messages = await resolveStrays(planned, state([], ["hv01-vm01-seed.iso"]), libvirt);
    expect(removed).toEqual([`volume:${POOL}/hv01-vm03-seed.iso`]);
    expect(messages).toEqual([expect.stringMatching(/^volume hv01-vm03-seed\.iso in pool moodle on .*deleted, written again by this run/)]);
  });

  it("undefines an empty pool the state does not hold, and stops on one that holds volumes", async () => {
    const noPool: NamesInState = { ...state(), pools: new Set() };
    const empty = hypervisor({ [`pool:${POOL}`]: { volumes: 0 } });
    expect(await resolveStrays(planned, noPool, empty.libvirt)).toEqual([expect.stringMatching(/^pool moodle on .*empty .*its folder kept/)]);
    expect(empty.removed).toEqual([`pool:${POOL}`]);

    const full = hypervisor({
      [`pool:${POOL}`]: { volumes: 4 },
      [`volume:${POOL}/hv01-vm01-seed.iso`]: { allocationBytes: 380_000 },
      "domain:hv01-vm02": { domainState: "shut off" },
    });
    const error = await resolveStrays(planned, noPool, full.libvirt).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PendingOperationError);
    expect((error as Error).message).toMatch(/nothing was changed[\s\S]*pool moodle on .* holds 4 volume\(s\), and the state does not hold the pool/);
    expect(full.removed).toEqual([]);
  });
});
