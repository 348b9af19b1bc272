import { describe, it, expect } from "vitest";
import { cellSecondsLeft, formatDuration, formatProgress, runSecondsLeft, type CellProgress } from "../../../../stacks/driver/progress";

const T0 = 1_800_000_000_000;
const cell = (over: Partial<CellProgress>): CellProgress => ({ cell: "hv01", state: "waiting", done: 0, total: 100, failures: 0, ...over });

describe("progress ETA", () => {
  it("gives a running cell its remaining resources at its own pace, once it has one", () => {
    const running = cell({ state: "running", startedAt: T0, done: 20 });
    // 20 resources in 40 s: 80 left at 2 s each.
    expect(cellSecondsLeft(running, T0 + 40_000)).toBe(160);
    expect(cellSecondsLeft({ ...running, done: 2 }, T0 + 40_000)).toBeUndefined();
    expect(cellSecondsLeft({ ...running, state: "done" }, T0 + 40_000)).toBeUndefined();
    // More done than expected (a plan that grew) is not a negative time.
    expect(cellSecondsLeft({ ...running, done: 120 }, T0 + 40_000)).toBe(0);
  });

  it("spreads the run's remaining work over the cells that run at once", () => {
    const all = [
      cell({ cell: "hv01", state: "done", startedAt: T0, endedAt: T0 + 100_000, done: 100 }),
      cell({ cell: "hv02", state: "running", startedAt: T0, done: 50 }),
      cell({ cell: "hv03" }),
      cell({ cell: "hv04" }),
    ];
    const now = T0 + 100_000;
    // 150 resources in 200 worker-seconds; 50 + 100 + 100 left.
    const pace = 200 / 150;
    expect(runSecondsLeft(all, now, 1)).toBeCloseTo(250 * pace, 6);
    expect(runSecondsLeft(all, now, 2)).toBeCloseTo((250 * pace) / 2, 6);
    // No more at once than there are unfinished cells.
    expect(runSecondsLeft(all, now, 8)).toBeCloseTo((250 * pace) / 3, 6);
    expect(runSecondsLeft([cell({ state: "running", startedAt: T0, done: 1 })], now, 2)).toBeUndefined();
  });

  it("shows the ETA beside each running cell and for the run, and none when all are finished", () => {
    const all = [cell({ cell: "hv01", state: "running", startedAt: T0, done: 25, total: 50 }), cell({ cell: "hv02" })];
    const text = formatProgress(all, T0 + 50_000, 2);
    const [hv01, hv02, run] = text.split("\n");
    expect(hv01).toMatch(/^hv01\s+running\s+25\/50 \(\s*50%\)\s+ETA 50s$/);
    expect(hv02).not.toContain("ETA");
    // 25 in 50 s: 2 s each; 125 left, 2 cells at once.
    expect(run).toMatch(/^all\s+0\/2\s+25\/150\s+ETA 2m05s$/);
    const finished = all.map((p) => ({ ...p, state: "done" as const, endedAt: T0 + 60_000 }));
    expect(formatProgress(finished, T0 + 60_000, 2)).not.toContain("ETA");
  });

  it("writes durations as an operator reads them", () => {
    expect(formatDuration(42.4)).toBe("42s");
    expect(formatDuration(185)).toBe("3m05s");
    expect(formatDuration(3720)).toBe("1h02m");
    expect(formatDuration(-3)).toBe("0s");
  });
});
