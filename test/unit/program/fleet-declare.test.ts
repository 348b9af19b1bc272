import { describe, it, expect } from "vitest";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { fleetProgram, DEFAULT_INPUTS } from "../../../infra/program";
import { runUnderMocks, stackConfigValues, testSecrets } from "../../support/mocks";
import { repoRoot } from "../../../stacks/toolchain";

const config = {
  ...stackConfigValues(path.join(repoRoot, "Pulumi.prod.yaml")),
  "moodle-fleet:allowPlainHttp": "true",
  "moodle-fleet:singleStack": "true",
  ...testSecrets(),
};
const secretKeys = ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"];

interface Registration {
  name: string;
  type: string;
  sourcePosition: boolean;
  stackFrames: number;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  parent: string;
  /** The parent URN of each alias the registration names. */
  aliasParents: string[];
}

interface RegisterRequest {
  getName(): string;
  getType(): string;
  getRetainondelete(): boolean;
  getParent(): string;
  getAliasesList(): { getSpec(): { getParenturn(): string } | undefined }[];
  getIgnorechangesList(): string[];
  getSourceposition(): unknown;
  getStacktrace(): { getFramesList(): unknown[] } | undefined;
}

/** Runs the fleet program under mocks, with what each registration carried besides its inputs. */
async function declareFleetRecordingRegistrations(): Promise<Registration[]> {
  const registrations: Registration[] = [];
  await runUnderMocks(
    async () => {
      const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(req: RegisterRequest, callback: unknown): unknown;
      };
      const register = monitor.registerResource.bind(monitor);
      monitor.registerResource = (req, callback) => {
        registrations.push({
          name: req.getName(),
          type: req.getType(),
          retainOnDelete: req.getRetainondelete(),
          ignoreChanges: req.getIgnorechangesList(),
          parent: req.getParent(),
          aliasParents: req.getAliasesList().map((a) => a.getSpec()?.getParenturn() ?? ""),
          sourcePosition: req.getSourceposition() !== undefined,
          stackFrames: req.getStacktrace()?.getFramesList().length ?? 0,
        });
        return register(req, callback);
      };
      const outputs = await fleetProgram(DEFAULT_INPUTS)();
      // Declared after the fleet: the SDK's traces are back for the rest of the program.
      new random.RandomPassword("declared-after-the-fleet", { length: 8 });
      return outputs;
    },
    config,
    secretKeys,
  );
  return registrations;
}

// Fleet.create turns the SDK's stack traces off while it declares
// (declareQuietly); the process must get them back, or every later error
// would lose its frames.
describe("declaring the fleet", () => {
  it("gives the process its stack trace limit back", async () => {
    const before = Error.stackTraceLimit;
    Error.stackTraceLimit = 17;
    try {
      const run = await runUnderMocks(fleetProgram(DEFAULT_INPUTS), config, secretKeys);
      expect(run.resources.length).toBeGreaterThan(0);
      expect(Error.stackTraceLimit).toBe(17);
    } finally {
      Error.stackTraceLimit = before;
    }
  });

  it("registers the fleet's resources without a source position or stack trace, and only those", async () => {
    const registrations = await declareFleetRecordingRegistrations();
    const fleetResources = registrations.filter((r) => r.name !== "declared-after-the-fleet");
    expect(fleetResources.length).toBeGreaterThan(60);
    const withTraces = fleetResources.filter((r) => r.sourcePosition || r.stackFrames > 0).map((r) => r.name);
    // The Fleet component itself is registered before declareQuietly.
    expect(withTraces).toEqual(["fleet"]);
    const after = registrations.find((r) => r.name === "declared-after-the-fleet");
    expect(after!.stackFrames).toBeGreaterThan(0);
  });

  it("gives each install its host as parent, and an alias to where it was under its site's own component", async () => {
    const registrations = await declareFleetRecordingRegistrations();
    const installs = registrations.filter((r) => /^\d{8}-install$/.test(r.name));
    expect(installs.length).toBeGreaterThan(10);
    for (const install of installs) {
      const school = install.name.slice(0, 8);
      expect(install.parent, install.name).toMatch(/[:$]moodle-fleet:infra:MoodleHost::[a-z0-9-]+-vm\d\d$/);
      expect(install.aliasParents, install.name).toEqual([
        install.parent.replace(/::([^:]+)$/, `$moodle-fleet:infra:MoodleSite::${school}`),
      ]);
    }
    // Nothing else has an alias.
    expect(registrations.filter((r) => r.aliasParents.length > 0).length).toBe(installs.length);
  });

  it("retains nothing on delete, and lets exactly the installs keep the stdin older versions gave them", async () => {
    const registrations = await declareFleetRecordingRegistrations();
    expect(registrations.filter((r) => r.retainOnDelete).map((r) => r.name)).toEqual([]);
    const installs = registrations.filter((r) => /^\d{8}-install$/.test(r.name)).map((r) => r.name);
    expect(installs.length).toBeGreaterThan(10);
    expect(registrations.filter((r) => r.ignoreChanges.includes("stdin")).map((r) => r.name)).toEqual(installs);
  });
});
