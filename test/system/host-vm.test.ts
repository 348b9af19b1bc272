import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { loadStackConfig } from "../../infra/config";
import { buildFleetPlan, hostVolumeNames, type FleetPlan } from "../../infra/plan";
import { Hypervisor } from "../../infra/components/hypervisor";
import { HostVm } from "../../infra/components/host-vm";
import { hostScriptInput } from "../../infra/components/script-inputs";
import { openInlineStack, repoRoot } from "../../stacks/toolchain";
import { labImage, labSkipped, requireLabNetwork, sshInLab, virsh, virshSucceeds } from "../support/lab-services";

// A host VM declared by the fleet's own components, created by the real
// engine and libvirt plugin, booted for real, resized, and destroyed.
const SHUTDOWN_TIMEOUT_SECONDS = 60;
const DOMAIN = "lab01-vm01";

describe.skipIf(labSkipped)("a host VM from the fleet's components, on the lab's libvirtd", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-hostvm-"));
  const key = path.join(work, "id_ed25519");
  const poolName = "moodle-fleet-test";
  const poolPath = "/var/lib/moodle-lab/test-pool";
  let plan: FleetPlan;
  let memoryMiB: number;
  let stack: Stack;

  /**
   * What a run killed before its destroy leaves: the domain, the pool, the
   * pool's files (a libvirt dir pool keeps them when it goes, and a new pool
   * on the folder would list them, so the base image's create fails with
   * "exists already"). The stack's own state is dropped in beforeAll.
   */
  function clearLeftovers(): void {
    if (virshSucceeds("dominfo", DOMAIN)) {
      virshSucceeds("destroy", DOMAIN);
      virshSucceeds("undefine", DOMAIN);
    }
    if (virshSucceeds("pool-info", poolName)) {
      virshSucceeds("pool-destroy", poolName);
      virshSucceeds("pool-undefine", poolName);
    }
    fs.rmSync(poolPath, { recursive: true, force: true });
  }

  beforeAll(async () => {
    requireLabNetwork();
    clearLeftovers();
    const image = labImage();
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    const publicKey = fs.readFileSync(`${key}.pub`, "utf8").trim();
    const config = loadStackConfig(path.join(repoRoot, "Pulumi.lab.yaml")).config!;
    const hv = config.hypervisors[0];
    hv.pool = { name: poolName, path: poolPath };
    hv.baseImage = {
      source: image.image,
      format: "qcow2",
      kernelBoot: { kernel: image.kernel, initrd: image.initrd, cmdline: image.cmdline },
    };
    hv.addresses = { ...hv.addresses, first: "10.77.0.60", last: "10.77.0.69" };
    config.ssh.publicKey = publicKey;
    config.vmShutdownTimeoutSeconds = SHUTDOWN_TIMEOUT_SECONDS;
    const school = { id: "04199901", name: "Testschule", town: "Ulm", email: "poststelle@04199901.schulen.example", tier: "lab" };
    plan = buildFleetPlan({ schools: [school], config, ledger: [{ schoolId: school.id, host: DOMAIN, line: 2 }] });
    memoryMiB = plan.hosts[0].memoryMiB;

    const program = async () => {
      const host = { ...plan.hosts[0], memoryMiB };
      const hypervisor = new Hypervisor(plan.hypervisors[0], false);
      const vm = new HostVm({
        plan: host,
        settings: plan.settings,
        hypervisor,
        scriptInput: pulumi.output(hostScriptInput(host, plan.settings, publicKey)),
      });
      return { domain: vm.domain.name, address: host.address, hostKey: vm.hostKey };
    };
    const open = () =>
      openInlineStack(
        { stackName: "host-vm", projectName: "moodle-fleet-system", program },
        { stateDir: path.join(repoRoot, ".state", "system"), passphraseFile: path.join(repoRoot, ".state", "system.passphrase") },
        { workDir: work },
      );
    stack = await open();
    if ((await stack.exportStack()).deployment?.resources?.length) {
      // Its resources were cleared above; the state naming them would only make
      // the first up a no-op.
      await stack.workspace.removeStack("host-vm", { force: true });
      stack = await open();
    }
  });

  afterAll(async () => {
    if (stack) await stack.destroy({ color: "never" }).catch(() => undefined);
    clearLeftovers();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("creates pool, base image, disks, seed and domain, and the guest comes up as planned", async () => {
    const up = await stack.up({ color: "never" });
    expect(up.summary.result).toBe("succeeded");
    // stack, hypervisor component, provider, pool permissions step, pool, base image, host-vm
    // component, 2 volumes, host key seed, seed, private volumes step, shutdown-for-resize
    // command, domain, shutdown-on-delete step, data disk growth step
    expect(up.summary.resourceChanges?.create).toBe(16);
    const host = plan.hosts[0];
    const report = await sshInLab(
      key,
      host.address,
      "cloud-init status --wait >/dev/null 2>&1; hostname; cloud-init status; ip -4 -o addr show eth0; echo logind: $(systemctl is-active systemd-logind)",
      5 * 60_000,
    );
    expect(report).toContain(host.name);
    expect(report).toMatch(/status: done/);
    expect(report).toContain(`${host.address}/${host.prefixLength}`);
    // What turns `virsh shutdown` (the ACPI power button) into a clean poweroff.
    expect(report).toContain("logind: active");
  });

  it("keeps the pool's folder and the VM's disks and seed from other users of the hypervisor", () => {
    // QEMU's user and group, as libvirtd runs it (its DAC base label).
    const label = /<baselabel type='qemu'>\+(\d+):\+(\d+)<\/baselabel>/.exec(virsh("capabilities"));
    expect(label).not.toBeNull();
    const [qemuUid, qemuGid] = [Number(label![1]), Number(label![2])];
    const folder = fs.statSync(poolPath);
    expect(folder.mode & 0o777).toBe(0o710);
    expect([folder.uid, folder.gid]).toEqual([0, qemuGid]);
    const volumes = hostVolumeNames("lab01-vm01");
    for (const name of [volumes.root, volumes.data, volumes.seed]) {
      const file = fs.statSync(path.join(poolPath, name));
      expect((file.mode & 0o777).toString(8), name).toBe("600");
      // The VM runs: libvirt's dynamic ownership lent the file to QEMU.
      expect([file.uid, file.gid], name).toEqual([qemuUid, qemuGid]);
    }
    expect(virsh("vol-list", poolName)).not.toContain("private-copy");
    // Another local user can neither list the folder nor open a disk by its name.
    const asNobody = (...args: string[]) => spawnSync("runuser", ["-u", "nobody", "--", ...args], { encoding: "utf8" });
    expect(asNobody("ls", poolPath).status).not.toBe(0);
    expect(asNobody("head", "-c", "1", path.join(poolPath, volumes.seed)).status).not.toBe(0);
  });

  it("the guest presents the generated host key and no other, and a connection pinned to it succeeds", async () => {
    const outputs = await stack.outputs();
    const pin = outputs.hostKey.value as string;
    expect(pin).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=*$/);
    const host = plan.hosts[0];
    const scanned = execFileSync("ip", ["netns", "exec", "moodle-lab", "ssh-keyscan", "-T", "10", host.address], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .map((l) => l.split(" ").slice(1, 3).join(" "));
    expect(scanned).toEqual([pin]);
    const knownHosts = path.join(work, "known_hosts");
    fs.writeFileSync(knownHosts, `${host.address} ${pin}\n`);
    const strict = (file: string) =>
      execFileSync("ip", ["netns", "exec", "moodle-lab", "ssh", "-i", key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", `UserKnownHostsFile=${file}`, "-o", "ConnectTimeout=10", `root@${host.address}`, "ls /etc/ssh/ | grep '^ssh_host_'"],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    // The image's own keys (the same in every VM made from it) are gone.
    expect(strict(knownHosts).trim().split("\n")).toEqual(["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]);
    // And a wrong pin is refused.
    const wrong = path.join(work, "known_hosts.wrong");
    const other = path.join(work, "other");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    fs.writeFileSync(wrong, `${host.address} ${fs.readFileSync(`${other}.pub`, "utf8").split(" ").slice(0, 2).join(" ")}\n`);
    expect(() => strict(wrong)).toThrow();
  });

  it("a second up changes nothing", async () => {
    const preview = await stack.preview({ color: "never", diff: true });
    const changed = Object.keys(preview.changeSummary).filter((k) => k !== "same");
    expect(changed, preview.stdout).toEqual([]);
    const up = await stack.up({ color: "never" });
    expect(Object.keys(up.summary.resourceChanges ?? {}).filter((k) => k !== "same")).toEqual([]);
  });

  it("resizing the VM asks the guest to shut down and waits, then replaces only its domain; its disks and host key stay", async () => {
    const volumesBefore = virsh("vol-list", poolName);
    const pin = (await stack.outputs()).hostKey.value as string;
    memoryMiB += 256;
    const preview = await stack.preview({ color: "never" });
    // The domain, and the shutdown command that carries its size.
    expect(preview.changeSummary).toMatchObject({ replace: 1, update: 1 });
    expect(Object.keys(preview.changeSummary).filter((k) => k !== "same" && k !== "replace" && k !== "update")).toEqual([]);
    const up = await stack.up({ color: "never" });
    expect(up.summary.resourceChanges).toMatchObject({ replace: 1, update: 1 });
    // The shutdown is asked for, and the guest powers itself off (logind acts
    // on the ACPI power button) before the old domain goes: no hard power-off.
    expect(up.stdout).toMatch(/domain-shutdown: lab01-vm01 goes from .* shutting it down \(up to 60 s\)/);
    const shutOff = /domain-shutdown: lab01-vm01 is shut off after (\d+) s/.exec(up.stdout);
    expect(shutOff, up.stdout).not.toBeNull();
    expect(Number(shutOff![1])).toBeLessThan(SHUTDOWN_TIMEOUT_SECONDS);
    expect(up.stdout).not.toMatch(/did not shut down/);
    expect((await stack.outputs()).hostKey.value).toBe(pin);
    expect(virsh("dominfo", DOMAIN)).toMatch(new RegExp(`Max memory:\\s+${memoryMiB * 1024} KiB`));
    expect(virsh("vol-list", poolName)).toBe(volumesBefore);
    // The new domain boots from the same disks, to the end: a guest still
    // starting units queues the power button behind them (systemd gives each
    // unit 90 s), which the destroy below would wait out.
    const host = plan.hosts[0];
    const boot = await sshInLab(
      key,
      host.address,
      "systemctl is-system-running --wait; echo logind: $(systemctl is-active systemd-logind)",
      5 * 60_000,
    );
    expect(boot).toMatch(/^(running|degraded)$/m);
    expect(boot).toContain("logind: active");
  });

  it("destroy shuts the guest down before the provider deletes its domain, and leaves no domain and no pool", async () => {
    const res = await stack.destroy({ color: "never" });
    expect(res.summary.result).toBe("succeeded");
    expect(res.stdout).toMatch(/domain-shutdown: lab01-vm01 is deleted: shutting it down \(up to 60 s\)/);
    const shutOff = /domain-shutdown: lab01-vm01 is shut off after (\d+) s/.exec(res.stdout);
    expect(shutOff, res.stdout).not.toBeNull();
    expect(Number(shutOff![1])).toBeLessThan(SHUTDOWN_TIMEOUT_SECONDS);
    expect(virshSucceeds("dominfo", DOMAIN)).toBe(false);
    expect(virshSucceeds("pool-info", poolName)).toBe(false);
  });
});
