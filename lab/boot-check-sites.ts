/**
 * The site commands lab/boot-check.sh runs on its guest after the host
 * bootstrap (which installed the site tool they call), written by the
 * fleet's own generators (infra/scripts) from two planned sites mapped as
 * the program maps them (infra/components/script-inputs.ts); the second
 * school has a hostile name. Writes, per site N (1, 2): site-N-install.cmd
 * and site-N-delete.cmd (the remote commands' text, 0600); for site 1 only,
 * the passwords a stack made before the hosts kept them would give its
 * install: site-1.stdin (0600) and site-1.admin (its admin password alone,
 * 0600). Site 2 gets none: its host makes its passwords. And sites.env
 * (0600), shell assignments of what the checks need to know about each site
 * (SITE_N_ID, SITE_N_FQDN, ...).
 *
 *   npx tsx lab/boot-check-sites.ts --host NAME --out DIR
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { siteScriptInput } from "../infra/components/script-inputs";
import type { FleetSettings, PlannedHost, PlannedSite } from "../infra/plan";
import { shellQuote, siteDeleteCommand, siteInstallCommand, siteMarkerPath, siteSlug } from "../infra/scripts";

const DOMAIN = "moodle.lab.example";

export const LAB_SCHOOLS: ReadonlyArray<{ id: string; name: string }> = [
  { id: "04123456", name: "Grundschule am Lindenplatz" },
  { id: "08765432", name: `Schule "Öhringen" $(touch /tmp/PWNED) \`id\` 'x'; rm -rf /tmp/nothing <b>&amp;</b>` },
];

/** As PHP's htmlspecialchars(…, ENT_QUOTES) writes it. */
function htmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#039;");
}

/** A password with the characters quoting gets wrong, and enough randomness. */
function password(): string {
  return `p'w"\\ $x%s\`${randomBytes(12).toString("hex")}`;
}

function main(): void {
  const { values } = parseArgs({ options: { host: { type: "string" }, out: { type: "string" } }, strict: true });
  if (!values.host || !values.out) throw new Error("--host and --out are required");
  const out = values.out;
  mkdirSync(out, { recursive: true, mode: 0o700 });

  const host = { name: values.host, phpWorkers: 2 } as PlannedHost;
  const settings = { domain: DOMAIN, moodle: { releaseDir: "/srv/moodle/release" } } as FleetSettings;
  const env: string[] = [`SITE_COUNT=${LAB_SCHOOLS.length}`];
  LAB_SCHOOLS.forEach((school, i) => {
    const n = i + 1;
    const fqdn = `${school.id}.${DOMAIN}`;
    const planned = {
      schoolId: school.id,
      name: school.name,
      email: `office@${fqdn}`,
      host: host.name,
      fqdn,
      url: `http://${fqdn}`,
      linuxUser: `m${school.id}`,
      dbName: `moodle_${school.id}`,
      dbUser: `m${school.id}`,
      dataDir: `/srv/moodledata/${school.id}`,
      adminUser: "admin",
    } as PlannedSite;
    const site = siteScriptInput(planned, host, settings);
    writeFileSync(join(out, `site-${n}-install.cmd`), siteInstallCommand(site), { mode: 0o600 });
    writeFileSync(join(out, `site-${n}-delete.cmd`), siteDeleteCommand(site), { mode: 0o600 });
    if (n === 1) {
      const adminPassword = password();
      writeFileSync(join(out, `site-${n}.stdin`), `${password()}\n${adminPassword}\n`, { mode: 0o600 });
      writeFileSync(join(out, `site-${n}.admin`), `${adminPassword}\n`, { mode: 0o600 });
    }
    const vars: Record<string, string> = {
      ID: site.schoolId,
      FQDN: site.fqdn,
      NAME_HTML: htmlEscape(site.fullName),
      DB: site.dbName,
      DB_USER: site.dbUser,
      USER: site.linuxUser,
      DATA: site.dataDir,
      ROOT: site.siteRoot,
      MARKER: siteMarkerPath(site),
      SLUG: siteSlug(site),
      ARCHIVE_DIR: site.archiveDir,
    };
    for (const [k, v] of Object.entries(vars)) env.push(`SITE_${n}_${k}=${shellQuote(v)}`);
  });
  writeFileSync(join(out, "sites.env"), `${env.join("\n")}\n`, { mode: 0o600 });
}

try {
  main();
} catch (e) {
  process.stderr.write(`boot-check-sites: ${(e as Error).message}\n`);
  process.exit(1);
}
