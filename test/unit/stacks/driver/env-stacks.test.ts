import { describe, expect, it } from "vitest";
import { sortEnvStacks, strayMessage } from "../../../../stacks/driver/env-stacks";

describe("sortEnvStacks", () => {
  const stacks = [
    { name: "prod", resourceCount: 0 },
    { name: "prod-hv01", resourceCount: 120 },
    { name: "organization/moodle-fleet/prod-hv02", resourceCount: 80 },
    { name: "prod-hv03", resourceCount: 95 },
    { name: "prod-hv04", resourceCount: 0 },
    { name: "prod-hv05" },
    { name: "prod-eu-hv01", resourceCount: 40 },
    { name: "lab-lab01", resourceCount: 50 },
  ];

  it("finds the configured cells and the stacks of hypervisors no longer configured", () => {
    const sorted = sortEnvStacks("prod", ["hv01", "hv02"], stacks, ["prod", "lab", "prod-eu"]);
    expect([...sorted.cells.keys()]).toEqual(["hv01", "hv02"]);
    expect(sorted.cells.get("hv02")).toEqual({ name: "prod-hv02", resourceCount: 80 });
    // An unknown resource count is not taken for empty.
    expect(sorted.strays.map((s) => s.name)).toEqual(["prod-hv03", "prod-hv05"]);
    expect(sorted.emptyStrays.map((s) => s.name)).toEqual(["prod-hv04"]);
  });

  it("leaves a longer environment's stacks to it", () => {
    expect(sortEnvStacks("prod", ["hv01"], stacks, ["prod"]).strays.map((s) => s.name)).toContain("prod-eu-hv01");
    expect(sortEnvStacks("prod", ["hv01"], stacks, ["prod", "prod-eu"]).strays.map((s) => s.name)).not.toContain("prod-eu-hv01");
  });

  it("explains what to do about strays", () => {
    const text = strayMessage("prod", [{ name: "prod-hv03", resourceCount: 95 }], ["hv01", "hv02"]);
    expect(text).toContain("prod-hv03 (95 resources)");
    expect(text).toContain("configured: hv01, hv02");
    expect(text).toContain("pulumi destroy -s <stack>");
  });
});
