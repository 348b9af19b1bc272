import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PRIVATE_VOLUME_XSLT } from "../../../../infra/components/host-vm";
import { POOL_PERMISSIONS_SCRIPT } from "../../../../infra/components/hypervisor";

const COMPONENTS = join(__dirname, "../../../../infra/components");
const work = mkdtempSync(join(tmpdir(), "storage-permissions-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What the libvirt provider does with xml.xslt: xsltproc with the same flags. */
function transform(xslt: string, xml: string): string {
  const dir = mkdtempSync(join(work, "x-"));
  writeFileSync(join(dir, "t.xslt"), xslt);
  writeFileSync(join(dir, "in.xml"), xml);
  const r = spawnSync("xsltproc", ["--nomkdir", "--nonet", "--nowrite", join(dir, "t.xslt"), join(dir, "in.xml")], { encoding: "utf8" });
  if (r.error) throw new Error(`xsltproc is needed (the libvirt provider runs it for xml.xslt): ${r.error.message}`);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const squeeze = (xml: string) => xml.replace(/>\s+</g, "><").trim();

// The XML the provider (v0.7.6) hands to libvirt, before the XSLT.
const ROOT_VOLUME = `<volume>
  <name>hv01-vm01-root.qcow2</name>
  <capacity unit="bytes">21474836480</capacity>
  <target>
    <format type="qcow2"></format>
    <permissions>
      <mode>644</mode>
    </permissions>
  </target>
  <backingStore>
    <path>/srv/pool/moodle-base.qcow2</path>
    <format type="qcow2"></format>
  </backingStore>
</volume>`;

const POOL = `<pool type="dir">
  <name>fleet</name>
  <target>
    <path>/srv/pool</path>
  </target>
</pool>`;

describe("a VM's volumes as the provider creates them", () => {
  it("are the file beside host-vm.ts", () => {
    expect(PRIVATE_VOLUME_XSLT).toBe(readFileSync(join(COMPONENTS, "private-volume.xslt"), "utf8"));
  });

  it("get mode 0600 instead of the provider's 644, and keep everything else", () => {
    const out = squeeze(transform(PRIVATE_VOLUME_XSLT, ROOT_VOLUME));
    expect(out).toBe(
      squeeze(`<volume><name>hv01-vm01-root.qcow2</name><capacity unit="bytes">21474836480</capacity>
        <target><format type="qcow2"/><permissions><mode>0600</mode></permissions></target>
        <backingStore><path>/srv/pool/moodle-base.qcow2</path><format type="qcow2"/></backingStore></volume>`),
    );
  });
});

/** pool-permissions.sh against a virsh that answers `capabilities` with `secmodel` (a DAC model in it, or not). */
function poolPermissions(secmodel: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(work, "p-"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "caps.xml"), `<capabilities>\n  <host>\n${secmodel}\n  </host>\n</capabilities>\n`);
  writeFileSync(join(dir, "bin", "virsh"), `#!/bin/bash\necho "$*" >>"${dir}/calls"\n[[ "$*" == *capabilities ]] && exec cat "${dir}/caps.xml"\nexit 3\n`);
  chmodSync(join(dir, "bin", "virsh"), 0o755);
  const r = spawnSync("/bin/bash", ["-c", POOL_PERMISSIONS_SCRIPT], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: `${join(dir, "bin")}:/usr/bin:/bin`, LIBVIRT_URI: "qemu+ssh://root@hv01.example/system", DOMAIN_TYPE: "kvm", ...env },
  });
  const calls = existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n") : [];
  return { ...r, calls };
}

const DEBIAN_DAC = `    <secmodel>
      <model>dac</model>
      <doi>0</doi>
      <baselabel type='kvm'>+64055:+64055</baselabel>
      <baselabel type='qemu'>+107:+108</baselabel>
    </secmodel>`;

describe("the hypervisor's pool as the provider creates it", () => {
  it("is built by the file beside hypervisor.ts, which passes shellcheck", () => {
    const file = join(COMPONENTS, "pool-permissions.sh");
    expect(POOL_PERMISSIONS_SCRIPT).toBe(readFileSync(file, "utf8"));
    const shellcheck = spawnSync("shellcheck", [file], { encoding: "utf8" });
    if (shellcheck.error === undefined) expect(shellcheck.stdout + shellcheck.stderr).toBe("");
  });

  it("gets a folder of mode 0710, root's, in the group QEMU runs as for the hypervisor's domain type", () => {
    const kvm = poolPermissions(DEBIAN_DAC);
    expect(kvm.status, kvm.stderr).toBe(0);
    expect(kvm.calls).toEqual(["-q -c qemu+ssh://root@hv01.example/system capabilities"]);
    expect(squeeze(transform(kvm.stdout, POOL))).toBe(
      squeeze(`<pool type="dir"><name>fleet</name><target><path>/srv/pool</path>
        <permissions><mode>0710</mode><owner>0</owner><group>64055</group></permissions></target></pool>`),
    );
    const qemu = poolPermissions(DEBIAN_DAC, { DOMAIN_TYPE: "qemu" });
    expect(transform(qemu.stdout, POOL)).toContain("<group>108</group>");
  });

  it("is not created when libvirtd names no QEMU group, or group 0 (no VM could open its disks)", () => {
    const none = poolPermissions("    <secmodel>\n      <model>none</model>\n    </secmodel>");
    expect(none.status).toBe(1);
    expect(none.stdout).toBe("");
    expect(none.stderr).toMatch(/names no DAC user:group for kvm domains/);
    const root = poolPermissions("<secmodel><model>dac</model><baselabel type='kvm'>+0:+0</baselabel></secmodel>");
    expect(root.status).toBe(1);
    expect(root.stdout).toBe("");
    const odd = poolPermissions(DEBIAN_DAC, { DOMAIN_TYPE: "kvm'] | x" });
    expect(odd.status).toBe(2);
    expect(odd.calls).toEqual([]);
  });
});
