import { defineConfig } from "vitest/config";

// Every project shares the run's private TMPDIR (test/support/scratch-tmp.ts).
const globalSetup = ["test/support/scratch-tmp.ts"];

// Three projects: `unit` is the fast inner loop (pure code and Pulumi mocks);
// `shell` runs the host bootstrap and the site tool in sandboxes of stub
// commands (minutes: a bootstrap run starts a few hundred processes);
// `system` drives the real CLI, plugins, libvirtd and services and is slow.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          globalSetup,
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "shell",
          globalSetup,
          include: ["test/shell/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "system",
          globalSetup,
          include: ["test/system/**/*.test.ts"],
          testTimeout: 30 * 60_000,
          hookTimeout: 30 * 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
