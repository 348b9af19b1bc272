import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SITE_TOOL_NAME, dnsHostRecordsDeleteScript, dnsHostRecordsScript, hostBootstrapScript } from "../../../infra/scripts";
import { LIB_SH_PATH } from "../../../infra/scripts/bash";
import { Sandbox } from "../../support/sandbox";

// shellcheck beside `bash -n`: the generated scripts, the site tool and the static shell they are made of.
const hasShellcheck = spawnSync("bash", ["-c", "command -v shellcheck"]).status === 0;
if (!hasShellcheck && process.env.SHELLCHECK !== "skip") {
  throw new Error("shellcheck is needed to check the generated scripts: apt-get install shellcheck, or SHELLCHECK=skip");
}

// Warnings and errors. Excluded: SC1003 (sq_escape's `bs='\'` is meant
// literally), SC2034 (every script gets the whole VAR= preamble of its kind),
// SC2120 (mysql_root passes optional arguments on), SC2209 (ADMIN_USER=admin
// is a string, not the command admin).
const shellcheck = (input: string) =>
  spawnSync("shellcheck", ["--shell=bash", "--severity=warning", "--exclude=SC1003,SC2034,SC2120,SC2209", "-"], { input, encoding: "utf8" });

const sbx = new Sandbox();
afterAll(() => sbx.dispose());
const DNS = { server: "10.0.0.2", port: 53, zone: "example.org", tsigKeyName: "k", tsigAlgorithm: "hmac-sha256", ttl: 60 };
const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe.skipIf(!hasShellcheck)("shellcheck", () => {
  it.each([
    ["host bootstrap (git, TLS)", () => hostBootstrapScript(sbx.host({ tls: { certificate: CERT } }), { paths: sbx.paths })],
    ["host bootstrap (tarball, plugins, no data disk)", () =>
      hostBootstrapScript(
        sbx.host({
          release: { tarball: { url: "https://dl.example.org/m.tgz", sha256: "a".repeat(64) } },
          pluginBundle: { url: "https://dl.example.org/p.tgz", sha256: "b".repeat(64) },
          dataMount: null,
        }),
        { paths: sbx.paths },
      )],
    ["a host's DNS records", () => dnsHostRecordsScript({ address: "10.0.0.5", fqdns: ["a.example.org", "b.example.org"], dns: DNS })],
    ["a host's DNS records removed", () => dnsHostRecordsDeleteScript({ address: "10.0.0.5", dns: DNS })],
  ])("%s passes", (_name, script) => {
    const r = shellcheck(script());
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("the site tool passes, with the lib.sh it sources", () => {
    const dir = join(LIB_SH_PATH, "..");
    expect(spawnSync("bash", ["-n", join(dir, SITE_TOOL_NAME)]).status).toBe(0);
    const r = spawnSync("shellcheck", ["--shell=bash", "--severity=warning", "--exclude=SC1003,SC2034,SC2120", "-x", SITE_TOOL_NAME], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("lib.sh passes", () => {
    const r = spawnSync("shellcheck", ["--shell=bash", "--exclude=SC1003,SC2034", join(LIB_SH_PATH)], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
