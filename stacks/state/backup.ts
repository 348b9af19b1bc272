import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { projectCli, repoRoot, toolchainEnv } from "../toolchain";
import { ensureDir, syncDir } from "../../tools/common/files";
import { PROJECT } from "./backend";

/** What a backup directory holds besides the exports: enough to check a restore against. */
export interface BackupManifest {
  env: string;
  project: string;
  created: string;
  stacks: { stack: string; file: string; sha256: string; resources: number }[];
}

export class StateError extends Error {}

/** Runs the project's CLI; stdout goes to `stdoutFd` when given (large exports never sit in memory). */
export async function runPulumi(
  args: readonly string[],
  envVars: Record<string, string>,
  opts: { stdoutFd?: number; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = await projectCli();
  return new Promise((resolve, reject) => {
    const child = spawn(cli.command, [...args, "--non-interactive", "--color", "never"], {
      cwd: repoRoot,
      env: { ...process.env, ...toolchainEnv(), ...envVars },
      stdio: [opts.stdin === undefined ? "ignore" : "pipe", opts.stdoutFd ?? "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    // A child that fails before reading its input closes the pipe; its exit status reports that.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(opts.stdin);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function cliError(what: string, r: { stderr: string }): StateError {
  const line = r.stderr.split("\n").find((l) => /error:/.test(l)) ?? r.stderr.trim().split("\n").pop() ?? "";
  return new StateError(`${what}: ${line.trim()}`);
}

/** `20261127T141502Z`: sorts by time, safe in a file name. */
export function backupStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

function sha256File(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/**
 * `pulumi stack export` of each stack into `<outRoot>/<env>-<stamp>/`: the
 * directory 0700, every file 0600, written under a temporary name and
 * renamed when complete. Secrets stay encrypted as the backend holds them
 * (no --show-secrets): the backup is as safe as the state, and restoring it
 * needs the same passphrase.
 */
export async function backupStacks(opts: {
  env: string;
  stacks: readonly string[];
  outRoot: string;
  envVars: Record<string, string>;
  now?: Date;
}): Promise<{ dir: string; manifest: BackupManifest }> {
  ensureDir(opts.outRoot, fs.existsSync(opts.outRoot) ? fs.statSync(opts.outRoot).mode & 0o777 : 0o700);
  const created = opts.now ?? new Date();
  const dir = path.join(opts.outRoot, `${opts.env}-${backupStamp(created)}`);
  const partial = `${dir}.partial`;
  if (fs.existsSync(dir)) throw new StateError(`${dir} exists already`);
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { mode: 0o700 });
  fs.chmodSync(partial, 0o700);
  const manifest: BackupManifest = { env: opts.env, project: PROJECT, created: created.toISOString(), stacks: [] };
  for (const stack of opts.stacks) {
    const file = `${stack}.json`;
    const full = path.join(partial, file);
    const fd = fs.openSync(full, "wx", 0o600);
    let r;
    try {
      fs.fchmodSync(fd, 0o600);
      r = await runPulumi(["stack", "export", "--stack", stack], opts.envVars, { stdoutFd: fd });
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (r.code !== 0) {
      fs.rmSync(partial, { recursive: true, force: true });
      throw cliError(`exporting ${stack}`, r);
    }
    const parsed = parseExport(fs.readFileSync(full, "utf8"), file);
    manifest.stacks.push({ stack, file, sha256: sha256File(full), resources: parsed.resources.length });
  }
  fs.writeFileSync(path.join(partial, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  fs.renameSync(partial, dir);
  syncDir(opts.outRoot);
  return { dir, manifest };
}

/** The parts of an export (`apitype.UntypedDeployment`) a restore checks. */
export interface ParsedExport {
  version: number;
  resources: { urn: string; type: string }[];
  pendingOperations: { type?: string; resource?: { urn?: string } }[];
  /** Stack and project named by the resources' URNs; undefined when there are no resources. */
  stack?: string;
  project?: string;
}

export function parseExport(text: string, shownAs: string): ParsedExport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new StateError(`${shownAs} is not JSON: ${(error as Error).message}`);
  }
  const d = doc as { version?: unknown; deployment?: { resources?: unknown; pending_operations?: unknown } };
  if (typeof d?.version !== "number" || typeof d.deployment !== "object" || d.deployment === null) {
    throw new StateError(`${shownAs} is not a \`pulumi stack export\` (no version and deployment)`);
  }
  const resources = (d.deployment.resources ?? []) as ParsedExport["resources"];
  const pending = (d.deployment.pending_operations ?? []) as ParsedExport["pendingOperations"];
  if (!Array.isArray(resources) || !Array.isArray(pending)) throw new StateError(`${shownAs}: resources and pending_operations must be lists`);
  const names = new Set<string>();
  for (const r of resources) {
    const m = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(typeof r?.urn === "string" ? r.urn : "");
    if (!m) throw new StateError(`${shownAs}: a resource without a valid URN (${JSON.stringify(r?.urn)})`);
    names.add(`${m[1]}\u0000${m[2]}`);
  }
  if (names.size > 1) throw new StateError(`${shownAs} mixes resources of several stacks or projects`);
  const [only] = [...names];
  const [stack, project] = only ? only.split("\u0000") : [undefined, undefined];
  return { version: d.version, resources, pendingOperations: pending, stack, project };
}

/** Reads a backup's manifest beside an export, if there is one, and checks the export's digest against it. */
export function checkAgainstManifest(file: string): BackupManifest | undefined {
  const manifestFile = path.join(path.dirname(file), "manifest.json");
  if (!fs.existsSync(manifestFile)) return undefined;
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as BackupManifest;
  const entry = manifest.stacks.find((s) => s.file === path.basename(file));
  if (!entry) throw new StateError(`${file} is not listed in ${manifestFile}`);
  if (entry.sha256 !== sha256File(file)) throw new StateError(`${file} differs from the backup it came from (sha256 mismatch with ${manifestFile})`);
  return manifest;
}

/** Whether a stack exists on the backend. */
export async function stackExists(stack: string, envVars: Record<string, string>): Promise<boolean> {
  const r = await runPulumi(["stack", "ls", "--json"], envVars);
  if (r.code !== 0) throw cliError("listing stacks", r);
  return (JSON.parse(r.stdout) as { name: string }[]).some((s) => s.name.split("/").pop() === stack);
}

/**
 * Puts an export back as `stack`'s state, after checks: the file parses as
 * an export; its resources name this stack and the fleet's project; it
 * matches its backup's manifest if one is beside it; neither it nor the
 * stack's current state holds pending operations (an update was cut off:
 * its resources must be looked at with `pulumi refresh` first, not
 * overwritten blind). A stack that no longer exists is created.
 */
export async function restoreStack(opts: {
  stack: string;
  file: string;
  envVars: Record<string, string>;
}): Promise<{ resources: number; created: boolean }> {
  const text = fs.readFileSync(opts.file, "utf8");
  const parsed = parseExport(text, opts.file);
  if (parsed.project !== undefined && parsed.project !== PROJECT) {
    throw new StateError(`${opts.file} belongs to project ${parsed.project}, not ${PROJECT}`);
  }
  if (parsed.stack !== undefined && parsed.stack !== opts.stack) {
    throw new StateError(`${opts.file} is the state of stack ${parsed.stack}, not ${opts.stack}`);
  }
  if (parsed.pendingOperations.length > 0) {
    throw new StateError(`${opts.file} holds ${parsed.pendingOperations.length} pending operation(s): it was taken during an update`);
  }
  checkAgainstManifest(opts.file);

  const exists = await stackExists(opts.stack, opts.envVars);
  if (exists) {
    const current = await runPulumi(["stack", "export", "--stack", opts.stack], opts.envVars);
    if (current.code !== 0) throw cliError(`reading the current state of ${opts.stack}`, current);
    const now = parseExport(current.stdout, `the current state of ${opts.stack}`);
    if (now.pendingOperations.length > 0) {
      const urns = now.pendingOperations.map((p) => `${p.type ?? "?"} ${p.resource?.urn ?? "?"}`).join(", ");
      throw new StateError(
        `stack ${opts.stack} has pending operations (${urns}): an update was interrupted. ` +
          `Check those resources (\`pulumi refresh -s ${opts.stack}\`) before replacing the state.`,
      );
    }
  } else {
    const init = await runPulumi(["stack", "init", opts.stack], opts.envVars);
    if (init.code !== 0) throw cliError(`creating ${opts.stack}`, init);
  }
  const r = await runPulumi(["stack", "import", "--stack", opts.stack, "--file", path.resolve(opts.file)], opts.envVars);
  if (r.code !== 0) throw cliError(`importing into ${opts.stack}`, r);
  return { resources: parsed.resources.length, created: !exists };
}
