/** IPv4 arithmetic on plain numbers; enough for address pools, nothing more. */

const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

export function ipv4ToNumber(text: string): number {
  if (!isIPv4(text)) throw new Error(`not an IPv4 address: ${text}`);
  return text.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function numberToIpv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`out of IPv4 range: ${value}`);
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export interface Cidr {
  network: number;
  prefixLength: number;
  /** Last address of the block (the broadcast address for prefixes below 31). */
  broadcast: number;
}

/** Parses `a.b.c.d/n`; the address must be the block's network address. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  if (!m || !isIPv4(m[1])) return undefined;
  const prefixLength = Number(m[2]);
  if (prefixLength > 32) return undefined;
  const size = 2 ** (32 - prefixLength);
  const network = ipv4ToNumber(m[1]);
  if (network % size !== 0) return undefined;
  return { network, prefixLength, broadcast: network + size - 1 };
}

/** Usable host addresses exclude network and broadcast, except in /31 and /32. */
export function isHostAddressIn(cidr: Cidr, address: number): boolean {
  if (address < cidr.network || address > cidr.broadcast) return false;
  if (cidr.prefixLength >= 31) return true;
  return address !== cidr.network && address !== cidr.broadcast;
}
