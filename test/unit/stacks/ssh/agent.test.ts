import { describe, it, expect } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { keyForSshAdd, startSshAgent, SshAgentError } from "../../../../stacks/ssh/agent";
import { sshPublicKeyFromPrivateKey } from "../../../../infra/config/ssh-key";
import { repoRoot } from "../../../../stacks/toolchain";

const listed = (socket: string) =>
  execFileSync("ssh-add", ["-L"], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: "utf8" })
    .trim()
    .split("\n")
    .map((l) => l.split(" ").slice(0, 2).join(" "));

async function gone(file: string, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (fs.existsSync(file) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  return !fs.existsSync(file);
}

describe("the run's ssh-agent", () => {
  it("holds exactly the fleet's key (PKCS#8 ed25519, re-encoded for ssh-add), behind a 0700 directory, and is gone after stop", async () => {
    const pem = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    expect(keyForSshAdd(pem)).toContain("BEGIN OPENSSH PRIVATE KEY");
    const agent = await startSshAgent(pem);
    try {
      expect(listed(agent.socket)).toEqual([sshPublicKeyFromPrivateKey(pem)]);
      expect(fs.statSync(path.dirname(agent.socket)).mode & 0o777).toBe(0o700);
    } finally {
      await agent.stop();
    }
    expect(await gone(path.dirname(agent.socket))).toBe(true);
  });

  it("takes an RSA key as written", async () => {
    const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs1" }).toString();
    expect(keyForSshAdd(pem)).toBe(pem);
    const agent = await startSshAgent(pem);
    try {
      expect(listed(agent.socket)).toEqual([sshPublicKeyFromPrivateKey(pem)]);
    } finally {
      await agent.stop();
    }
  });

  it("refuses a key ssh-add cannot read, naming the secret, and leaves no agent behind", async () => {
    const before = fs.readdirSync("/tmp").filter((f) => f.startsWith("fleet-ssh-agent-")).length;
    await expect(startSshAgent("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n")).rejects.toThrow(SshAgentError);
    await expect(startSshAgent("garbage")).rejects.toThrow(/sshPrivateKey/);
    await new Promise((r) => setTimeout(r, 500));
    expect(fs.readdirSync("/tmp").filter((f) => f.startsWith("fleet-ssh-agent-")).length).toBe(before);
  });

  it("lets the process that stops it go on afterwards (stop keeps it alive until the agent has ended)", async () => {
    const pem = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const script = `const { startSshAgent } = require(${JSON.stringify(path.join(repoRoot, "stacks/ssh/agent.ts"))});
startSshAgent(process.env.KEY).then((agent) => agent.stop()).then(() => { process.stdout.write("after stop\\n"); process.exitCode = 7; });`;
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { cwd: repoRoot, env: { ...process.env, KEY: pem }, stdio: ["ignore", "pipe", "inherit"] });
      let stdout = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.on("close", (code) => resolve({ code, stdout }));
    });
    // Without it the process ended inside stop(), silently and with status 0.
    expect(out).toEqual({ code: 7, stdout: "after stop\n" });
  });

  it("ends with the process that started it, even when that one is killed", async () => {
    const pem = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const script = `const { startSshAgent } = require(${JSON.stringify(path.join(repoRoot, "stacks/ssh/agent.ts"))});
startSshAgent(process.env.KEY).then((agent) => process.stdout.write(agent.socket + "\\n"));
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "-e", script], {
      cwd: repoRoot,
      env: { ...process.env, KEY: pem },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const socket = await new Promise<string>((resolve, reject) => {
      child.stdout.once("data", (d) => resolve(String(d).trim()));
      child.once("exit", (code) => reject(new Error(`the process ended first (exit ${code})`)));
    });
    expect(listed(socket)).toHaveLength(1);
    child.kill("SIGKILL");
    expect(await gone(path.dirname(socket))).toBe(true);
  });
});
