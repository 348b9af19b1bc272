/**
 * Where Moodle's code comes from (`moodle.release` in the stack config).
 *
 * A release is pinned: a git commit (optionally with the tag it must
 * resolve to) or a tarball with its digest. A branch name is refused: it
 * moves, so hosts built on different days would run different code and a
 * push would swap code under live sites without Moodle's upgrade. Code is
 * fetched over https or ssh only (or, for a tarball an image already
 * carries, from a file: URL); plain http: and git: would let anything on
 * the path hand the hosts other code.
 */
import { z } from "zod";
import { isUrl, sha256, str } from "./rules";

const custom = (ctx: z.RefinementCtx, path: PropertyKey[], rule: string, message: string) =>
  ctx.addIssue({ code: "custom", path, message, params: { rule } });

/** `user@host:path`, the scp-like form git accepts for SSH remotes. */
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/;

export function isPinnedGitUrl(v: string): boolean {
  return isUrl(v, ["https:", "ssh:"]) || SCP_LIKE.test(v);
}

/** A tag name git accepts (check-ref-format), without the forms that could read as options or ranges. */
export function isGitTag(v: string): boolean {
  return (
    /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(v) &&
    !v.includes("..") &&
    !v.includes("//") &&
    !v.endsWith("/") &&
    !v.endsWith(".") &&
    !v.split("/").some((part) => part.startsWith(".") || part.endsWith(".lock"))
  );
}

const commitId = z
  .string({ error: "required: the full commit id (40 hex digits) the release is pinned to" })
  .trim()
  .toLowerCase()
  .refine((v) => /^[0-9a-f]{40}$/.test(v), {
    params: { rule: "commit" },
    error: (issue) => `not a full commit id (40 hex digits; got ${JSON.stringify(issue.input)}): pin the release by its commit`,
  });

export const gitReleaseSchema = z
  .strictObject({
    url: str("git-url", isPinnedGitUrl, "not an https or ssh git URL (http:, git: and file: fetch code anyone on the path can change)"),
    /** The commit every host checks out. */
    commit: commitId,
    /** Optional: the tag the fetch checks resolves to `commit` (e.g. v4.5.7). */
    tag: str("git-tag", isGitTag, "not a git tag name").optional(),
    // Accepted only to be refused with the reason, instead of as an unknown key.
    branch: z
      .unknown()
      .optional()
      .refine((v) => v === undefined, {
        params: { rule: "branch" },
        error: "a branch moves (hosts built on different days would run different code): pin the release with `commit` (and `tag`)",
      }),
  })
  .transform(({ branch: _branch, ...pinned }) => pinned);

export const tarballReleaseSchema = z.strictObject({
  /** https, or file: for a tarball already on the VM (an image that carries its release). */
  url: str("url", (v) => isUrl(v, ["https:", "file:"]), "not an https or file URL (a plain http: download can be swapped on the way)"),
  sha256,
});

/** Exactly one of `git` or `tarball`. */
export const moodleReleaseSchema = z
  .strictObject({
    git: gitReleaseSchema.optional(),
    tarball: tarballReleaseSchema.optional(),
  })
  .superRefine((r, ctx) => {
    if ((r.git === undefined) === (r.tarball === undefined))
      custom(ctx, [], "one-of", "set exactly one of `git` or `tarball`");
  });

export type MoodleReleaseConfig = z.output<typeof moodleReleaseSchema>;
