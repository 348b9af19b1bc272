/**
 * Input checks for the generators. Everything is quoted where it is used, but
 * names that become file names, Unix accounts, SQL identifiers or lines of an
 * Apache/php-fpm/cron configuration must also be plain: these checks refuse
 * anything else with an error that names the field.
 */
import { isIP } from "node:net";
import type { HostScriptInput, SiteScriptInput, SystemPaths } from "./types";

export class ScriptInputError extends Error {
  constructor(field: string, value: unknown, rule: string) {
    super(`${field}: ${JSON.stringify(value)} ${rule}`);
    this.name = "ScriptInputError";
  }
}

const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const RE = {
  label: new RegExp(`^${LABEL}$`),
  fqdn: new RegExp(`^${LABEL}(?:\\.${LABEL})+$`),
  unixName: /^[a-z_][a-z0-9_-]{0,31}$/,
  schoolId: /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/,
  dbName: /^[A-Za-z0-9_]{1,64}$/,
  dbUser: /^[A-Za-z0-9_]{1,80}$/,
  moodleUser: /^[a-z0-9][a-z0-9_.@-]{0,99}$/,
  path: /^(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/,
  timezone: /^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)*$/,
  sha256: /^[0-9a-fA-F]{64}$/,
  gitRef: /^[A-Za-z0-9][A-Za-z0-9._/-]*$/,
  fetchUrl: /^(?:https?|git|ssh|file):\/\/[\x21-\x7e]+$/,
  gitUrl: /^(?:(?:https|ssh):\/\/[\x21-\x7e]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[\x21-\x7e]+)$/,
  releaseUrl: /^(?:https|file):\/\/[\x21-\x7e]+$/,
  commit: /^[0-9a-fA-F]{40}$/,
  releaseKey: /^[0-9a-f]{16}$/,
  sshKey:
    /^(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: [^\r\n]*)?$/,
  // Control characters other than tab, including DEL and the C1 range.
  control: /[\0-\x08\x0a-\x1f\x7f-\x9f]/,
};

const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const EMAIL_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Moodle's user.email column is VARCHAR(100): a longer address fails when the installer writes the admin. */
export const MOODLE_EMAIL_MAX = 100;

/**
 * Why Moodle would refuse `address`, or null when it takes it. Moodle's
 * validate_email() is PHPMailer's validateAddress() (PHP's
 * FILTER_VALIDATE_EMAIL) and no `<` or `>`; install_database.php stops with
 * exit 1 on an address it rejects. This accepts a subset of that: dot-atom
 * local parts (at most 64 characters), host names with at least two labels
 * of at most 63 characters and a top-level label that is not all digits,
 * at most 100 characters in all. Quoted local parts and IP literals, which
 * PHP also accepts, are refused: no school address needs them.
 */
export function moodleEmailProblem(address: string): string | null {
  if (address.length > MOODLE_EMAIL_MAX) return `is longer than ${MOODLE_EMAIL_MAX} characters`;
  const at = address.lastIndexOf("@");
  if (at <= 0) return "has no local part and domain (local@domain)";
  const local = address.slice(0, at);
  const labels = address.slice(at + 1).split(".");
  if (local.length > 64) return "has a local part longer than 64 characters";
  if (!EMAIL_LOCAL.test(local)) return "has a local part Moodle rejects (letters, digits, !#$%&'*+/=?^_`{|}~- and single dots inside)";
  if (labels.length < 2 || !labels.every((l) => EMAIL_LABEL.test(l))) return "has a domain Moodle rejects (DNS labels separated by dots)";
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return "has an all-digit top-level domain";
  return null;
}

function check(ok: boolean, field: string, value: unknown, rule: string): void {
  if (!ok) throw new ScriptInputError(field, value, rule);
}

function str(field: string, value: unknown): string {
  check(typeof value === "string", field, value, "must be a string");
  return value as string;
}

function matches(field: string, value: unknown, re: RegExp, rule: string): string {
  const s = str(field, value);
  check(re.test(s), field, s, rule);
  return s;
}

function absPath(field: string, value: unknown, minDepth = 1): string {
  const s = matches(field, value, RE.path, "must be an absolute path of letters, digits, '.', '_' and '-' components");
  const parts = s.split("/").slice(1);
  check(!parts.some((p) => p === "." || p === ".."), field, s, "must not contain '.' or '..' components");
  check(parts.length >= minDepth, field, s, `must be at least ${minDepth} directories deep`);
  return s;
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(`${parent}/`);
}

function int(field: string, value: unknown, min: number, max: number): number {
  check(Number.isInteger(value) && (value as number) >= min && (value as number) <= max, field, value, `must be an integer from ${min} to ${max}`);
  return value as number;
}

function text(field: string, value: unknown, allowNewlines: boolean): string {
  const s = str(field, value);
  check(s.trim() !== "", field, s, "must not be empty");
  check(!s.includes("\0"), field, s, "must not contain NUL characters");
  if (!allowNewlines) check(!RE.control.test(s), field, s, "must not contain control characters");
  return s;
}

function fetchUrl(field: string, value: unknown): string {
  return matches(field, value, RE.fetchUrl, "must be an http(s), git, ssh or file URL without spaces or control characters");
}

/** The site URL doubles as Moodle's wwwroot and an Apache redirect target. */
function siteUrl(field: string, value: unknown, fqdn: string): string {
  const s = str(field, value);
  const m = /^(https?):\/\/([^/:]+)(?::([0-9]{1,5}))?(\/[A-Za-z0-9._~-]+)*$/.exec(s);
  check(m !== null, field, s, "must be http(s)://host[:port][/path] without a trailing slash");
  check(m![2].toLowerCase() === fqdn.toLowerCase(), field, s, `must point at the site's fqdn ${fqdn}`);
  return s;
}

export function validateHostInput(h: HostScriptInput): void {
  const f = (k: string) => `HostScriptInput.${k}`;
  matches(f("hostName"), h.hostName, RE.label, "must be a single DNS label");
  matches(f("fqdn"), h.fqdn, RE.fqdn, "must be a fully qualified DNS name");
  const family = isIP(str(f("address"), h.address));
  check(family !== 0, f("address"), h.address, "must be an IPv4 or IPv6 address");
  int(f("prefixLength"), h.prefixLength, 1, family === 4 ? 32 : 128);
  check(isIP(str(f("gateway"), h.gateway)) === family, f("gateway"), h.gateway, `must be an IPv${family} address`);
  check(Array.isArray(h.nameservers) && h.nameservers.length > 0, f("nameservers"), h.nameservers, "must list at least one address");
  h.nameservers.forEach((n, i) => check(isIP(str(f(`nameservers[${i}]`), n)) !== 0, f(`nameservers[${i}]`), n, "must be an IP address"));
  (h.searchDomains ?? []).forEach((d, i) => matches(f(`searchDomains[${i}]`), d, RE.fqdn, "must be a DNS name"));
  matches(f("sshUser"), h.sshUser, RE.unixName, "must be a Unix user name");
  matches(f("sshPublicKey"), h.sshPublicKey, RE.sshKey, "must be one OpenSSH public key line");
  check(!RE.control.test(h.sshPublicKey), f("sshPublicKey"), h.sshPublicKey, "must not contain control characters");
  int(f("phpWorkers"), h.phpWorkers, 1, 1000);
  if (h.sitesPerHost !== undefined) int(f("sitesPerHost"), h.sitesPerHost, 1, 1000);
  validateRelease(h);
  absPath(f("releaseDir"), h.releaseDir, 2);
  if (h.dataMount !== undefined && h.dataMount !== null) {
    const mount = absPath(f("dataMount"), h.dataMount, 1);
    check(!isInside(mount, h.releaseDir), f("dataMount"), mount, `must not be the release directory or inside it (${h.releaseDir})`);
  }
  if (h.tls !== undefined) {
    const cert = text(f("tls.certificate"), h.tls.certificate, true);
    check(cert.includes("-----BEGIN CERTIFICATE-----"), f("tls.certificate"), "(PEM)", "must be a PEM certificate");
    check(!/PRIVATE KEY/.test(cert), f("tls.certificate"), "(PEM)", "must not contain a private key: the key goes on standard input");
  }
  matches(f("timezone"), h.timezone, RE.timezone, "must be an IANA time zone name");
  (h.bootPackages ?? []).forEach((p, i) =>
    matches(f(`bootPackages[${i}]`), p, /^[a-z0-9][a-z0-9+.-]+$/, "must be a Debian package name"),
  );
}

function validateRelease(h: HostScriptInput): void {
  const r = h.release as Record<string, unknown>;
  if ("git" in r && r.git) {
    const g = (h.release as { git: { url: string; commit: string; tag?: string } }).git;
    matches("HostScriptInput.release.git.url", g.url, RE.gitUrl, "must be an https or ssh git URL without spaces or control characters");
    matches("HostScriptInput.release.git.commit", g.commit, RE.commit, "must be a full commit id (40 hex digits)");
    if (g.tag !== undefined) {
      const t = matches("HostScriptInput.release.git.tag", g.tag, RE.gitRef, "must be a git tag name");
      check(!t.includes(".."), "HostScriptInput.release.git.tag", t, "must not contain '..'");
    }
  } else if ("tarball" in r && r.tarball) {
    const t = h.release as { tarball: { url: string; sha256: string } };
    matches("HostScriptInput.release.tarball.url", t.tarball.url, RE.releaseUrl, "must be an https or file URL without spaces or control characters");
    matches("HostScriptInput.release.tarball.sha256", t.tarball.sha256, RE.sha256, "must be 64 hex digits");
  } else {
    throw new ScriptInputError("HostScriptInput.release", h.release, "must be {git:{url,commit,tag?}} or {tarball:{url,sha256}}");
  }
  if (h.pluginBundle !== undefined) {
    fetchUrl("HostScriptInput.pluginBundle.url", h.pluginBundle.url);
    matches("HostScriptInput.pluginBundle.sha256", h.pluginBundle.sha256, RE.sha256, "must be 64 hex digits");
  }
}

export function validateSiteInput(s: SiteScriptInput): void {
  const f = (k: string) => `SiteScriptInput.${k}`;
  matches(f("schoolId"), s.schoolId, RE.schoolId, "must be letters, digits, '_' or '-' (at most 63)");
  text(f("fullName"), s.fullName, true);
  text(f("shortName"), s.shortName, false);
  matches(f("fqdn"), s.fqdn, RE.fqdn, "must be a fully qualified DNS name");
  siteUrl(f("url"), s.url, s.fqdn);
  matches(f("adminUser"), s.adminUser, RE.moodleUser, "must be a Moodle user name (lower case letters, digits, _ . @ -)");
  const emailProblem = moodleEmailProblem(str(f("adminEmail"), s.adminEmail));
  check(emailProblem === null, f("adminEmail"), s.adminEmail, `must be an e-mail address Moodle accepts: it ${emailProblem}`);
  matches(f("linuxUser"), s.linuxUser, RE.unixName, "must be a Unix user name");
  check(s.linuxUser !== "root" && s.linuxUser !== "www-data", f("linuxUser"), s.linuxUser, "must be the site's own account");
  matches(f("dbName"), s.dbName, RE.dbName, "must be letters, digits or '_' (at most 64)");
  matches(f("dbUser"), s.dbUser, RE.dbUser, "must be letters, digits or '_' (at most 80)");
  check(s.dbUser !== "root", f("dbUser"), s.dbUser, "must not be root");
  int(f("phpWorkers"), s.phpWorkers, 1, 1000);
  if (s.uid !== undefined) int(f("uid"), s.uid, 1000, 2147483646);
  const release = absPath(f("releaseDir"), s.releaseDir, 2);
  if (s.releaseId !== undefined) matches(f("releaseId"), s.releaseId, RE.releaseKey, "must be a release key (16 hex digits)");
  const data = absPath(f("dataDir"), s.dataDir, 2);
  const root = absPath(f("siteRoot"), s.siteRoot, 2);
  const archive = absPath(f("archiveDir"), s.archiveDir, 2);
  const dirs: Array<[string, string]> = [
    ["releaseDir", release],
    ["dataDir", data],
    ["siteRoot", root],
    ["archiveDir", archive],
  ];
  for (const [na, a] of dirs) {
    for (const [nb, b] of dirs) {
      if (na !== nb) check(!isInside(a, b), f(na), a, `must not be inside ${nb} (${b})`);
    }
  }
}

export function validatePaths(p: SystemPaths): void {
  for (const [k, v] of Object.entries(p)) absPath(`SystemPaths.${k}`, v, 1);
}
