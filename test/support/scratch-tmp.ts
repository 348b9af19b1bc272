import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * Vitest's global setup: one private temporary directory for the whole run,
 * made TMPDIR for every test worker and every process they start, and
 * removed when the run ends. Tests make their scratch folders with
 * `mkdtemp(os.tmpdir())`, and the fleet's own commands make theirs (the
 * run's ssh-agent socket, locks, outputs) the same way; a test that fails
 * before its cleanup, or a run killed on purpose, would otherwise leave them
 * in /tmp, test keys among them.
 *
 * Each project of the run calls this; the first one makes the directory and
 * its teardown removes it, after every project's tests have ended.
 */
export default function setup(): (() => void) | undefined {
  if (process.env.MOODLE_FLEET_TEST_TMP) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moodle-fleet-tests-"));
  // Others may pass through but not list it: some tests run a step as
  // another user inside a folder of their own (each made 0700 by mkdtemp
  // and opened by the test that needs it). /tmp itself is listable by all.
  fs.chmodSync(dir, 0o711);
  process.env.MOODLE_FLEET_TEST_TMP = dir;
  process.env.TMPDIR = dir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
