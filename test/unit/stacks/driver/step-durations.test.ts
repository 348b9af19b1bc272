import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import {
  foldStepMarks,
  formatStepDurations,
  kindFigures,
  mergeDurations,
  nameOf,
  shortType,
  stepKind,
  stepMark,
  type KindDurations,
  type StepMark,
} from "../../../../stacks/driver/step-durations";
import { formatSummary } from "../../../../stacks/driver/run-cells";
import { fleetProgram, DEFAULT_INPUTS } from "../../../../infra/program";
import { runUnderMocks, stackConfigValues, testSecrets } from "../../../support/mocks";
import { repoRoot } from "../../../../stacks/toolchain";
import { TYPES, urn } from "./urns";
import * as fs from "node:fs";

/** The sample fleet's schools: one row each in its ledger. */
function ledgerSchools(): number {
  return fs.readFileSync(DEFAULT_INPUTS.ledgerFile, "utf8").trim().split("\n").length - 1;
}

const STACK = "prod-hv01";
const FLEET = "moodle-fleet:infra:Fleet";
const HYPERVISOR = "moodle-fleet:infra:Hypervisor";
const HOST = "moodle-fleet:infra:MoodleHost";
const VM = "moodle-fleet:infra:HostVm";
const RETIRED_SITE = "moodle-fleet:infra:MoodleSite";
const T0 = 1_800_000_000_000;

const install = (school: string) => urn(STACK, [FLEET, HYPERVISOR, HOST], TYPES.remote, `${school}-install`);
const hostUrn = (host: string) => urn(STACK, [FLEET, HYPERVISOR], HOST, host);
// A stack made while each site had a component of its own.
const retiredSiteUrn = (school: string) => urn(STACK, [FLEET, HYPERVISOR, HOST], RETIRED_SITE, school);
const retiredInstall = (school: string) => urn(STACK, [FLEET, HYPERVISOR, HOST, RETIRED_SITE], TYPES.remote, `${school}-install`);

const start = (u: string, op: string, kind: string, at: number): StepMark => ({ at, urn: u, op, phase: "start", kind });
const ok = (u: string, op: string, at: number): StepMark => ({ at, urn: u, op, phase: "ok" });
const failed = (u: string, op: string, at: number): StepMark => ({ at, urn: u, op, phase: "failed" });

function byKind(ds: KindDurations[]): Record<string, number[]> {
  return Object.fromEntries(ds.map((d) => [`${d.kind}|${d.op}${d.failed ? "|failed" : ""}`, [...d.seconds].sort((a, b) => a - b)]));
}

/** An engine event as the Automation API hands it over (only the fields the driver reads). */
function engineEvent(
  which: "resourcePreEvent" | "resOutputsEvent" | "resOpFailedEvent",
  op: string,
  u: string,
  type: string,
  over: { parent?: string; custom?: boolean; planning?: boolean; state?: "old" | "new" } = {},
): EngineEvent {
  const state = { type, urn: u, id: "", parent: over.parent ?? "", ...(over.custom !== false && { custom: true }) };
  const metadata = { op, urn: u, type, provider: "", [over.state ?? "new"]: state };
  const payload = which === "resOpFailedEvent" ? { metadata, status: 0, steps: 1 } : { metadata, ...(over.planning && { planning: true }) };
  return { sequence: 1, timestamp: 1_800_000_000, [which]: payload } as unknown as EngineEvent;
}

describe("step marks from engine events", () => {
  it("starts a step at a resource's pre-event, named by its kind, and ends it at its outputs or its failure", () => {
    const u = install("04190001");
    const pre = stepMark(engineEvent("resourcePreEvent", "create", u, TYPES.remote, { parent: hostUrn("hv01-vm01") }), T0);
    expect(pre).toEqual({ at: T0, urn: u, op: "create", phase: "start", kind: "command:remote:Command install" });
    expect(stepMark(engineEvent("resOutputsEvent", "create", u, TYPES.remote), T0 + 5)).toEqual({ at: T0 + 5, urn: u, op: "create", phase: "ok" });
    expect(stepMark(engineEvent("resOpFailedEvent", "create", u, TYPES.remote), T0 + 5)?.phase).toBe("failed");
    // A delete has only the old state; its owner comes from there, in an older stack the site's component.
    const old = retiredInstall("04190001");
    const del = stepMark(engineEvent("resourcePreEvent", "delete", old, TYPES.remote, { parent: retiredSiteUrn("04190001"), state: "old" }), T0);
    expect(del?.kind).toBe("command:remote:Command install");
  });

  it("leaves out same steps, a replacement's marker step, the stack, components and preview events", () => {
    const u = install("04190001");
    expect(stepMark(engineEvent("resourcePreEvent", "same", u, TYPES.remote, { parent: hostUrn("hv01-vm01") }), T0)).toBeUndefined();
    expect(stepMark(engineEvent("resourcePreEvent", "replace", u, TYPES.remote, { parent: hostUrn("hv01-vm01") }), T0)).toBeUndefined();
    expect(stepMark(engineEvent("resOutputsEvent", "replace", u, TYPES.remote), T0)).toBeUndefined();
    // A refresh's end carries the change it found.
    expect(stepMark(engineEvent("resOutputsEvent", "same", u, TYPES.remote), T0)?.phase).toBe("ok");
    expect(stepMark(engineEvent("resourcePreEvent", "create", u, TYPES.remote, { planning: true }), T0)).toBeUndefined();
    expect(stepMark(engineEvent("resOutputsEvent", "create", u, TYPES.remote, { planning: true }), T0)).toBeUndefined();
    const stack = `urn:pulumi:${STACK}::moodle-fleet::pulumi:pulumi:Stack::moodle-fleet-${STACK}`;
    expect(stepMark(engineEvent("resourcePreEvent", "create", stack, "pulumi:pulumi:Stack", { custom: false }), T0)).toBeUndefined();
    expect(stepMark(engineEvent("resourcePreEvent", "delete", retiredSiteUrn("04190001"), RETIRED_SITE, { custom: false, state: "old" }), T0)).toBeUndefined();
    expect(stepMark(engineEvent("resOutputsEvent", "delete", retiredSiteUrn("04190001"), RETIRED_SITE, { custom: false, state: "old" }), T0)).toBeUndefined();
    // Another package's component: the engine leaves `custom` out.
    expect(stepMark(engineEvent("resourcePreEvent", "create", "urn:x::y::other:index:Thing::a", "other:index:Thing", { custom: false }), T0)).toBeUndefined();
  });
});

describe("folding step marks into durations", () => {
  const kind = "command:remote:Command install";

  it("times steps whose events interleave across resources, and keeps failures apart", () => {
    const [a, b, c] = ["04190001", "04190002", "04190003"].map(install);
    const marks = [
      start(a, "create", kind, T0),
      start(b, "create", kind, T0 + 1_000),
      start(c, "update", kind, T0 + 1_500),
      ok(b, "create", T0 + 4_000),
      failed(c, "update", T0 + 2_000),
      ok(a, "create", T0 + 10_000),
    ];
    expect(byKind(foldStepMarks(marks))).toEqual({
      [`${kind}|create`]: [3, 10],
      [`${kind}|update|failed`]: [0.5],
    });
  });

  it("ignores a same step's outputs and drops a step that never ended", () => {
    const [a, b] = ["04190001", "04190002"].map(install);
    const marks = [ok(a, "same", T0 + 1_000), start(b, "create", kind, T0), start(a, "update", kind, T0 + 2_000), ok(a, "update", T0 + 3_000)];
    expect(byKind(foldStepMarks(marks))).toEqual({ [`${kind}|update`]: [1] });
  });

  it("times each step of a replacement on its own, and ends a refresh at the change it found", () => {
    const a = install("04190001");
    const marks = [
      start(a, "create-replacement", kind, T0),
      ok(a, "create-replacement", T0 + 30_000),
      start(a, "delete-replaced", kind, T0 + 31_000),
      ok(a, "delete-replaced", T0 + 36_000),
      start(a, "refresh", kind, T0 + 40_000),
      ok(a, "same", T0 + 40_250),
    ];
    expect(byKind(foldStepMarks(marks))).toEqual({
      [`${kind}|create-replacement`]: [30],
      [`${kind}|delete-replaced`]: [5],
      [`${kind}|refresh`]: [0.25],
    });
  });

  it("pools the same kind from several cells", () => {
    const merged = mergeDurations([
      [{ kind, op: "create", failed: false, seconds: [1, 2] }],
      undefined,
      [
        { kind, op: "create", failed: false, seconds: [3] },
        { kind, op: "create", failed: true, seconds: [9] },
      ],
    ]);
    expect(byKind(merged)).toEqual({ [`${kind}|create`]: [1, 2, 3], [`${kind}|create|failed`]: [9] });
  });
});

describe("the kind of a step", () => {
  it("is the type and the role, without the site's, host's or hypervisor's name", () => {
    expect(stepKind(TYPES.remote, "04190001-install", "04190001")).toBe("command:remote:Command install");
    expect(stepKind(TYPES.remote, "hv01-vm01-bootstrap", "hv01-vm01")).toBe("command:remote:Command bootstrap");
    expect(stepKind(TYPES.domain, "hv01-vm01", "hv01-vm01")).toBe("libvirt:index:Domain");
    // Hyphens in the owner's name stay out of the role.
    expect(stepKind(TYPES.pool, "east-2-pool", "east-2")).toBe("libvirt:index:Pool pool");
    expect(stepKind(TYPES.volume, "east-2-vm01-data", "east-2-vm01")).toBe("libvirt:index:Volume data");
    // A default provider is named after its version.
    expect(stepKind("pulumi:providers:command", "default_1_2_1", undefined)).toBe("pulumi:providers:command");
    expect(stepKind("pulumi:providers:libvirt", "hv01", "hv01")).toBe("pulumi:providers:libvirt");
  });

  it("shortens a type token only where its module repeats the type's name", () => {
    expect(shortType("random:index/randomPassword:RandomPassword")).toBe("random:index:RandomPassword");
    expect(shortType("command:remote:Command")).toBe("command:remote:Command");
    expect(shortType("aws:ec2/instance:Instance")).toBe("aws:ec2:Instance");
    expect(shortType("aws:s3/bucketPolicy:Bucket")).toBe("aws:s3/bucketPolicy:Bucket");
    expect(nameOf(install("04190001"))).toBe("04190001-install");
  });

  describe("of every resource the fleet program declares", () => {
    // The mocks' monitor sees each registration's parent; Pulumi's mock API does not pass it on.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as {
      MockMonitor: { prototype: { registerResource(req: RegisterRequest, cb: unknown): Promise<void> } };
    };
    type RegisterRequest = { getType(): string; getName(): string; getParent(): string; getCustom(): boolean };
    const original = MockMonitor.prototype.registerResource;
    const registered: { type: string; name: string; parent: string; custom: boolean }[] = [];
    const config = { ...stackConfigValues(path.join(repoRoot, "Pulumi.prod.yaml")), "moodle-fleet:allowPlainHttp": "true", "moodle-fleet:singleStack": "true" };

    beforeAll(async () => {
      MockMonitor.prototype.registerResource = function (req, cb) {
        registered.push({ type: req.getType(), name: req.getName(), parent: req.getParent(), custom: req.getCustom() });
        return original.call(this, req, cb);
      };
      await runUnderMocks(fleetProgram(DEFAULT_INPUTS), { ...config, ...testSecrets() }, ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"]);
    });
    afterAll(() => {
      MockMonitor.prototype.registerResource = original;
    });

    it("falls into one of the fleet's kinds, whatever the site, host or hypervisor", () => {
      const custom = registered.filter((r) => r.custom);
      const names = new Set(registered.map((r) => r.name));
      expect(custom.length).toBeGreaterThan(60);
      const kinds = new Map<string, number>();
      for (const r of custom) {
        const kind = stepKind(r.type, r.name, r.parent ? nameOf(r.parent) : undefined);
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        // No name of a site, host or hypervisor leaks into a kind.
        for (const word of kind.split(/[ :-]/)) expect(names.has(word) && /\d/.test(word), `${kind} (${r.name})`).toBe(false);
      }
      // A resource renamed without its owner's prefix shows up here as a kind of its own.
      expect([...kinds.keys()].sort()).toEqual(
        [
          "command:local:Command dns",
          "command:local:Command grow-data-disk",
          "command:local:Command pool-permissions",
          "command:local:Command private-volumes",
          "command:local:Command shutdown-for-resize",
          "command:local:Command shutdown-on-delete",
          "command:remote:Command bootstrap",
          "command:remote:Command grow-file-system",
          "command:remote:Command install",
          "command:remote:CopyToRemote site-tool",
          "libvirt:index:CloudInitDisk seed",
          "libvirt:index:Domain",
          "libvirt:index:Pool pool",
          "libvirt:index:Volume base-image",
          "libvirt:index:Volume data",
          "libvirt:index:Volume root",
          "pulumi:providers:libvirt",
          "random:index:RandomBytes host-key",
        ].sort(),
      );
      // One install per site, one bootstrap per host: the kinds gather them all.
      expect(kinds.get("command:remote:Command install")).toBe(ledgerSchools());
      expect(kinds.get("command:remote:Command bootstrap")).toBe(registered.filter((r) => r.type === HOST).length);
      expect(kinds.get("libvirt:index:Domain")).toBe(registered.filter((r) => r.type === VM).length);
    });
  });
});

describe("the step durations block", () => {
  const install = "command:remote:Command install";
  const bootstrap = "command:remote:Command bootstrap";

  it("gives median, p90 (the max for fewer than ten steps), max and total, the most time first", () => {
    const figures = kindFigures([
      { kind: bootstrap, op: "create", failed: false, seconds: [100, 140] },
      { kind: install, op: "create", failed: false, seconds: [10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12] },
      { kind: "libvirt:index:Domain", op: "create", failed: false, seconds: [2, 1, 3] },
    ]);
    expect(figures.map((f) => f.kind)).toEqual([bootstrap, install, "libvirt:index:Domain"]);
    expect(figures[0]).toMatchObject({ count: 2, median: 120, p90: 140, max: 140, total: 240 });
    // Twelve steps: the 90th percentile by nearest rank is the 11th.
    expect(figures[1]).toMatchObject({ count: 12, median: 6.5, p90: 11, max: 12, total: 78 });
    expect(figures[2]).toMatchObject({ count: 3, median: 2, p90: 3, max: 3, total: 6 });
  });

  it("prints one line per kind and op, failures on lines of their own", () => {
    const text = formatStepDurations([
      { kind: install, op: "create", failed: false, seconds: [40, 50, 60] },
      { kind: install, op: "create", failed: true, seconds: [600] },
      { kind: "libvirt:index:Domain", op: "create", failed: false, seconds: [2.25] },
    ]);
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^step durations\s+op\s+count\s+median\s+p90\s+max\s+total$/);
    expect(lines[1]).toMatch(/^command:remote:Command install\s+create FAILED\s+1\s+600\.0\s+600\.0\s+600\.0\s+600\.0$/);
    expect(lines[2]).toMatch(/^command:remote:Command install\s+create\s+3\s+50\.0\s+60\.0\s+60\.0\s+150\.0$/);
    expect(lines[3]).toMatch(/^libvirt:index:Domain\s+create\s+1\s+2\.3\s+2\.3\s+2\.3\s+2\.3$/);
    expect(lines[4]).toBe("(seconds; p90 is the max below 10 steps)");
    expect(lines).toHaveLength(5);
    expect(formatStepDurations([])).toBe("step durations: none (no resource changed)");
  });

  it("follows the cells' summary after a run, merged across cells, and not after a preview", () => {
    const cell = (name: string, stepDurations?: KindDurations[]) => ({ cell: name, stack: `prod-${name}`, ok: true, changes: { create: 1 }, seconds: 1, stepDurations });
    const run = formatSummary([
      cell("hv01", [{ kind: install, op: "create", failed: false, seconds: [30] }]),
      cell("hv02", [{ kind: install, op: "create", failed: false, seconds: [10, 20] }]),
    ]);
    const block = run.split("\n\n");
    expect(block).toHaveLength(2);
    expect(block[0].split("\n").at(-1)).toMatch(/^total\s+2\s/);
    expect(block[1].split("\n")[1]).toMatch(/^command:remote:Command install\s+create\s+3\s+20\.0\s+30\.0\s+30\.0\s+60\.0$/);
    expect(formatSummary([cell("hv01"), cell("hv02")])).not.toContain("step durations");
    expect(formatSummary([cell("hv01", []), cell("hv02")])).toContain("step durations: none");
  });
});
