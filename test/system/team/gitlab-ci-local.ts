import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { repoRoot } from "../../../stacks/toolchain";

export interface PipelineRun {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/**
 * The pipeline of the git repository at `root`, as GitLab would run it for a
 * merge request: gitlab-ci-local 4.75.1 with the shell executor, each job in
 * its own copy of the repository (artifacts isolated per job).
 * CI_PIPELINE_SOURCE and the merge request's labels are set by the test,
 * never taken from the machine's own environment.
 */
export function mergeRequestPipeline(root: string, env: Record<string, string>, extra: readonly string[] = []): Promise<PipelineRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        path.join(__dirname, "set-union-polyfill.mjs"),
        path.join(repoRoot, "node_modules/gitlab-ci-local/dist/index.js"),
        "--shell-isolation",
        "--ignore-predefined-vars",
        "CI_PIPELINE_SOURCE,CI_MERGE_REQUEST_LABELS",
        "--variable",
        "CI_PIPELINE_SOURCE=merge_request_event",
        ...extra,
      ],
      { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
}

/** What a pipeline run left behind: a job's artifact and its log. */
export function pipelineFiles(root: string) {
  return {
    artifact: (job: string, file: string) => path.join(root, ".gitlab-ci-local", "artifacts", job, file),
    jobLog: (job: string) => fs.readFileSync(path.join(root, ".gitlab-ci-local", "output", `${job}.log`), "utf8"),
  };
}

/** The pipeline's own files, copied from the repository into a test's git repository. */
export function copyPipelineFiles(root: string): void {
  for (const f of [".gitlab-ci.yml", "ci"]) fs.cpSync(path.join(repoRoot, f), path.join(root, f), { recursive: true });
}
