import { z } from "zod";
import { isDnsLabel } from "../../schools/schema";
import { isIPv4 } from "./ipv4";

/** A string check that names its rule, so errors can be matched in tests. */
export function str(rule: string, ok: (v: string) => boolean, what: string) {
  return z.string().refine(ok, {
    params: { rule },
    error: (issue) => `${what} (got ${JSON.stringify(issue.input)})`,
  });
}

export function isDnsName(v: string): boolean {
  const name = v.endsWith(".") ? v.slice(0, -1) : v;
  return name.length > 0 && name.length <= 253 && name.split(".").every(isDnsLabel);
}

export function isAbsolutePath(v: string): boolean {
  return v.startsWith("/") && !v.includes("\0") && !v.split("/").includes("..");
}

export function isUrl(v: string, protocols: readonly string[]): boolean {
  try {
    const url = new URL(v);
    return protocols.includes(url.protocol) && (url.protocol === "file:" || url.hostname !== "");
  } catch {
    return false;
  }
}

/** `user@host:path`, the scp-like form git accepts for SSH remotes. */
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/;

export const dnsLabel = str("dns-label", isDnsLabel, "not a DNS label (lower-case letters, digits, hyphens)");
export const dnsName = str("dns-name", isDnsName, "not a DNS name");
export const ipv4 = str("ipv4", isIPv4, "not an IPv4 address");
export const hostOrIpv4 = str("host", (v) => isIPv4(v) || isDnsName(v), "neither an IPv4 address nor a host name");
export const absolutePath = str("path", isAbsolutePath, "not an absolute path without '..'");
export const httpUrl = str("url", (v) => isUrl(v, ["http:", "https:"]), "not an http(s) URL");
export const releaseUrl = str("url", (v) => isUrl(v, ["http:", "https:", "file:"]), "not an http(s) or file URL");
export const gitUrl = str(
  "url",
  (v) => isUrl(v, ["https:", "http:", "ssh:", "git:", "file:"]) || SCP_LIKE.test(v),
  "not a git remote URL",
);
export const sha256 = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => /^[0-9a-f]{64}$/.test(v), { params: { rule: "sha256" }, error: "not a SHA-256 hex digest (64 hex digits)" });
/** Names libvirt and the filesystem both accept without quoting. */
export const simpleName = str("name", (v) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(v), "not a simple name ([A-Za-z0-9_.-], up to 64)");
export const linuxUser = str("user", (v) => /^[a-z_][a-z0-9_-]{0,31}$/.test(v), "not a Linux user name");
export const positiveInt = z.number().int().positive();

const SSH_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
export const sshPublicKey = str("ssh-key", (v) => SSH_KEY.test(v.trim()), "not an OpenSSH public key line");
