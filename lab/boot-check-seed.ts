/**
 * The files lab/boot-check.sh boots and runs a guest with, written by the
 * fleet's own generators (infra/scripts), as a host of the lab would get
 * them: the cloud-init seed (user-data, meta-data, network-config), the
 * host bootstrap, whose release is the image's Moodle stand-in, and where
 * the site tool's folder goes before it (site-tool-source: the folder in
 * this checkout; site-tool-upload: the directory a host's site-tool step
 * copies it to).
 *
 *   npx tsx lab/boot-check-seed.ts --name NAME --addr IP --prefix N --gateway IP
 *       --ssh-key FILE.pub --standin-sha256 HEX --out DIR
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  cloudInitMetaData,
  cloudInitNetworkConfig,
  cloudInitUserData,
  DEFAULT_SYSTEM_PATHS,
  hostBootstrapScript,
  SITE_TOOL_SOURCE_DIR,
  siteToolUploadDir,
  type HostScriptInput,
} from "../infra/scripts";

const STANDIN_URL = "file:///opt/moodle-standin/moodle-standin.tgz";
const DOMAIN = "hosts.lab.example";

function main(): void {
  const { values } = parseArgs({
    options: {
      name: { type: "string" },
      addr: { type: "string" },
      prefix: { type: "string" },
      gateway: { type: "string" },
      "ssh-key": { type: "string" },
      "standin-sha256": { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  const need = (k: keyof typeof values): string => {
    const v = values[k];
    if (typeof v !== "string" || v === "") throw new Error(`--${k} is required`);
    return v;
  };
  const host: HostScriptInput = {
    hostName: need("name"),
    fqdn: `${need("name")}.${DOMAIN}`,
    address: need("addr"),
    prefixLength: Number(need("prefix")),
    gateway: need("gateway"),
    nameservers: [need("gateway")],
    sshUser: "root",
    sshPublicKey: readFileSync(need("ssh-key"), "utf8").trim(),
    phpWorkers: 2,
    release: { tarball: { url: STANDIN_URL, sha256: need("standin-sha256") } },
    releaseDir: "/srv/moodle/release",
    timezone: "Europe/Berlin",
    // The image has every package and the lab no mirror.
    bootPackages: [],
  };
  const out = need("out");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "user-data"), cloudInitUserData(host));
  writeFileSync(join(out, "meta-data"), cloudInitMetaData(host));
  writeFileSync(join(out, "network-config"), cloudInitNetworkConfig(host));
  writeFileSync(join(out, "bootstrap.sh"), hostBootstrapScript(host), { mode: 0o700 });
  writeFileSync(join(out, "site-tool-upload"), `${siteToolUploadDir(DEFAULT_SYSTEM_PATHS)}\n`);
  writeFileSync(join(out, "site-tool-source"), `${SITE_TOOL_SOURCE_DIR}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`boot-check-seed: ${(e as Error).message}\n`);
  process.exit(1);
}
