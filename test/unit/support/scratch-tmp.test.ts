import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import setup from "../../support/scratch-tmp";

describe("the test run's private TMPDIR", () => {
  it("is where this worker and the processes it starts make temporary files", () => {
    const dir = process.env.MOODLE_FLEET_TEST_TMP;
    expect(dir, "test/support/scratch-tmp.ts is not the project's globalSetup").toBeTruthy();
    expect(os.tmpdir()).toBe(dir);
    expect(fs.statSync(dir!).mode & 0o777).toBe(0o711);
    const child = spawnSync("mktemp", ["-d"], { encoding: "utf8" });
    expect(path.dirname(child.stdout.trim())).toBe(dir);
  });

  it("is made once per run and removed by the teardown of the project that made it", () => {
    const saved = { run: process.env.MOODLE_FLEET_TEST_TMP, tmp: process.env.TMPDIR };
    try {
      const again = setup();
      again?.();
      expect(again, "a second project must reuse the run's directory").toBeUndefined();
      delete process.env.MOODLE_FLEET_TEST_TMP;
      const teardown = setup();
      const made = process.env.MOODLE_FLEET_TEST_TMP!;
      expect(made).not.toBe(saved.run);
      fs.mkdirSync(path.join(made, "left-behind"));
      teardown!();
      expect(fs.existsSync(made)).toBe(false);
    } finally {
      process.env.MOODLE_FLEET_TEST_TMP = saved.run;
      process.env.TMPDIR = saved.tmp;
    }
  });
});
