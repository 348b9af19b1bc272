/**
 * DNS records of sites, one signed update per host: RFC 2136 with TSIG, sent
 * by nsupdate from the machine that runs Pulumi. The TSIG secret arrives on standard
 * input and lives only in a 0600 temporary key file.
 */
import { isIP } from "node:net";
import { heredoc } from "./quote";

export interface DnsServer {
  server: string;
  port: number;
  zone: string;
  tsigKeyName: string;
  tsigAlgorithm: string;
  ttl: number;
}

/** One A record as the checks see it. */
interface DnsRecord {
  fqdn: string;
  address: string;
  dns: DnsServer;
}

const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function fqdnDot(name: string): string {
  return name.endsWith(".") ? name : `${name}.`;
}

function check(r: DnsRecord): void {
  for (const [what, v] of [["fqdn", r.fqdn], ["zone", r.dns.zone], ["tsigKeyName", r.dns.tsigKeyName]] as const) {
    if (!DNS_NAME.test(v)) throw new Error(`dns: ${what} ${JSON.stringify(v)} is not a DNS name`);
  }
  if (isIP(r.address) !== 4) throw new Error(`dns: ${JSON.stringify(r.address)} is not an IPv4 address`);
  if (isIP(r.dns.server) === 0 && !DNS_NAME.test(r.dns.server)) throw new Error(`dns: bad server ${JSON.stringify(r.dns.server)}`);
  if (!/^hmac-[a-z0-9]+$/.test(r.dns.tsigAlgorithm)) throw new Error(`dns: bad algorithm ${r.dns.tsigAlgorithm}`);
  if (!Number.isInteger(r.dns.port) || !Number.isInteger(r.dns.ttl)) throw new Error("dns: port and ttl must be integers");
}

/** The named.conf-style key file nsupdate reads, built from the secret. */
export function dnsStdin(dns: Pick<DnsServer, "tsigKeyName" | "tsigAlgorithm">, secret: string): string {
  const s = secret.trim();
  if (!BASE64.test(s)) throw new Error("dns: the TSIG secret must be base64");
  if (!DNS_NAME.test(dns.tsigKeyName)) throw new Error("dns: bad TSIG key name");
  return `key "${dns.tsigKeyName}" {\n  algorithm ${dns.tsigAlgorithm};\n  secret "${s}";\n};\n`;
}

const KEY_FROM_STDIN = [
  "set -euo pipefail",
  "umask 077",
  'key=$(mktemp)',
  "trap 'rm -f \"$key\"' EXIT",
  "# The TSIG key arrives on stdin; it never appears in an argument.",
  'cat >"$key"',
];

export interface HostRecordsInput {
  /** The host's address: every record of the host points here. */
  address: string;
  /** The names of the host's sites. */
  fqdns: readonly string[];
  dns: DnsServer;
}

/**
 * The A records of every site on one host, in one signed update, for a
 * `local.Command` that runs it as `create` (and again on every change: no
 * `update`). It prints the records it made, `<name> <address>` a line; the
 * command provider keeps that as the resource's stdout and hands it to the
 * next run as PULUMI_COMMAND_STDOUT. A record of the last run that is no
 * longer wanted (a site removed, or moved to another host) is deleted by
 * its address only, so the record a moved site's new host wrote stays,
 * whichever host runs first. Each wanted name loses any other A record and
 * gets this host's. With no names (see {@link dnsHostRecordsDeleteScript})
 * it only deletes. A failed run changes nothing in the state, so the next
 * run starts again from the records of the last good one.
 */
export function dnsHostRecordsScript(h: HostRecordsInput): string {
  for (const fqdn of h.fqdns) check({ fqdn, address: h.address, dns: h.dns });
  check({ fqdn: h.dns.zone, address: h.address, dns: h.dns }); // the server settings, also when there are no names
  const wanted = [...new Set(h.fqdns.map(fqdnDot))].sort().map((name) => `${name} ${h.address}`);
  return [
    ...KEY_FROM_STDIN,
    `wanted=$(cat ${heredoc(wanted.join("\n"), "RECORDS_EOF")})`,
    "updates=()",
    "while read -r name address; do",
    '  [ -n "$name" ] || continue',
    // The last run's stdout goes into nsupdate's commands: only a name and
    // an address each, or nothing is sent.
    '  if ! [[ $name =~ ^[A-Za-z0-9_.-]+$ && $address =~ ^[0-9]+(\\.[0-9]+){3}$ ]]; then',
    '    echo "the record list of the last run holds an unexpected line: $name $address" >&2',
    "    exit 1",
    "  fi",
    '  grep -qxF -- "$name $address" <<<"$wanted" || updates+=("update delete $name A $address")',
    'done <<<"${PULUMI_COMMAND_STDOUT:-}"',
    "while read -r name address; do",
    '  [ -n "$name" ] || continue',
    `  updates+=("update delete $name A" "update add $name ${h.dns.ttl} A $address")`,
    'done <<<"$wanted"',
    'if [ "${#updates[@]}" -gt 0 ]; then',
    `  printf '%s\\n' 'server ${h.dns.server} ${h.dns.port}' 'zone ${fqdnDot(h.dns.zone)}' "\${updates[@]}" send | nsupdate -t 15 -k "$key"`,
    "fi",
    `printf '%s\\n' "$wanted"`,
    "",
  ].join("\n");
}

/** The host's records removed: those its last run printed, each by this host's address. */
export function dnsHostRecordsDeleteScript(h: Omit<HostRecordsInput, "fqdns">): string {
  return dnsHostRecordsScript({ ...h, fqdns: [] });
}
