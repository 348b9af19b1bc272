import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../../stacks/toolchain";
import { labSkipped } from "../../support/lab-services";
import { dnsHostRecordsDeleteScript, dnsHostRecordsScript, dnsStdin } from "../../../infra/scripts";

const LIB = path.join(repoRoot, "lab/lib.sh");
const NS = "moodle-lab";
const ZONE = "moodle.lab.example";

/** Runs bash with lab/lib.sh sourced; throws on a non-zero exit. */
function lab(script: string): string {
  return execFileSync("bash", ["-c", `set -euo pipefail; source ${JSON.stringify(LIB)}; ${script}`], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function inNs(cmd: string[], input?: string, env?: Record<string, string>) {
  return spawnSync("ip", ["netns", "exec", NS, ...cmd], { encoding: "utf8", input, timeout: 30_000, env: { ...process.env, ...env } });
}

function dig(name: string, type = "A"): string {
  return inNs(["dig", "+short", "+time=2", "+tries=1", "@10.77.0.1", name, type]).stdout.trim();
}

function nsupdate(commands: string[], keyFile?: string) {
  const input = ["server 10.77.0.1", `zone ${ZONE}`, ...commands, "send", ""].join("\n");
  return inNs(keyFile ? ["nsupdate", "-k", keyFile] : ["nsupdate"], input);
}

function namedPids(): string[] {
  return inNs(["ss", "-H", "-lnup"]).stdout.split("\n").filter((l) => l.includes('"named"'));
}

// BIND from Debian's bind9 in the lab namespace: RFC 2136 updates signed with
// the lab's TSIG key, answers on the bridge address only.
describe.skipIf(labSkipped)("lab BIND: TSIG-signed dynamic updates in the lab namespace", () => {
  const host = `bind-test-${process.pid}`;
  const fqdn = `${host}.${ZONE}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "lab-bind-"));
  let keyFile = "";
  let wasRunning = false;

  beforeAll(() => {
    if (process.getuid?.() !== 0) {
      throw new Error("the lab's BIND needs root (network namespace); set LAB=skip to skip knowingly");
    }
    wasRunning = spawnSync("bash", ["-c", `source ${JSON.stringify(LIB)}; lab_bind_running`]).status === 0;
    lab("lab_bind_up");
    keyFile = lab("lab_bind_keyfile").trim();
  });

  afterAll(() => {
    if (keyFile) nsupdate([`update delete ${fqdn}`], keyFile);
    // Leave the lab as it was found.
    lab(wasRunning ? "lab_bind_up" : "lab_bind_down");
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("serves the zone's SOA on 10.77.0.1 and listens nowhere else", () => {
    expect(dig(ZONE, "SOA")).toMatch(new RegExp(`^ns\\.${ZONE.replace(/\./g, "\\.")}\\. hostmaster\\.`));
    const sockets = namedPids();
    expect(sockets.length).toBeGreaterThan(0);
    for (const line of sockets) expect(line).toContain("10.77.0.1:53");
    const tcp = inNs(["ss", "-H", "-lntp"]).stdout.split("\n").filter((l) => l.includes('"named"'));
    for (const line of tcp) expect(line).toContain("10.77.0.1:53");
  });

  it("keeps its TSIG key (hmac-sha256) in a 0600 file", () => {
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(keyFile, "utf8")).toMatch(/key "fleet-lab" \{\s*algorithm hmac-sha256;\s*secret "[A-Za-z0-9+/=]+";/);
  });

  it("writes the bare secret to a 0600 file and prints nothing", () => {
    const dest = path.join(work, "tsig.secret");
    const out = lab(`lab_bind_secret_to_file ${JSON.stringify(dest)}`);
    expect(out).toBe("");
    expect(fs.statSync(dest).mode & 0o777).toBe(0o600);
    const secret = fs.readFileSync(dest, "utf8").trim();
    expect(secret).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(fs.readFileSync(keyFile, "utf8")).toContain(`secret "${secret}"`);
  });

  it("takes an A record signed with the key and answers it", () => {
    const r = nsupdate([`update delete ${fqdn}`, `update add ${fqdn} 60 A 10.77.0.77`], keyFile);
    expect(r.status, r.stderr).toBe(0);
    expect(dig(fqdn)).toBe("10.77.0.77");
  });

  it("refuses unsigned updates and updates signed with another key", () => {
    const unsigned = nsupdate([`update add other-${fqdn} 60 A 10.77.0.78`]);
    expect(unsigned.status).not.toBe(0);
    expect(unsigned.stdout + unsigned.stderr).toMatch(/REFUSED/);

    const otherKey = path.join(work, "other.key");
    fs.writeFileSync(otherKey, execFileSync("tsig-keygen", ["-a", "hmac-sha256", "fleet-lab"], { encoding: "utf8" }), { mode: 0o600 });
    const forged = nsupdate([`update add other-${fqdn} 60 A 10.77.0.78`], otherKey);
    expect(forged.status).not.toBe(0);
    expect(dig(`other-${fqdn}`)).toBe("");
  });

  it("keeps a host's records in one signed update per run: 60 names, one dropped, one moved to another host, the host removed (generated scripts)", () => {
    const secret = fs.readFileSync(keyFile, "utf8").match(/secret "([^"]+)"/)![1];
    const dns = { server: "10.77.0.1", port: 53, zone: ZONE, tsigKeyName: "fleet-lab", tsigAlgorithm: "hmac-sha256", ttl: 60 };
    const names = Array.from({ length: 60 }, (_, i) => `h${i}-${fqdn}`);
    // As the command provider runs them: the last run's stdout in PULUMI_COMMAND_STDOUT, its final newline trimmed.
    let stdoutA = "";
    let stdoutB = "";
    const runA = (script: string) => {
      const r = inNs(["bash", "-c", script], dnsStdin(dns, secret), stdoutA ? { PULUMI_COMMAND_STDOUT: stdoutA } : {});
      expect(r.status, r.stderr).toBe(0);
      stdoutA = r.stdout.replace(/\n$/, "");
    };
    const runB = (script: string) => {
      const r = inNs(["bash", "-c", script], dnsStdin(dns, secret), stdoutB ? { PULUMI_COMMAND_STDOUT: stdoutB } : {});
      expect(r.status, r.stderr).toBe(0);
      stdoutB = r.stdout.replace(/\n$/, "");
    };
    const a = { address: "10.77.0.91", dns };
    const b = { address: "10.77.0.92", dns };
    // More names than fit one UDP datagram: nsupdate sends the update over TCP.
    runA(dnsHostRecordsScript({ ...a, fqdns: names }));
    expect(names.map((n) => dig(n))).toEqual(names.map(() => "10.77.0.91"));
    // names[0] removed, names[1] moved to host b; b runs first, as another cell may.
    runB(dnsHostRecordsScript({ ...b, fqdns: [names[1]] }));
    runA(dnsHostRecordsScript({ ...a, fqdns: names.slice(2) }));
    expect(dig(names[0])).toBe("");
    expect(dig(names[1])).toBe("10.77.0.92");
    expect(dig(names[2])).toBe("10.77.0.91");
    // Host a removed: its records go, b's stays.
    runA(dnsHostRecordsDeleteScript(a));
    expect(names.slice(2).map((n) => dig(n)).filter((x) => x !== "")).toEqual([]);
    expect(dig(names[1])).toBe("10.77.0.92");
    runB(dnsHostRecordsDeleteScript(b));
    expect(dig(names[1])).toBe("");
  });

  it("keeps records across a restart, and up/down are idempotent", () => {
    lab("lab_bind_up; lab_bind_up");
    lab("lab_bind_down; lab_bind_down");
    expect(namedPids()).toEqual([]);
    expect(fs.existsSync("/run/moodle-lab/named.pid")).toBe(false);
    lab("lab_bind_up");
    expect(dig(fqdn)).toBe("10.77.0.77");
  });
});
