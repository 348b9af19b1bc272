import { afterEach, describe, expect, it } from "vitest";
import { ENGINE_GC, toolchainEnv } from "../../../stacks/toolchain";

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
});
