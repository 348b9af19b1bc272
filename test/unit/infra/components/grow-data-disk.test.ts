import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GROW_DATA_DISK_SCRIPT } from "../../../../infra/components/host-vm";

const SCRIPT = join(__dirname, "../../../../infra/components/grow-data-disk.sh");
const GiB = 1024 ** 3;

/** virsh for one volume and its domain: answers from files, records every call. */
const VIRSH_STUB = `#!/bin/bash
set -eu
S="$VIRSH_STATE"
echo "$*" >>"$S/calls"
while [[ "$1" == -* ]]; do case "$1" in -c) shift 2 ;; *) shift ;; esac; done
cmd=$1; shift
case "$cmd" in
  vol-info) printf 'Name:           x\\nType:           file\\nCapacity:       %s\\nAllocation:     1234\\n' "$(cat "$S/capacity")" ;;
  vol-path) echo "/pools/hv01/hv01-vm01-data.qcow2" ;;
  domstate) cat "$S/state" ;;
  blockresize | vol-resize) ;;
  *) echo "stub: $cmd not handled" >&2; exit 3 ;;
esac
`;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function grow(capacityBytes: number, state: string, dataGiB: string) {
  const dir = mkdtempSync(join(tmpdir(), "grow-data-disk-"));
  dirs.push(dir);
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin/virsh"), VIRSH_STUB);
  chmodSync(join(dir, "bin/virsh"), 0o755);
  writeFileSync(join(dir, "capacity"), String(capacityBytes));
  writeFileSync(join(dir, "state"), `${state}\n`);
  writeFileSync(join(dir, "calls"), "");
  const r = spawnSync("/bin/bash", ["-c", GROW_DATA_DISK_SCRIPT], {
    encoding: "utf8",
    env: {
      PATH: `${join(dir, "bin")}:/usr/bin:/bin`,
      VIRSH_STATE: dir,
      LIBVIRT_URI: "qemu+ssh://root@hv01/system",
      DOMAIN: "hv01-vm01",
      POOL: "fleet-hv01",
      VOLUME: "hv01-vm01-data.qcow2",
      DATA_GIB: dataGiB,
    },
  });
  const calls = readFileSync(join(dir, "calls"), "utf8").trim().split("\n").filter(Boolean);
  return { status: r.status, stderr: r.stderr, resizes: calls.filter((c) => /resize/.test(c)) };
}

describe("growing a data disk in place", () => {
  it("grows a running VM's disk with blockresize on the volume's path", () => {
    const r = grow(200 * GiB, "running", "400");
    expect(r.status, r.stderr).toBe(0);
    expect(r.resizes).toEqual([`-q -c qemu+ssh://root@hv01/system blockresize hv01-vm01 /pools/hv01/hv01-vm01-data.qcow2 ${400 * GiB}B`]);
  });

  it("grows a stopped VM's volume with vol-resize", () => {
    const r = grow(200 * GiB, "shut off", "300");
    expect(r.status, r.stderr).toBe(0);
    expect(r.resizes).toEqual([`-q -c qemu+ssh://root@hv01/system vol-resize --pool fleet-hv01 hv01-vm01-data.qcow2 ${300 * GiB}`]);
  });

  it("never shrinks, and does nothing at the size it has", () => {
    const shrink = grow(400 * GiB, "running", "200");
    expect(shrink.status).toBe(1);
    expect(shrink.stderr).toMatch(/a data disk only grows/);
    expect(shrink.resizes).toEqual([]);
    const same = grow(400 * GiB, "running", "400");
    expect(same.status).toBe(0);
    expect(same.resizes).toEqual([]);
  });

  it("refuses a size that is not a whole number of GiB, before calling virsh", () => {
    const r = grow(200 * GiB, "running", "400; reboot");
    expect(r.status).toBe(2);
    expect(r.resizes).toEqual([]);
  });

  it("is the file beside host-vm.ts, and passes shellcheck", () => {
    expect(GROW_DATA_DISK_SCRIPT).toBe(readFileSync(SCRIPT, "utf8"));
    const shellcheck = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
    expect(shellcheck.stdout + shellcheck.stderr).toBe("");
  });
});
