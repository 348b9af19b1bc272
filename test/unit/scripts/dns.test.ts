import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dnsHostRecordsDeleteScript, dnsHostRecordsScript, dnsStdin, type HostRecordsInput } from "../../../infra/scripts";
import { Sandbox, everythingPassedAsArgsOrEnv } from "../../support/sandbox";

const SECRET = randomBytes(32).toString("base64");
const record: HostRecordsInput = {
  fqdns: ["04123456.moodle.example.org"],
  address: "10.20.0.11",
  dns: { server: "10.20.0.2", port: 53, zone: "moodle.example.org", tsigKeyName: "fleet-key", tsigAlgorithm: "hmac-sha256", ttl: 300 },
};

let sbx: Sandbox;
beforeEach(() => {
  sbx = new Sandbox();
});
afterEach(() => sbx.dispose());

describe("DNS update scripts", () => {
  it("the TSIG key goes through a 0600 file, never argv, and is removed", () => {
    const r = sbx.run(dnsHostRecordsScript(record), dnsStdin(record.dns, SECRET));
    expect(r.status, r.stderr).toBe(0);
    const [call] = sbx.callsOf("nsupdate");
    expect(call.extra["key-mode"]).toBe("600");
    expect(call.extra["key-copy"]).toBe(dnsStdin(record.dns, SECRET).trim());
    expect(call.stdin?.toString()).toBe(
      "server 10.20.0.2 53\nzone moodle.example.org.\nupdate delete 04123456.moodle.example.org. A\nupdate add 04123456.moodle.example.org. 300 A 10.20.0.11\nsend\n",
    );
    expect(everythingPassedAsArgsOrEnv(sbx.calls())).not.toContain(SECRET);
    expect(dnsHostRecordsScript(record)).not.toContain(SECRET);
    expect(readdirSync(sbx.p("tmp"))).toEqual([]);
  });

  it("rejects names that could smuggle nsupdate commands, and non-base64 secrets", () => {
    expect(() => dnsHostRecordsScript({ ...record, fqdns: ["a.example.org\nupdate delete example.org. SOA"] })).toThrow();
    expect(() => dnsHostRecordsScript({ ...record, address: "10.0.0.1 ; x" })).toThrow();
    expect(() => dnsHostRecordsDeleteScript({ address: record.address, dns: { ...record.dns, zone: "example.org\nsend" } })).toThrow();
    expect(() => dnsStdin(record.dns, 'abc"; }; key "x')).toThrow();
  });
});

describe("a host's DNS records", () => {
  const dns = record.dns;
  const host = { address: "10.20.0.11", dns };
  const names = ["b.moodle.example.org", "a.moodle.example.org"];
  const key = dnsStdin(dns, SECRET);
  const updatesOf = (i: number) =>
    sbx.callsOf("nsupdate")[i].stdin!.toString().split("\n").filter((l) => l.startsWith("update "));
  const run = (script: string, previous?: string) =>
    sbx.run(script, key, previous === undefined ? {} : { PULUMI_COMMAND_STDOUT: previous });

  it("first run: every name gets this host's address alone, in one signed update; prints what it made", () => {
    const r = run(dnsHostRecordsScript({ ...host, fqdns: names }));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("a.moodle.example.org. 10.20.0.11\nb.moodle.example.org. 10.20.0.11\n");
    const [call] = sbx.callsOf("nsupdate");
    expect(call.extra["key-mode"]).toBe("600");
    expect(call.stdin?.toString()).toBe(
      [
        "server 10.20.0.2 53",
        "zone moodle.example.org.",
        "update delete a.moodle.example.org. A",
        "update add a.moodle.example.org. 300 A 10.20.0.11",
        "update delete b.moodle.example.org. A",
        "update add b.moodle.example.org. 300 A 10.20.0.11",
        "send",
        "",
      ].join("\n"),
    );
    expect(everythingPassedAsArgsOrEnv(sbx.calls())).not.toContain(SECRET);
    expect(readdirSync(sbx.p("tmp"))).toEqual([]);
  });

  it("a name dropped since the last run loses only its record at this host's address", () => {
    const first = run(dnsHostRecordsScript({ ...host, fqdns: names })).stdout.replace(/\n$/, "");
    const r = run(dnsHostRecordsScript({ ...host, fqdns: ["a.moodle.example.org"] }), first);
    expect(r.status, r.stderr).toBe(0);
    expect(updatesOf(1)).toEqual([
      "update delete b.moodle.example.org. A 10.20.0.11",
      "update delete a.moodle.example.org. A",
      "update add a.moodle.example.org. 300 A 10.20.0.11",
    ]);
    expect(r.stdout).toBe("a.moodle.example.org. 10.20.0.11\n");
  });

  it("delete: removes what the last run printed, by address; with nothing printed, sends nothing", () => {
    const previous = "a.moodle.example.org. 10.20.0.11\nb.moodle.example.org. 10.20.0.11";
    const r = run(dnsHostRecordsDeleteScript(host), previous);
    expect(r.status, r.stderr).toBe(0);
    expect(updatesOf(0)).toEqual(["update delete a.moodle.example.org. A 10.20.0.11", "update delete b.moodle.example.org. A 10.20.0.11"]);
    expect(r.stdout).toBe("\n");
    expect(run(dnsHostRecordsDeleteScript(host)).status).toBe(0);
    expect(sbx.callsOf("nsupdate")).toHaveLength(1);
  });

  it("fails when nsupdate fails, printing no records (the state keeps the last good run's)", () => {
    sbx.setState("nsupdate_fail");
    const r = run(dnsHostRecordsScript({ ...host, fqdns: names }));
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
  });

  it("refuses a last-run list that would smuggle nsupdate commands, sending nothing", () => {
    for (const previous of ["a.example.org. 10.0.0.1\nsend", "x.example.org. 10.0.0.1 ; update delete example.org. SOA", "a.example.org.\tnot-an-address"]) {
      const r = run(dnsHostRecordsScript({ ...host, fqdns: names }), previous);
      expect(r.status, previous).not.toBe(0);
      expect(r.stderr).toMatch(/unexpected line/);
    }
    expect(sbx.callsOf("nsupdate")).toEqual([]);
    expect(() => dnsHostRecordsScript({ ...host, fqdns: ["a.example.org\nsend"] })).toThrow();
    expect(() => dnsHostRecordsDeleteScript({ ...host, address: "10.0.0.1 x" })).toThrow();
  });
});
