import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PRIVATE_VOLUMES_SCRIPT } from "../../../../infra/components/host-vm";

const SCRIPT = join(__dirname, "../../../../infra/components/private-volumes.sh");

/**
 * A virsh stand-in for one dir pool: its volumes are the files of a folder,
 * vol-dumpxml reports their real mode as libvirtd does (0%o), and
 * vol-create-from copies a file with the mode its XML asks for. Every call is
 * recorded; `fail-on` (an extended regular expression) makes the call that
 * matches it fail once.
 */
const VIRSH_STUB = `#!/bin/bash
set -eu
S="$VIRSH_STATE"
echo "$*" >>"$S/calls"
if [[ -e "$S/fail-on" ]] && grep -qE -- "$(cat "$S/fail-on")" <<<"$*"; then
  rm -f "$S/fail-on"; echo "error: stub: failing as asked" >&2; exit 1
fi
while [[ "$1" == -* ]]; do case "$1" in -c) shift 2 ;; *) shift ;; esac; done
cmd=$1; shift
args=()
while (($#)); do case "$1" in --pool|--inputpool) shift 2 ;; --bytes) shift ;; *) args+=("$1"); shift ;; esac; done
P="$S/pool"
case "$cmd" in
  vol-info)
    [[ -f "$P/\${args[0]}" ]] || { echo "error: Storage volume not found" >&2; exit 1; }
    printf 'Name:           %s\\nType:           file\\nCapacity:       %s bytes\\n' "\${args[0]}" "$(stat -c %s "$P/\${args[0]}")" ;;
  vol-dumpxml)
    [[ -f "$P/\${args[0]}" ]] || { echo "error: Storage volume not found" >&2; exit 1; }
    printf '<volume type="file">\\n  <name>%s</name>\\n  <target>\\n    <path>%s</path>\\n    <permissions>\\n      <mode>0%s</mode>\\n    </permissions>\\n  </target>\\n  <backingStore>\\n    <permissions>\\n      <mode>0644</mode>\\n    </permissions>\\n  </backingStore>\\n</volume>\\n' "\${args[0]}" "$P/\${args[0]}" "$(stat -c %a "$P/\${args[0]}")" ;;
  vol-create-from)
    xml=$(cat "\${args[0]}")
    name=$(sed -n 's|.*<name>\\([^<]*\\)</name>.*|\\1|p' <<<"$xml")
    mode=$(sed -n 's|.*<mode>\\([0-7]*\\)</mode>.*|\\1|p' <<<"$xml")
    [[ ! -e "$P/$name" ]] || { echo "error: storage volume name '$name' already in use" >&2; exit 1; }
    install -m "$mode" "$P/\${args[1]}" "$P/$name" ;;
  vol-delete) rm "$P/\${args[0]}" ;;
  vol-path) echo "$P/\${args[0]}" ;;
  *) echo "stub: $cmd not handled" >&2; exit 3 ;;
esac
`;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

const SEED = "hv01-vm01-seed.iso";
const COPY = `${SEED}.private-copy`;
const ROOT = "hv01-vm01-root.qcow2";
const DATA = "hv01-vm01-data.qcow2";

/** A pool with `files` (name -> mode; content is the name repeated), and one run of the script against it. */
function setup(files: Record<string, number>) {
  const dir = mkdtempSync(join(tmpdir(), "private-volumes-"));
  dirs.push(dir);
  const state = join(dir, "state");
  const pool = join(state, "pool");
  const bin = join(dir, "bin");
  mkdirSync(pool, { recursive: true });
  mkdirSync(bin);
  writeFileSync(join(bin, "virsh"), VIRSH_STUB);
  chmodSync(join(bin, "virsh"), 0o755);
  for (const [name, mode] of Object.entries(files)) {
    writeFileSync(join(pool, name), name.repeat(100));
    chmodSync(join(pool, name), mode);
  }
  const run = (env: Record<string, string> = {}) => {
    rmSync(join(state, "calls"), { force: true });
    const result = spawnSync("/bin/bash", ["-c", PRIVATE_VOLUMES_SCRIPT], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        VIRSH_STATE: state,
        LIBVIRT_URI: "qemu+ssh://root@hv01.example/system",
        POOL: "fleet",
        SEED,
        VOLUMES: `${ROOT} ${DATA}`,
        ...env,
      },
      timeout: 20_000,
    });
    const calls = existsSync(join(state, "calls")) ? readFileSync(join(state, "calls"), "utf8").trim().split("\n") : [];
    return { ...result, calls };
  };
  const mode = (name: string) => statSync(join(pool, name)).mode & 0o777;
  const content = (name: string) => readFileSync(join(pool, name), "utf8");
  const has = (name: string) => existsSync(join(pool, name));
  return { run, mode, content, has, pool, state };
}

describe("the step that makes a VM's seed private", () => {
  it("is the file beside host-vm.ts, and passes shellcheck", () => {
    expect(PRIVATE_VOLUMES_SCRIPT).toBe(readFileSync(SCRIPT, "utf8"));
    const shellcheck = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
    if (shellcheck.error === undefined) expect(shellcheck.stdout + shellcheck.stderr).toBe("");
  });

  it("turns a 644 seed into a 0600 one with the same name and content, through libvirtd only", () => {
    const p = setup({ [SEED]: 0o644, [ROOT]: 0o600, [DATA]: 0o600 });
    const r = p.run();
    expect(r.status, r.stderr).toBe(0);
    expect(p.mode(SEED)).toBe(0o600);
    expect(p.content(SEED)).toBe(SEED.repeat(100));
    expect(p.has(COPY)).toBe(false);
    expect(r.stderr).toContain(`private-volumes: ${SEED} was mode 0644, is mode 0600 now`);
    expect(r.stderr).not.toMatch(/WARNING/);
    // The copy exists before the seed goes: never a moment with neither.
    const created = r.calls.findIndex((c) => c.includes("vol-create-from") && c.endsWith(` ${SEED}`));
    const deleted = r.calls.findIndex((c) => c.includes(`vol-delete --pool fleet ${SEED}`) && !c.includes(COPY));
    expect(created).toBeGreaterThanOrEqual(0);
    expect(created).toBeLessThan(deleted);
    expect(r.calls.every((c) => c.startsWith("-q -c qemu+ssh://root@hv01.example/system "))).toBe(true);
  });

  it("leaves a private seed alone", () => {
    const p = setup({ [SEED]: 0o600, [ROOT]: 0o600, [DATA]: 0o600 });
    const r = p.run();
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls.some((c) => c.includes("vol-create-from") || c.includes("vol-delete"))).toBe(false);
    expect(r.stderr).toBe(`private-volumes: ${SEED} is mode 0600\n`);
  });

  it("keeps the seed when its copy fails, and finishes a run that stopped after removing it", () => {
    const p = setup({ [SEED]: 0o644, [ROOT]: 0o600, [DATA]: 0o600 });
    const escaped = (name: string) => name.replace(/\./g, "\\.");
    writeFileSync(join(p.state, "fail-on"), `vol-create-from .* ${escaped(SEED)}$`);
    const first = p.run();
    expect(first.status).not.toBe(0);
    expect(p.mode(SEED)).toBe(0o644);
    expect(p.content(SEED)).toBe(SEED.repeat(100));
    // Now the copy back fails, after the seed was removed: only the copy is left.
    writeFileSync(join(p.state, "fail-on"), `vol-create-from .* ${escaped(COPY)}$`);
    const second = p.run();
    expect(second.status).not.toBe(0);
    expect(p.has(SEED)).toBe(false);
    expect(p.has(COPY)).toBe(true);
    const third = p.run();
    expect(third.status, third.stderr).toBe(0);
    expect(p.mode(SEED)).toBe(0o600);
    expect(p.content(SEED)).toBe(SEED.repeat(100));
    expect(p.has(COPY)).toBe(false);
  });

  it("removes a copy left by an earlier run before copying again", () => {
    const p = setup({ [SEED]: 0o644, [COPY]: 0o600, [ROOT]: 0o600, [DATA]: 0o600 });
    const r = p.run();
    expect(r.status, r.stderr).toBe(0);
    expect(p.mode(SEED)).toBe(0o600);
    expect(p.content(SEED)).toBe(SEED.repeat(100));
    expect(p.has(COPY)).toBe(false);
  });

  it("never copies a disk: one that others can read is named, with the command that closes it", () => {
    const p = setup({ [SEED]: 0o600, [ROOT]: 0o644, [DATA]: 0o640 });
    const r = p.run();
    expect(r.status, r.stderr).toBe(0);
    expect(p.mode(ROOT)).toBe(0o644);
    expect(r.calls.some((c) => c.includes("vol-create-from"))).toBe(false);
    expect(r.stderr).toContain(`WARNING: ${ROOT} is mode 0644, readable by other users of the hypervisor; libvirt cannot change it: on the hypervisor, run chmod 0600 ${join(p.pool, ROOT)}`);
    expect(r.stderr).toContain(`WARNING: ${DATA} is mode 0640`);
  });

  it("fails without a seed, and refuses names or inputs it does not expect", () => {
    const none = setup({ [ROOT]: 0o600, [DATA]: 0o600 });
    const missing = none.run();
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`no seed ${SEED} in pool fleet`);
    const p = setup({ [SEED]: 0o644 });
    const odd = p.run({ SEED: "x</name><name>y" });
    expect(odd.status).toBe(2);
    expect(odd.calls).toEqual([]);
    const unset = p.run({ VOLUMES: "" });
    expect(unset.status).toBe(2);
    expect(unset.stderr).toContain("VOLUMES is not set");
  });
});
