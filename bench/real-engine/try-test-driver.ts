// Whether the libvirt provider works against libvirt's test driver (test:///default):
// a pool, a plain volume, a volume from an image, a cloud-init disk, a domain.
//   npx tsx bench/real-engine/try-test-driver.ts
import * as libvirt from "@pulumi/libvirt";
import { openInlineStack } from "../../stacks/toolchain";
(async () => {
  const stack = await openInlineStack(
    { stackName: "testdrv", projectName: "moodle-fleet", program: async () => {
      const p = new libvirt.Provider("t", { uri: process.env.LIBVIRT_URI ?? "test:///default" });
      const pool = new libvirt.Pool("pool", { name: "tpool", type: "dir", path: "/var/tmp/moodle-bench/testdrv/pool" }, { provider: p });
      const plain = new libvirt.Volume("plain", { name: "plain.qcow2", pool: pool.name, format: "qcow2", size: 1 << 30 }, { provider: p });
      new libvirt.Volume("img", { name: "img.qcow2", pool: pool.name, source: "/var/tmp/moodle-bench/base.qcow2", format: "qcow2" }, { provider: p });
      new libvirt.CloudInitDisk("seed", { name: "seed.iso", pool: pool.name, userData: "#cloud-config\n", metaData: "instance-id: x\n" }, { provider: p });
      new libvirt.Domain("dom", { name: "tdom", type: "qemu", vcpu: 1, memory: 64, disks: [{ volumeId: plain.id }] }, { provider: p });
      return {};
    } },
    { stateDir: "/var/tmp/moodle-bench/testdrv/state", passphraseFile: "/var/tmp/moodle-bench/passphrase" },
  );
  try { const r = await stack.up({ color: "never", continueOnError: true }); console.log(JSON.stringify(r.summary.resourceChanges)); if (process.env.KEEP) return; }
  catch (e) { console.log(String(e).split("\n").filter((l) => /error|created|failed/i.test(l)).slice(0, 20).join("\n")); }
  await stack.destroy({ color: "never" }).catch(() => undefined);
})();
