import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as random from "@pulumi/random";
import * as libvirt from "@pulumi/libvirt";
import { Stack } from "@pulumi/pulumi/automation";
import { openInlineStack, repoRoot } from "../../stacks/toolchain";
import { requireLibvirtd, virsh, virshSucceeds, labSkipped } from "../support/lab-services";

// The real engine and the real plugins, not mocks: up, a no-op up, destroy.
describe.skipIf(labSkipped)("toolchain smoke: real CLI and plugins", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-smoke-"));
  const poolName = `fleet-smoke-${process.pid}`;
  const poolDir = path.join(work, "pool");
  let stack: Stack;

  beforeAll(async () => {
    requireLibvirtd();
    const program = async () => {
      const password = new random.RandomPassword("smoke-password", { length: 24, minSpecial: 1, overrideSpecial: "-_.+" });
      const provider = new libvirt.Provider("local", { uri: "qemu:///system" });
      const pool = new libvirt.Pool("smoke-pool", { name: poolName, type: "dir", path: poolDir }, { provider });
      return { password: password.result, passwordLength: password.result.apply((p) => p.length), pool: pool.name };
    };
    stack = await openInlineStack(
      { stackName: "smoke", projectName: "moodle-fleet-smoke", program },
      { stateDir: path.join(repoRoot, ".state", "smoke"), passphraseFile: path.join(repoRoot, ".state", "smoke.passphrase") },
      { workDir: work },
    );
  });

  afterAll(async () => {
    if (stack) await stack.destroy({ color: "never" }).catch(() => undefined);
    if (virshSucceeds("pool-info", poolName)) {
      virsh("pool-destroy", poolName);
      virsh("pool-undefine", poolName);
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("creates a password and a libvirt pool", async () => {
    const up = await stack.up({ color: "never" });
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges?.create).toBe(4); // stack, password, provider, pool
    expect(up.outputs.passwordLength.value).toBe(24);
    expect(up.outputs.password.secret).toBe(true);
    expect(up.outputs.pool.value).toBe(poolName);
    expect(virsh("pool-info", poolName)).toMatch(/State:\s+running/);
  });

  it("a second up changes nothing", async () => {
    const up = await stack.up({ color: "never" });
    expect(up.summary.result).toBe("succeeded");
    const changes = up.summary.resourceChanges ?? {};
    expect(Object.keys(changes).filter((k) => k !== "same")).toEqual([]);
  });

  it("leaves no debug log of its runs behind (toolchain/setup.sh turns the CLI's automatic logs off)", () => {
    const home = path.join(repoRoot, ".toolchain", "pulumi-home");
    const logs = fs.statSync(path.join(home, "logs"));
    expect(logs.isFile()).toBe(true);
    expect(logs.size).toBe(0);
    const found = fs.readdirSync(home, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".log") && !f.startsWith("plugins"));
    expect(found).toEqual([]);
  });

  it("destroy removes the pool", async () => {
    const res = await stack.destroy({ color: "never" });
    expect(res.summary.result).toBe("succeeded");
    expect(virshSucceeds("pool-info", poolName)).toBe(false);
  });
});
