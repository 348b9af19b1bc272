import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createPrivateKey } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { ed25519KeyPairFromSeed } from "../../infra/config/ssh-key";

const WATCHDOG = path.join(__dirname, "agent-watchdog.sh");

export class SshAgentError extends Error {}

/**
 * The fleet's key in a form ssh-add reads from stdin. OpenSSH 9.2 (Debian
 * 12) refuses an ed25519 key in PKCS#8 PEM ("invalid format"), the form
 * Node and OpenSSL write, so such a key is re-encoded in OpenSSH's own
 * format; every other key is passed as it is.
 */
export function keyForSshAdd(privateKey: string): string {
  if (!privateKey.includes("BEGIN PRIVATE KEY")) return privateKey;
  const key = createPrivateKey(privateKey);
  if (key.asymmetricKeyType !== "ed25519") return privateKey;
  const jwk = key.export({ format: "jwk" });
  return ed25519KeyPairFromSeed(Buffer.from(jwk.d ?? "", "base64url")).privateKey;
}

/** An ssh-agent holding the fleet's key for one run. */
export interface SshAgent {
  /** For SSH_AUTH_SOCK of the Pulumi engine and its plugins. */
  socket: string;
  stop(): Promise<void>;
}

/**
 * Starts an agent that holds only `privateKey`, reachable by this user only
 * (socket in a fresh 0700 directory). Remote commands authenticate through
 * it, so the key never becomes a resource input and is kept in no state.
 * The agent ends with stop(), or by itself when this process ends.
 */
export async function startSshAgent(privateKey: string, opts: { timeoutMs?: number } = {}): Promise<SshAgent> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-ssh-agent-"));
  fs.chmodSync(dir, 0o700);
  const socket = path.join(dir, "agent.sock");
  const watchdog = spawn("bash", [WATCHDOG], {
    env: { ...process.env, SOCKET: socket, DIR: dir, OWNER_PID: String(process.pid) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  watchdog.stderr!.on("data", (d) => (stderr += d));
  // The run does not wait for its agent to end.
  watchdog.unref();
  (watchdog.stderr as unknown as { unref?: () => void }).unref?.();

  const stop = () => stopWatchdog(watchdog);
  try {
    await waitFor(() => fs.existsSync(socket) || watchdog.exitCode !== null, opts.timeoutMs ?? 10_000);
    if (!fs.existsSync(socket)) throw new SshAgentError(`ssh-agent did not start${stderr ? `: ${stderr.trim()}` : ""}`);
    await sshAdd(socket, keyForSshAdd(privateKey));
  } catch (error) {
    await stop();
    throw error;
  }
  return { socket, stop };
}

function sshAdd(socket: string, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // The key travels on stdin, never in an argument or a file.
    const child = spawn("ssh-add", ["-q", "-"], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdin.on("error", () => undefined);
    child.on("error", (e) => reject(new SshAgentError(`ssh-add: ${e.message}`)));
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new SshAgentError(`ssh-add refused the fleet's SSH key (sshPrivateKey): ${stderr.trim() || `exit ${code}`}`)),
    );
    child.stdin.end(key.endsWith("\n") ? key : `${key}\n`);
  });
}

function stopWatchdog(watchdog: ChildProcess): Promise<void> {
  if (watchdog.exitCode !== null || watchdog.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // Unreferenced, the child would not keep the loop alive until its exit:
    // the process would end here, silently and with status 0.
    watchdog.ref();
    watchdog.once("exit", () => resolve());
    watchdog.kill("SIGTERM");
  });
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
}
