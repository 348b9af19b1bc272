import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dnsDeleteScript, dnsStdin, dnsUpsertScript, type DnsRecordInput } from "../../../infra/scripts";
import { Sandbox, everythingPassedAsArgsOrEnv } from "../../support/sandbox";

const SECRET = randomBytes(32).toString("base64");
const record: DnsRecordInput = {
  fqdn: "04123456.moodle.example.org",
  address: "10.20.0.11",
  dns: { server: "10.20.0.2", port: 53, zone: "moodle.example.org", tsigKeyName: "fleet-key", tsigAlgorithm: "hmac-sha256", ttl: 300 },
};

let sbx: Sandbox;
beforeEach(() => {
  sbx = new Sandbox();
});
afterEach(() => sbx.dispose());

describe("DNS update scripts", () => {
  it("upsert: the TSIG key goes through a 0600 file, never argv, and is removed", () => {
    const r = sbx.run(dnsUpsertScript(record), dnsStdin(record.dns, SECRET));
    expect(r.status, r.stderr).toBe(0);
    const [call] = sbx.callsOf("nsupdate");
    expect(call.extra["key-mode"]).toBe("600");
    expect(call.extra["key-copy"]).toBe(dnsStdin(record.dns, SECRET).trim());
    expect(call.stdin?.toString()).toBe(
      "server 10.20.0.2 53\nzone moodle.example.org.\nupdate delete 04123456.moodle.example.org. A\nupdate add 04123456.moodle.example.org. 300 A 10.20.0.11\nsend\n",
    );
    expect(everythingPassedAsArgsOrEnv(sbx.calls())).not.toContain(SECRET);
    expect(dnsUpsertScript(record)).not.toContain(SECRET);
    expect(readdirSync(sbx.p("tmp"))).toEqual([]);
  });

  it("delete removes the record and fails when nsupdate fails", () => {
    expect(sbx.run(dnsDeleteScript(record), dnsStdin(record.dns, SECRET)).status).toBe(0);
    expect(sbx.callsOf("nsupdate")[0].stdin?.toString()).toMatch(/^update delete 04123456\.moodle\.example\.org\. A 10\.20\.0\.11\nsend\n$/m);
    sbx.setState("nsupdate_fail");
    expect(sbx.run(dnsDeleteScript(record), dnsStdin(record.dns, SECRET)).status).not.toBe(0);
  });

  it("a site moved within its cell: the update to the new address removes the old host's record in the same signed update", () => {
    // The record's command is updated in place (not deleted) on such a move, so its upsert alone must drop the old A record.
    const moved = { ...record, address: "10.20.0.12" };
    expect(sbx.run(dnsUpsertScript(moved), dnsStdin(record.dns, SECRET)).status).toBe(0);
    const updates = sbx.callsOf("nsupdate")[0].stdin!.toString().split("\n").filter((l) => l.startsWith("update "));
    expect(updates).toEqual(["update delete 04123456.moodle.example.org. A", "update add 04123456.moodle.example.org. 300 A 10.20.0.12"]);
  });

  it("rejects names that could smuggle nsupdate commands, and non-base64 secrets", () => {
    expect(() => dnsUpsertScript({ ...record, fqdn: "a.example.org\nupdate delete example.org. SOA" })).toThrow();
    expect(() => dnsUpsertScript({ ...record, address: "10.0.0.1 ; x" })).toThrow();
    expect(() => dnsStdin(record.dns, 'abc"; }; key "x')).toThrow();
  });
});
