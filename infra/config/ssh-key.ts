import { createPublicKey } from "node:crypto";

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
