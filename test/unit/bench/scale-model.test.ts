import { describe, expect, it } from "vitest";
import { DEFAULTS, predictConverge } from "../../../bench/scale-model";
import { expectedResourceCount } from "../../../infra/components/fleet";
import type { FleetPlan } from "../../../infra/plan/types";

describe("the scale model", () => {
  it("counts resources as the fleet declares them", () => {
    const out = predictConverge({ ...DEFAULTS, schools: 4000 });
    const plan = {
      hypervisors: Array.from({ length: out.hypervisors }),
      hosts: Array.from({ length: out.hosts }),
      sites: Array.from({ length: 4000 }),
    } as unknown as FleetPlan;
    expect(out.resources).toBe(expectedResourceCount(plan));
    expect(out).toMatchObject({ hypervisors: 20, hosts: 80 });
  });

  it("runs a cell's hosts side by side and its cells in rounds of --parallel", () => {
    const base = { ...DEFAULTS, vmSeconds: 60, bootstrapSeconds: 300, installSeconds: 100 };
    const two = predictConverge({ ...base, parallel: 2 });
    // 50 sites, 4 at once: 13 rounds; 20 cells in 10 rounds of two.
    expect(two.installRounds).toBe(13);
    expect(two.cellSeconds).toBe(60 + 300 + 13 * 100);
    expect(two.hardwareSeconds).toBe(10 * two.cellSeconds);
    const all = predictConverge({ ...base, parallel: 20 });
    expect(all.hardwareSeconds).toBe(all.cellSeconds);
  });

  it("lets the engine's per-cell limit bound installs: 16 steps over 4 hosts leave 4 each", () => {
    expect(predictConverge({ ...DEFAULTS, installsPerHost: 8 }).effectiveInstallsPerHost).toBe(4);
    expect(predictConverge({ ...DEFAULTS, installsPerHost: 8, enginePerCell: 32 }).effectiveInstallsPerHost).toBe(8);
  });

  it("is bound by the engine when the hardware is fast and the operator's machine slow", () => {
    const out = predictConverge({ ...DEFAULTS, parallel: 20, installSeconds: 1, bootstrapSeconds: 1, vmSeconds: 1, engineCpuSecondsPerResource: 1 });
    expect(out.bound).toBe("engine");
    expect(out.totalSeconds).toBe(out.engineSeconds);
    expect(out.engineSeconds).toBeCloseTo(out.resources / 2);
  });
});
