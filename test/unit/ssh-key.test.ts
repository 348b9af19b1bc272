import { execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ed25519KeyPairFromSeed, sshPublicKeyFromPrivateKey } from "../../infra/config/ssh-key";

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

describe("ed25519KeyPairFromSeed", () => {
  const seed = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");

  /** What ssh-keygen makes of a private key file: its public key, and the comment it carries. */
  function keygen(privateKey: string): { publicKey: string; comment: string } {
    const dir = mkdtempSync(join(tmpdir(), "hostkey-"));
    try {
      const file = join(dir, "ssh_host_ed25519_key");
      writeFileSync(file, privateKey, { mode: 0o600 });
      const line = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim();
      const fingerprint = execFileSync("ssh-keygen", ["-l", "-f", file], { encoding: "utf8" }).trim();
      return { publicKey: keyPart(line), comment: fingerprint.split(" ").slice(2, -1).join(" ") };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it.runIf(hasSshKeygen).each([0, 1, 2, 3, 7, 8, 13])("writes a key file ssh-keygen reads back to the same public key (comment of %i characters)", (n) => {
    const comment = "h".repeat(n);
    const pair = ed25519KeyPairFromSeed(randomBytes(32), comment);
    const read = keygen(pair.privateKey);
    expect(read.publicKey).toBe(pair.publicKey);
    if (n > 0) expect(read.comment).toBe(comment);
  });

  it("matches RFC 8032's first test vector", () => {
    // RFC 8032, 7.1, TEST 1: secret key 9d61b19d..., public key d75a9801...
    const pair = ed25519KeyPairFromSeed(Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex"));
    const blob = Buffer.from(pair.publicKey.split(" ")[1], "base64");
    expect(blob.subarray(-32).toString("hex")).toBe("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  });

  it("gives the same bytes for the same seed and other keys for other seeds", () => {
    expect(ed25519KeyPairFromSeed(seed, "a")).toEqual(ed25519KeyPairFromSeed(Buffer.from(seed), "a"));
    expect(ed25519KeyPairFromSeed(randomBytes(32)).publicKey).not.toBe(ed25519KeyPairFromSeed(seed).publicKey);
  });

  it("pairs the seed's signing key with the public key it publishes", () => {
    const pair = ed25519KeyPairFromSeed(seed);
    expect(sshPublicKeyFromPrivateKey(pair.privateKey)).toBe(pair.publicKey);
    const raw = Buffer.from(pair.publicKey.split(" ")[1], "base64").subarray(-32);
    const publicKey = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]), format: "der", type: "spki" });
    const signer = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
    const message = Buffer.from("host key");
    expect(verify(null, message, publicKey, sign(null, message, signer))).toBe(true);
    expect(verify(null, message, publicKey, sign(null, message, generateKeyPairSync("ed25519").privateKey))).toBe(false);
  });

  it("refuses a seed that is not 32 bytes", () => {
    expect(() => ed25519KeyPairFromSeed(Buffer.alloc(31))).toThrow(/32 bytes/);
  });
});
