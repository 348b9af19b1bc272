import { createHash, createPrivateKey, createPublicKey } from "node:crypto";

/** SSH wire format: a length-prefixed byte string. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** SSH mpint: big-endian, a leading zero byte when the top bit is set. */
function mpint(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start += 1;
  const trimmed = unsigned.subarray(start);
  return sshString(trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

const CURVES: Record<string, string> = { "P-256": "nistp256", "P-384": "nistp384", "P-521": "nistp521" };

/** The public key inside an OpenSSH private key file; stored unencrypted even when the key is. */
function fromOpenSsh(pem: string): string {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const blob = Buffer.from(body, "base64");
  const magic = "openssh-key-v1\0";
  if (blob.subarray(0, magic.length).toString("latin1") !== magic) throw new Error("not an OpenSSH private key");
  let at = magic.length;
  const next = () => {
    const length = blob.readUInt32BE(at);
    const value = blob.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  next(); // cipher
  next(); // kdf
  next(); // kdf options
  at += 4; // number of keys; the first one is used
  const publicBlob = next();
  const type = publicBlob.subarray(4, 4 + publicBlob.readUInt32BE(0)).toString("latin1");
  return `${type} ${publicBlob.toString("base64")}`;
}

/**
 * OpenSSH public key line for a private key (OpenSSH, PKCS#8 or PKCS#1
 * PEM; ed25519, RSA or NIST ECDSA), so the stack needs only the secret
 * `sshPrivateKey` and the two can never disagree.
 */
export function sshPublicKeyFromPrivateKey(privateKey: string): string {
  if (privateKey.includes("BEGIN OPENSSH PRIVATE KEY")) return fromOpenSsh(privateKey);
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  const b64 = (v: string | undefined) => Buffer.from(v ?? "", "base64url");
  let type: string;
  let blob: Buffer;
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") {
    type = "ssh-ed25519";
    blob = Buffer.concat([sshString(type), sshString(b64(jwk.x))]);
  } else if (jwk.kty === "RSA") {
    type = "ssh-rsa";
    blob = Buffer.concat([sshString(type), mpint(b64(jwk.e)), mpint(b64(jwk.n))]);
  } else if (jwk.kty === "EC" && jwk.crv !== undefined && CURVES[jwk.crv]) {
    const curve = CURVES[jwk.crv];
    type = `ecdsa-sha2-${curve}`;
    const point = Buffer.concat([Buffer.from([4]), b64(jwk.x), b64(jwk.y)]);
    blob = Buffer.concat([sshString(type), sshString(curve), sshString(point)]);
  } else {
    throw new Error(`unsupported SSH key type ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ""}`);
  }
  return `${type} ${blob.toString("base64")}`;
}

/** An SSH key pair in the forms sshd and cloud-init read. */
export interface SshKeyPair {
  /** OpenSSH private key file ("openssh-key-v1"), unencrypted. */
  privateKey: string;
  /** `ssh-ed25519 AAAA...`, without a comment: the form a pin compares. */
  publicKey: string;
}

/** PKCS#8 DER of an ed25519 private key, up to the 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/**
 * The ed25519 key pair of a 32-byte seed, with the private key encoded as
 * OpenSSH writes it. The same seed always gives the same bytes (the check
 * integers come from the seed instead of the random generator), so a host's
 * cloud-init user-data does not change from one run to the next.
 */
export function ed25519KeyPairFromSeed(seed: Buffer, comment = ""): SshKeyPair {
  if (seed.length !== 32) throw new Error(`an ed25519 seed is 32 bytes, got ${seed.length}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  const publicRaw = Buffer.from(jwk.x ?? "", "base64url");
  const type = "ssh-ed25519";
  const publicBlob = Buffer.concat([sshString(type), sshString(publicRaw)]);
  const check = createHash("sha256").update("openssh-key-v1 checkint").update(seed).digest().subarray(0, 4);
  const keys = Buffer.concat([
    check,
    check,
    sshString(type),
    sshString(publicRaw),
    // OpenSSH keeps the seed followed by the public key.
    sshString(Buffer.concat([seed, publicRaw])),
    sshString(comment),
  ]);
  // Unencrypted keys are padded to the cipher block size of "none", 8, with 1, 2, 3, ...
  const padLength = (8 - (keys.length % 8)) % 8;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, k) => k + 1));
  const blob = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    Buffer.from([0, 0, 0, 1]),
    sshString(publicBlob),
    sshString(Buffer.concat([keys, padding])),
  ]);
  const body = blob.toString("base64").match(/.{1,70}/g)!.join("\n");
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `${type} ${publicBlob.toString("base64")}`,
  };
}
