/**
 * The site tool (infra/host-tool/moodle-fleet-site with its lib.sh, PHP
 * wrapper and templates): what the host bootstrap installs, the digest that
 * names its version, and the host configuration it reads.
 *
 * The tool is installed once per host and version, content-addressed
 * (`<siteToolDir>/<digest>/`, linked as `<sbinDir>/moodle-fleet-site`), so
 * the digest is part of the bootstrap's text: a changed tool is one update
 * per host, and the sites' own commands, which carry only their parameters,
 * stay as they are.
 *
 * The files travel to the host as they are in the repository, copied over
 * SFTP into an upload directory named by the digest (MoodleHost's
 * CopyToRemote): the state keeps the archive's hash, not the tool's text.
 * The bootstrap installs them from there after checking the digest.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { SystemPaths } from "./types";

export const SITE_TOOL_NAME = "moodle-fleet-site";
/** The tool's files in the repository: what the host's upload copies. */
export const SITE_TOOL_SOURCE_DIR = join(__dirname, "../host-tool");

export interface SiteToolFile {
  /** Relative to the tool's directory, `/`-separated. */
  path: string;
  content: string;
  /** The tool is root's: only root runs it, and nobody else needs to read it. */
  mode: 0o700 | 0o600;
}

let files: SiteToolFile[] | undefined;

/** Every file of the tool, sorted by path. */
export function siteToolFiles(): readonly SiteToolFile[] {
  if (!files) {
    const found: SiteToolFile[] = [];
    const walk = (rel: string) => {
      for (const e of readdirSync(join(SITE_TOOL_SOURCE_DIR, rel), { withFileTypes: true })) {
        const path = rel === "" ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) {
          walk(path);
          continue;
        }
        const content = readFileSync(join(SITE_TOOL_SOURCE_DIR, path), "utf8");
        // Text, so that the digest taken here of its UTF-8 is sha256sum's of the copied file.
        if (!content.endsWith("\n") || content.includes("\0")) throw new Error(`${path}: must be text ending with a newline`);
        if (!/^[a-z0-9][a-z0-9./-]*$/.test(path)) throw new Error(`${path}: unexpected file name in the site tool`);
        found.push({ path, content, mode: path === SITE_TOOL_NAME ? 0o700 : 0o600 });
      }
    };
    walk("");
    files = found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  return files;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The tool's version: the SHA-256 of `sha256sum`'s listing of its files (in
 * {@link siteToolFiles} order), so the bootstrap can check what it wrote
 * with `sha256sum FILES... | sha256sum`.
 */
export function siteToolDigest(): string {
  return sha256(siteToolFiles().map((f) => `${sha256(f.content)}  ${f.path}\n`).join(""));
}

/**
 * Where the tool's files of this digest arrive on the host (root's, beside
 * the bootstrap's other state); the bootstrap installs from here and
 * removes the uploads of other versions.
 */
export function siteToolUploadDir(paths: Pick<SystemPaths, "stateDir">, digest = siteToolDigest()): string {
  return `${paths.stateDir}/site-tool-upload/${digest}`;
}

/** The stable name every site's command runs. */
export function siteToolPath(paths: Pick<SystemPaths, "sbinDir">): string {
  return `${paths.sbinDir}/${SITE_TOOL_NAME}`;
}

/**
 * Where the tool finds the host's locations. The tool's own default
 * (`/etc/moodle-fleet/host.conf`) is this path under the default system
 * paths; the sandbox of the tests names its own in MOODLE_FLEET_HOST_CONF.
 */
export function siteToolHostConfPath(paths: Pick<SystemPaths, "fleetEtcDir">): string {
  return `${paths.fleetEtcDir}/host.conf`;
}
