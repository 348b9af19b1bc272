import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sshPublicKeyFromPrivateKey } from "../../infra/config/ssh-key";

const hasSshKeygen = spawnSync("ssh-keygen", ["-?"]).error === undefined;
const keyPart = (line: string) => line.trim().split(" ").slice(0, 2).join(" ");

describe("sshPublicKeyFromPrivateKey", () => {
  it.runIf(hasSshKeygen).each(["ed25519", "rsa", "ecdsa"])("matches ssh-keygen for an OpenSSH %s key", (type) => {
    const dir = mkdtempSync(join(tmpdir(), "sshkey-"));
    const file = join(dir, "id");
    execFileSync("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", "", "-f", file]);
    expect(sshPublicKeyFromPrivateKey(readFileSync(file, "utf8"))).toBe(keyPart(readFileSync(`${file}.pub`, "utf8")));
  });

  it("encodes a PKCS#8 ed25519 key as ssh-ed25519 with the raw public key", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const raw = publicKey.export({ type: "spki", format: "der" }).subarray(-32);
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), raw]);
    const pem = String(privateKey.export({ type: "pkcs8", format: "pem" }));
    expect(sshPublicKeyFromPrivateKey(pem)).toBe(`ssh-ed25519 ${blob.toString("base64")}`);
  });

  // ssh-keygen reads PEM RSA and ECDSA keys (not PEM ed25519), so it can judge those.
  it.runIf(hasSshKeygen).each([
    ["rsa", () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" })],
    ["ec", () => generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ type: "pkcs8", format: "pem" })],
  ] as const)("matches ssh-keygen for a PEM %s key", (_type, make) => {
    const pem = String(make());
    const dir = mkdtempSync(join(tmpdir(), "sshkey-"));
    const file = join(dir, "id");
    writeFileSync(file, pem, { mode: 0o600 });
    const expected = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" });
    expect(sshPublicKeyFromPrivateKey(pem)).toBe(keyPart(expected));
  });

  it("rejects garbage", () => {
    expect(() => sshPublicKeyFromPrivateKey("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----")).toThrow();
  });
});
