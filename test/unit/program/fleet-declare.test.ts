import { describe, it, expect } from "vitest";
import * as path from "node:path";
import { fleetProgram, DEFAULT_INPUTS } from "../../../infra/program";
import { runUnderMocks, stackConfigValues, testSecrets } from "../../support/mocks";
import { repoRoot } from "../../../stacks/toolchain";

// Fleet.create lowers Error.stackTraceLimit while it declares (the SDK's
// per-promise traces were half the evaluation time); the process must get
// its own limit back, or every later error would lose its frames.
describe("declaring the fleet", () => {
  it("gives the process its stack trace limit back", async () => {
    const config = {
      ...stackConfigValues(path.join(repoRoot, "Pulumi.prod.yaml")),
      "moodle-fleet:allowPlainHttp": "true",
      "moodle-fleet:singleStack": "true",
      ...testSecrets(),
    };
    const before = Error.stackTraceLimit;
    Error.stackTraceLimit = 17;
    try {
      const run = await runUnderMocks(fleetProgram(DEFAULT_INPUTS), config, ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"]);
      expect(run.resources.length).toBeGreaterThan(0);
      expect(Error.stackTraceLimit).toBe(17);
    } finally {
      Error.stackTraceLimit = before;
    }
  });
});
