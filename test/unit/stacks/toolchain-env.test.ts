import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ENGINE_GC, repoRoot, toolchainEnv } from "../../../stacks/toolchain";

describe("the engine's environment", () => {
  const saved = { GOGC: process.env.GOGC, GOMEMLIMIT: process.env.GOMEMLIMIT };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("sets the engine's garbage collector when the environment does not", () => {
    delete process.env.GOGC;
    delete process.env.GOMEMLIMIT;
    const env = toolchainEnv();
    expect(env.GOGC).toBe(ENGINE_GC.GOGC);
    expect(env.GOMEMLIMIT).toBe(ENGINE_GC.GOMEMLIMIT);
    // Go reads a soft limit in whole binary units; it must stay below the 1.5 GiB a process may use.
    const mib = Number(/^(\d+)MiB$/.exec(env.GOMEMLIMIT)![1]);
    expect(mib).toBeLessThan(1536);
  });

  it("keeps an operator's own setting", () => {
    process.env.GOGC = "150";
    process.env.GOMEMLIMIT = "3GiB";
    expect(toolchainEnv()).toMatchObject({ GOGC: "150", GOMEMLIMIT: "3GiB" });
  });

  it("gives a shell that sources .toolchain/env.sh the same setting, or the shell's own", () => {
    const dir = mkdtempSync(join(tmpdir(), "toolchain-env-"));
    try {
      const write = spawnSync("bash", ["-c", 'source toolchain/lib.sh && TOOLCHAIN="$1" && write_env_file', "-", dir], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, ROOT: repoRoot },
        encoding: "utf8",
      });
      expect(write.status, write.stderr).toBe(0);
      expect(readFileSync(join(dir, "env.sh"), "utf8")).toContain(`PULUMI_HOME=`);
      const read = (env: Record<string, string>) =>
        spawnSync("bash", ["-c", 'source "$1/env.sh" && printf "%s %s" "$GOGC" "$GOMEMLIMIT"', "-", dir], {
          env: { PATH: process.env.PATH, ...env },
          encoding: "utf8",
        }).stdout;
      expect(read({})).toBe(`${ENGINE_GC.GOGC} ${ENGINE_GC.GOMEMLIMIT}`);
      expect(read({ GOGC: "150", GOMEMLIMIT: "3GiB" })).toBe("150 3GiB");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
