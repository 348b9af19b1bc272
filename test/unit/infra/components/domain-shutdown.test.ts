import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DOMAIN_SHUTDOWN_SCRIPT } from "../../../../infra/components/host-vm";

const SCRIPT = join(__dirname, "../../../../infra/components/domain-shutdown.sh");

/**
 * A virsh stand-in: answers from files in its state directory, as libvirtd
 * would for one domain, and records every call. `shutdown` turns the domain
 * off after `shutdown-after` requests (never, when that file is missing).
 */
const VIRSH_STUB = `#!/bin/bash
set -eu
S="$VIRSH_STATE"
echo "$*" >>"$S/calls"
[[ -e "$S/unreachable" ]] && { echo "error: failed to connect to the hypervisor" >&2; exit 1; }
while [[ "$1" == -* && "$1" != -- ]]; do
  case "$1" in -c) shift 2 ;; *) shift ;; esac
done
cmd=$1; shift
[[ "\${1:-}" == -- ]] && shift
case "$cmd" in
  list) cat "$S/names" ;;
  dominfo) printf 'Id:             1\\nName:           %s\\nState:          %s\\nCPU(s):         %s\\nMax memory:     %s KiB\\nUsed memory:    1024 KiB\\n' "$1" "$(cat "$S/state")" "$(cat "$S/cpus")" "$(cat "$S/maxmem")" ;;
  domstate) cat "$S/state" ;;
  shutdown)
    n=$(( $(cat "$S/requests" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$S/requests"
    if [[ -e "$S/shutdown-after" && "$n" -ge "$(cat "$S/shutdown-after")" ]]; then echo "shut off" >"$S/state"; fi
    echo "Domain '$1' is being shutdown" ;;
  *) echo "stub: $cmd not handled" >&2; exit 3 ;;
esac
`;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

interface Domain {
  names?: string;
  state?: string;
  cpus?: number;
  maxmemKiB?: number;
  shutdownAfter?: number;
  unreachable?: boolean;
}

function run(domain: Domain, env: Record<string, string> = {}, withVirsh = true) {
  const dir = mkdtempSync(join(tmpdir(), "domain-shutdown-"));
  dirs.push(dir);
  const state = join(dir, "state");
  const bin = join(dir, "bin");
  spawnSync("mkdir", ["-p", state, bin]);
  if (withVirsh) {
    writeFileSync(join(bin, "virsh"), VIRSH_STUB);
    chmodSync(join(bin, "virsh"), 0o755);
  }
  writeFileSync(join(state, "names"), domain.names ?? "hv01-vm01\nhv01-vm02\n");
  writeFileSync(join(state, "state"), `${domain.state ?? "running"}\n`);
  writeFileSync(join(state, "cpus"), String(domain.cpus ?? 2));
  writeFileSync(join(state, "maxmem"), String(domain.maxmemKiB ?? 4096 * 1024));
  if (domain.shutdownAfter !== undefined) writeFileSync(join(state, "shutdown-after"), String(domain.shutdownAfter));
  if (domain.unreachable) writeFileSync(join(state, "unreachable"), "");
  const result = spawnSync("/bin/bash", ["-c", DOMAIN_SHUTDOWN_SCRIPT], {
    encoding: "utf8",
    // stdin not inherited: a bash whose stdin is a socket reads ~/.bashrc.
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: withVirsh ? `${bin}:/usr/bin:/bin` : bin,
      VIRSH_STATE: state,
      LIBVIRT_URI: "qemu+ssh://root@hv01.example/system",
      DOMAIN: "hv01-vm01",
      VCPU: "2",
      MEMORY_MIB: "4096",
      TIMEOUT_SECONDS: "5",
      POLL_SECONDS: "0.05",
      ...env,
    },
    timeout: 20_000,
  });
  const calls = existsSync(join(state, "calls")) ? readFileSync(join(state, "calls"), "utf8").trim().split("\n") : [];
  return { ...result, calls, finalState: readFileSync(join(state, "state"), "utf8").trim() };
}

describe("the shutdown before a resize", () => {
  it("is the file beside host-vm.ts, and passes shellcheck", () => {
    expect(DOMAIN_SHUTDOWN_SCRIPT).toBe(readFileSync(SCRIPT, "utf8"));
    const shellcheck = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
    if (shellcheck.error === undefined) expect(shellcheck.stdout + shellcheck.stderr).toBe("");
  });

  it("leaves a domain alone that keeps its size", () => {
    const r = run({});
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls.some((c) => c.includes("shutdown"))).toBe(false);
    expect(r.finalState).toBe("running");
  });

  it("shuts a running domain down and waits until it is off, when its size changes", () => {
    const r = run({ shutdownAfter: 1 }, { MEMORY_MIB: "8192" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.finalState).toBe("shut off");
    expect(r.calls).toContain("-q -c qemu+ssh://root@hv01.example/system shutdown -- hv01-vm01");
    expect(r.stderr).toMatch(/hv01-vm01 goes from 2 vcpu, 4194304 KiB to 2 vcpu, 8388608 KiB/);
    expect(r.stderr).toMatch(/is shut off after/);
  });

  it("takes a change of vcpu alone as a resize too", () => {
    const r = run({ shutdownAfter: 1 }, { VCPU: "4" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.finalState).toBe("shut off");
  });

  it("gives up after the timeout with a warning and lets the resize go ahead", () => {
    const r = run({}, { VCPU: "4", TIMEOUT_SECONDS: "1" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.finalState).toBe("running");
    expect(r.stderr).toMatch(/WARNING: hv01-vm01 did not shut down within 1 s; the resize powers it off/);
  });

  it("does nothing for a domain that does not exist yet or is not running", () => {
    const missing = run({ names: "hv01-vm02\nhv01-vm010\n" }, { VCPU: "4" });
    expect(missing.status, missing.stderr).toBe(0);
    expect(missing.calls).toEqual(["-q -c qemu+ssh://root@hv01.example/system list --all --name"]);
    const off = run({ state: "shut off" }, { VCPU: "4" });
    expect(off.status, off.stderr).toBe(0);
    expect(off.calls.some((c) => c.includes("shutdown"))).toBe(false);
  });

  it("fails, before the provider touches the domain, when libvirtd cannot be reached or virsh is missing", () => {
    const unreachable = run({ unreachable: true }, { VCPU: "4" });
    expect(unreachable.status).not.toBe(0);
    expect(unreachable.stderr).toMatch(/failed to connect/);
    const noVirsh = run({}, { VCPU: "4" }, false);
    expect(noVirsh.status).toBe(1);
    expect(noVirsh.stderr).toMatch(/virsh not found.*libvirt-clients/);
  });

  it("shuts the domain down whatever its size when it is deleted, and needs no size for that", () => {
    const r = run({ shutdownAfter: 1 }, { REASON: "delete", VCPU: "", MEMORY_MIB: "" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.finalState).toBe("shut off");
    expect(r.calls.some((c) => c.includes("dominfo"))).toBe(false);
    expect(r.stderr).toMatch(/domain-shutdown: hv01-vm01 is deleted: shutting it down \(up to 5 s\)/);
    expect(r.stderr).toMatch(/hv01-vm01 is shut off after/);
    const stubborn = run({}, { REASON: "delete", TIMEOUT_SECONDS: "1" });
    expect(stubborn.status, stubborn.stderr).toBe(0);
    expect(stubborn.stderr).toMatch(/WARNING: hv01-vm01 did not shut down within 1 s; the delete powers it off/);
    const gone = run({ names: "hv01-vm02\n" }, { REASON: "delete" });
    expect(gone.status, gone.stderr).toBe(0);
    expect(gone.calls.some((c) => c.includes("shutdown"))).toBe(false);
  });

  it("refuses to run without its inputs", () => {
    const r = run({}, { DOMAIN: "" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/DOMAIN is not set/);
    const odd = run({}, { REASON: "stop" });
    expect(odd.status).toBe(2);
    expect(odd.calls).toEqual([]);
  });

  // libvirt's own test driver: a real virsh and real dominfo output.
  const hasVirsh = spawnSync("virsh", ["-c", "test:///default", "list", "--all", "--name"]).status === 0;
  it.runIf(hasVirsh)("reads the size from a real virsh's dominfo", () => {
    const env = { PATH: "/usr/bin:/bin", LIBVIRT_URI: "test:///default", DOMAIN: "test", TIMEOUT_SECONDS: "1", POLL_SECONDS: "0.2" };
    // The test driver's domain "test": 2 vcpu, 8388608 KiB.
    const same = spawnSync("/bin/bash", ["-c", DOMAIN_SHUTDOWN_SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...env, VCPU: "2", MEMORY_MIB: "8192" } });
    expect(same.status, same.stderr).toBe(0);
    expect(same.stderr).toBe("");
    // Every virsh call opens a fresh test driver, so the domain never goes off: the timeout path.
    const bigger = spawnSync("/bin/bash", ["-c", DOMAIN_SHUTDOWN_SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...env, VCPU: "4", MEMORY_MIB: "8192" } });
    expect(bigger.status, bigger.stderr).toBe(0);
    expect(bigger.stderr).toMatch(/test goes from 2 vcpu, 8388608 KiB to 4 vcpu/);
  });
});
