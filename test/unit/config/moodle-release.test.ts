import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../../infra/config/stack-file";
import { validateFleetConfig } from "../../../infra/config/validate";
import { formatIssue } from "../../../infra/inputs/issues";
import { configInput } from "../support/builders";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const errors = (release: unknown) => validateFleetConfig(configInput({ moodle: { release } as never })).issues.map((i) => [i.field, i.rule]);

describe("moodle.release: pinned", () => {
  it("takes a git commit, with or without the tag it must resolve to, over https or ssh", () => {
    expect(errors({ git: { url: "https://git.example/moodle.git", commit: COMMIT } })).toEqual([]);
    expect(errors({ git: { url: "ssh://git@git.example/moodle.git", commit: COMMIT.toUpperCase(), tag: "v4.5.7" } })).toEqual([]);
    expect(errors({ git: { url: "git@git.example:moodle/moodle.git", commit: COMMIT, tag: "v5.1.0" } })).toEqual([]);
    const parsed = validateFleetConfig(configInput({ moodle: { release: { git: { url: "https://g.example/m.git", commit: COMMIT.toUpperCase() } } } as never }));
    expect(parsed.config?.moodle.release.git).toEqual({ url: "https://g.example/m.git", commit: COMMIT });
  });

  it("refuses a branch, naming the key and saying why", () => {
    expect(errors({ git: { url: "https://git.example/moodle.git", branch: "MOODLE_405_STABLE" } })).toEqual([
      ["moodle.release.git.commit", "invalid_type"],
      ["moodle.release.git.branch", "branch"],
    ]);
    const missing = validateFleetConfig(configInput({ moodle: { release: { git: { url: "https://g.example/m.git" } } } as never })).issues[0];
    expect(missing.message).toMatch(/^required: the full commit id/);
    expect(errors({ git: { url: "https://git.example/moodle.git", commit: COMMIT, branch: "main" } })).toEqual([["moodle.release.git.branch", "branch"]]);
    const issue = validateFleetConfig(configInput({ moodle: { release: { git: { url: "https://g.example/m.git", commit: COMMIT, branch: "main" } } } as never })).issues[0];
    expect(issue.message).toMatch(/a branch moves .*pin the release with `commit`/);
  });

  it("refuses a commit that is not a full id: a branch or tag name, a short id", () => {
    for (const commit of ["MOODLE_405_STABLE", "v4.5.7", "0123456", `${COMMIT}0`, "g".repeat(40)]) {
      expect(errors({ git: { url: "https://git.example/moodle.git", commit } }), commit).toEqual([["moodle.release.git.commit", "commit"]]);
    }
  });

  it("refuses plain http:, git: and file: git URLs", () => {
    for (const url of ["http://git.example/moodle.git", "git://git.example/moodle.git", "file:///srv/moodle.git", "ext::sh -c x"]) {
      expect(errors({ git: { url, commit: COMMIT } }), url).toEqual([["moodle.release.git.url", "git-url"]]);
    }
  });

  it("refuses tag names git would take for options or ranges", () => {
    for (const tag of ["--upload-pack=x", "v4..5", "v4.5.lock", "a//b", "-v4"]) {
      expect(errors({ git: { url: "https://git.example/moodle.git", commit: COMMIT, tag } }), tag).toEqual([["moodle.release.git.tag", "git-tag"]]);
    }
  });

  it("takes a tarball over https or from the VM's own files, with its digest; refuses plain http", () => {
    const sha256 = "a".repeat(64);
    expect(errors({ tarball: { url: "https://download.example/moodle-4.5.7.tgz", sha256 } })).toEqual([]);
    expect(errors({ tarball: { url: "file:///opt/moodle-standin/moodle-standin.tgz", sha256 } })).toEqual([]);
    expect(errors({ tarball: { url: "http://download.example/moodle.tgz", sha256 } })).toEqual([["moodle.release.tarball.url", "url"]]);
    expect(errors({ tarball: { url: "https://download.example/moodle.tgz" } })).toEqual([["moodle.release.tarball.sha256", "invalid_type"]]);
  });

  it("names the file, line and key of a branch in a stack file", () => {
    const text = `config:
  moodle-fleet:domain: moodle.schulen.example
  moodle-fleet:moodle:
    release:
      git: {url: "https://git.example/moodle.git", branch: MOODLE_405_STABLE, commit: "${COMMIT}"}
`;
    const result = parseStackConfig(text, "Pulumi.prod.yaml");
    const branch = result.issues.find((i) => i.field === "moodle.release.git.branch");
    expect(branch).toBeDefined();
    expect(formatIssue(branch!)).toMatch(/^Pulumi\.prod\.yaml:5: .*moodle\.release\.git\.branch/);
  });
});
