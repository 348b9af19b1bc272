import { describe, it, expect } from "vitest";
import { boundedAll, cellStackName, selectCells } from "../../../stacks/driver/cells";
import { mergeOutputs } from "../../../stacks/driver/merge-outputs";
import { applyEvent, cellError, formatProgress, progressEvent, type CellProgress } from "../../../stacks/driver/progress";
import { formatSummary } from "../../../stacks/driver/run-cells";
import { cellOutputs } from "../support/builders";

describe("cells", () => {
  it("names cell stacks <env>-<hypervisor>", () => {
    expect(cellStackName("prod", "hv01")).toBe("prod-hv01");
  });

  it("selects all cells or the requested known ones", () => {
    expect(selectCells(["hv01", "hv02"], undefined)).toEqual(["hv01", "hv02"]);
    expect(selectCells(["hv01", "hv02"], ["hv02", "hv02"])).toEqual(["hv02"]);
    expect(() => selectCells(["hv01"], ["hv09"])).toThrow(/unknown cell\(s\) hv09/);
  });

  it("runs at most N at once and every item even when some fail", async () => {
    let running = 0;
    let peak = 0;
    const results = await boundedAll([1, 2, 3, 4, 5, 6], 2, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5 * (7 - n)));
      running -= 1;
      return n % 3 === 0 ? `fail ${n}` : `ok ${n}`;
    });
    expect(peak).toBe(2);
    expect(results).toEqual(["ok 1", "ok 2", "fail 3", "ok 4", "ok 5", "fail 6"]);
  });
});

describe("merged outputs", () => {
  it("have the shape of one stack's outputs", () => {
    const merged = mergeOutputs([
      { cell: "hv01", outputs: cellOutputs("hv01", ["04100001", "04100002"]) },
      { cell: "hv02", outputs: {} },
      { cell: "hv03", outputs: cellOutputs("hv03", ["04100003"]) },
    ]);
    expect(Object.keys(merged.sites)).toEqual(["04100001", "04100002", "04100003"]);
    expect(Object.keys(merged.hosts)).toEqual(["hv01-vm01", "hv03-vm01"]);
    expect(merged.adminPasswords["04100003"]).toBe("pw-04100003");
  });

  it("refuse a school that two cells claim, or bad outputs", () => {
    expect(() =>
      mergeOutputs([
        { cell: "hv01", outputs: cellOutputs("hv01", ["04100001"]) },
        { cell: "hv02", outputs: cellOutputs("hv02", ["04100001"]) },
      ]),
    ).toThrow(/sites entry 04100001 appears in more than one cell/);
    expect(() => mergeOutputs([{ cell: "hv01", outputs: { domain: 3 } }])).toThrow(/outputs of cell hv01/);
  });
});

describe("progress and summary", () => {
  it("counts finished resources and failures from engine events", () => {
    const p: CellProgress = { cell: "hv01", state: "running", done: 0, total: 10, failures: 0 };
    const outputs = (type: string) => ({ sequence: 1, timestamp: 0, resOutputsEvent: { metadata: { type } } }) as any;
    const feed = (e: any) => {
      const summary = progressEvent(e);
      if (summary) applyEvent(p, summary);
    };
    expect(progressEvent(outputs("pulumi:pulumi:Stack"))).toBeUndefined();
    feed(outputs("random:index/randomPassword:RandomPassword"));
    feed({ sequence: 2, timestamp: 0, resOpFailedEvent: {} });
    feed({ sequence: 3, timestamp: 0, diagnosticEvent: { severity: "error", message: "ssh: handshake failed\nmore" } });
    feed({ sequence: 4, timestamp: 0, diagnosticEvent: { severity: "error", message: "One or more errors occurred" } });
    expect(p).toMatchObject({ done: 1, failures: 1, lastError: "more" });
    expect(formatProgress([p])).toContain("1/10");
  });

  it("reports a failed cell by its first failing resource and the script's own last words", () => {
    const p: CellProgress = { cell: "lab01", state: "running", done: 0, total: 10, failures: 0 };
    const urn = (type: string, name: string) => `urn:pulumi:lab-lab01::moodle-fleet::${type}::${name}`;
    const diag = (message: string, u: string) => ({ sequence: 1, timestamp: 0, diagnosticEvent: { severity: "error", message, urn: u } }) as any;
    for (const e of [
      diag(`Process exited with status 1: running "#!/bin/bash\\nset -e\\n...":\nmoodle-fleet[host lab01-vm01]: waiting for cloud-init\nmoodle-fleet[host lab01-vm01]: error: checksum mismatch\n`, urn("command:remote:Command", "lab01-vm01-bootstrap")),
      diag("1 error occurred:\n\t* error defining libvirt domain: domain 'lab01-vm02' already exists\n", urn("libvirt:index/domain:Domain", "lab01-vm02")),
      diag("update failed", urn("pulumi:pulumi:Stack", "moodle-fleet-lab-lab01")),
    ]) {
      const summary = progressEvent(e);
      if (summary) applyEvent(p, summary);
    }
    expect(cellError(p)).toBe("lab01-vm01-bootstrap: moodle-fleet[host lab01-vm01]: error: checksum mismatch");
    expect(p.lastError).toBe("update failed");
  });

  it("totals every cell's changes and names failures", () => {
    const text = formatSummary([
      { cell: "hv01", stack: "prod-hv01", ok: true, changes: { create: 5, same: 2 }, seconds: 3 },
      { cell: "hv02", stack: "prod-hv02", ok: false, changes: {}, seconds: 1, error: "boom" },
    ]);
    const lines = text.split("\n");
    expect(lines[1]).toMatch(/^hv01\s+5\s+0\s+0\s+0\s+2\s+3\.0\s+ok$/);
    expect(lines[2]).toMatch(/FAILED: boom$/);
    expect(lines[3]).toMatch(/^total\s+5\s+0\s+0\s+0\s+2$/);
  });
});
