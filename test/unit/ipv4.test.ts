import { describe, expect, it } from "vitest";
import { ipv4ToNumber, isHostAddressIn, isIPv4, numberToIpv4, parseCidr } from "../../infra/config/ipv4";

describe("ipv4", () => {
  it("parses and prints addresses", () => {
    expect(ipv4ToNumber("10.20.1.10")).toBe(0x0a14010a);
    expect(numberToIpv4(0x0a14010a)).toBe("10.20.1.10");
    expect(numberToIpv4(0xffffffff)).toBe("255.255.255.255");
    for (const bad of ["10.20.1", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d"]) expect(isIPv4(bad), bad).toBe(false);
  });

  it("parses CIDR blocks and rejects host bits", () => {
    expect(parseCidr("10.20.0.0/22")).toEqual({ network: ipv4ToNumber("10.20.0.0"), prefixLength: 22, broadcast: ipv4ToNumber("10.20.3.255") });
    expect(parseCidr("10.20.1.0/33")).toBeUndefined();
    expect(parseCidr("10.20.1.1/24")).toBeUndefined();
  });

  it("excludes network and broadcast addresses", () => {
    const cidr = parseCidr("10.20.1.0/24")!;
    expect(isHostAddressIn(cidr, ipv4ToNumber("10.20.1.0"))).toBe(false);
    expect(isHostAddressIn(cidr, ipv4ToNumber("10.20.1.1"))).toBe(true);
    expect(isHostAddressIn(cidr, ipv4ToNumber("10.20.1.255"))).toBe(false);
    expect(isHostAddressIn(cidr, ipv4ToNumber("10.20.2.1"))).toBe(false);
  });
});
