import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { startTestPostgres, type TestPostgres } from "../../support/postgres";
import { createTeamEnv, TEST_CLI, TSX_IMPORT, type TeamEnv } from "./team-env";
import { copyPipelineFiles, mergeRequestPipeline, pipelineFiles } from "./gitlab-ci-local";

// The merge-request pipeline of .gitlab-ci.yml, run for real by
// gitlab-ci-local (shell executor, artifacts isolated per job) in a git
// repository holding the pipeline files and a test environment of two cells
// whose program needs no VMs (test/support/team-test-program.ts; the lab
// is not used). State on a PostgreSQL cluster of the test's own.
describe("the merge-request pipeline", () => {
  let pg: TestPostgres;
  let t: TeamEnv;

  const gitlabCiLocal = (extra: string[]) => mergeRequestPipeline(t.root, t.vars, extra);
  const artifact = (job: string, file: string) => pipelineFiles(t.root).artifact(job, file);
  const jobLog = (job: string) => pipelineFiles(t.root).jobLog(job);
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=ci@fleet.test", "-c", "user.name=ci", ...args], { cwd: t.root });

  beforeAll(async () => {
    pg = await startTestPostgres();
    t = createTeamEnv({ env: "teamci", backendUrl: pg.backendUrl, extraVars: { PGPASSFILE: pg.passfile } });
    copyPipelineFiles(t.root);
    // Project-level CI/CD variables, as set in GitLab's settings; secrets stay out of the repository.
    fs.writeFileSync(
      path.join(t.root, ".gitlab-ci-local-variables.yml"),
      [`FLEET: "node --import ${TSX_IMPORT} ${TEST_CLI}"`, "FLEET_ENV: teamci", 'FLEET_SKIP_SETUP: "1"', ""].join("\n"),
    );
    fs.writeFileSync(path.join(t.root, ".gitignore"), "passphrase\nsecrets/\n.gitlab-ci-local*\n");
    git("init", "-q", "-b", "main");
    // Never contacted: gitlab-ci-local reads the remote's name for CI_PROJECT_* variables.
    git("remote", "add", "origin", "https://gitlab.example/schools/moodle-fleet.git");
    git("add", "-A");
    git("commit", "-qm", "fleet as deployed");
    const up = await t.fleet(["up", "--env", t.env]);
    expect(up.code, up.stderr).toBe(0);
    // The merge request: one school leaves (its site's database would go).
    git("checkout", "-q", "-b", "remove-04180001");
    t.removeSchool("04180001");
    git("commit", "-qam", "04180001 leaves");
  });

  afterAll(async () => {
    try {
      if (t) {
        git("checkout", "-q", "main");
        await t.fleet(["destroy", "--env", t.env, "--yes-destroy", t.env]);
      }
    } finally {
      t?.cleanup();
      pg?.stop();
    }
  });

  it("validates, lists the cells, previews each cell in its own job and fails on the data loss", async () => {
    const run = await gitlabCiLocal([]);
    const out = run.stdout + run.stderr;
    expect(out).toMatch(/PASS\s+validate/);
    expect(out).toMatch(/PASS\s+cells/);
    expect(JSON.parse(fs.readFileSync(artifact("cells", "cells.json"), "utf8"))).toEqual([
      { cell: "hva", stack: "teamci-hva" },
      { cell: "hvb", stack: "teamci-hvb" },
    ]);
    // One job per cell from the generated child pipeline.
    expect(out).toMatch(/FAIL\s+(\[preview\] -> )?preview hva/);
    expect(out).toMatch(/PASS\s+(\[preview\] -> )?preview hvb/);
    expect(jobLog("previewIAhva")).toMatch(/cell hva: DATA LOSS \(see summary-hva\.md\)/);
    expect(jobLog("previewIAhvb")).toMatch(/cell hvb: no changes/);

    const hva = fs.readFileSync(artifact("previewIAhva", "summary-hva.md"), "utf8");
    const hvb = fs.readFileSync(artifact("previewIAhvb", "summary-hvb.md"), "utf8");
    expect(hva).toContain("04180001");
    expect(hva).toMatch(/DATA LOSS/);
    expect(hvb).not.toMatch(/DATA LOSS/);
    expect(hvb).not.toContain("04180001");
    // The review ran before anything changed: the school's resources are still in the state.
    const state = await t.pulumi(["stack", "export", "-s", "teamci-hva"]);
    expect(state.stdout).toContain("04180001-database");
  });

  it("passes the same merge request once it carries the approval label", async () => {
    const run = await gitlabCiLocal(["--variable", "CI_MERGE_REQUEST_LABELS=review,fleet-data-loss::teamci"]);
    const out = run.stdout + run.stderr;
    expect(out).toMatch(/PASS\s+(\[preview\] -> )?preview hva/);
    expect(jobLog("previewIAhva")).toMatch(/cell hva: DATA LOSS, approved for teamci by the merge request/);
    expect(fs.readFileSync(artifact("previewIAhva", "summary-hva.md"), "utf8")).toMatch(/DATA LOSS/);
    // An approval for another environment approves nothing here.
    const other = await gitlabCiLocal(["--variable", "CI_MERGE_REQUEST_LABELS=fleet-data-loss::prod"]);
    expect(other.stdout + other.stderr).toMatch(/FAIL\s+(\[preview\] -> )?preview hva/);
  });
});
