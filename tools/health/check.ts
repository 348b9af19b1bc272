import * as dns from "node:dns";
import * as http from "node:http";
import * as https from "node:https";
import { isIPv4 } from "node:net";
import type { FleetPlan, PlannedSite } from "../../infra/plan";
import { boundedAll } from "../../stacks/driver/cells";

export interface SiteCheck {
  schoolId: string;
  url: string;
  host: string;
  /** The host's planned address: where DNS must point and HTTP is asked. */
  address: string;
  /** "ok", or what was wrong with the A record. */
  dns: string;
  /** "ok", or what was wrong with the front page. */
  http: string;
  ok: boolean;
}

/** How a check reaches the world; replaced in unit tests. */
export interface Probes {
  /** The A records of `fqdn` at the fleet's DNS server. */
  resolve(fqdn: string): Promise<string[]>;
  /** GET `/` of `url` from `address`, with the site's name as Host (and SNI). */
  fetch(url: string, address: string): Promise<{ status: number; body: string }>;
}

export interface CheckOptions {
  timeoutMs: number;
  /** Sites checked at once. */
  parallel?: number;
  /**
   * Tries per site before it counts as failed. Right after an `up`, a host
   * that has just reloaded php-fpm or Apache may drop or delay one request;
   * a site that is really down fails every try.
   */
  attempts?: number;
  /** Pause between two tries of one site. */
  retryDelayMs?: number;
  probes?: Probes;
}

/** As Moodle prints a site name into HTML (htmlspecialchars with ENT_QUOTES). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#039;");
}

export async function checkSites(plan: FleetPlan, opts: CheckOptions): Promise<SiteCheck[]> {
  const probes = opts.probes ?? (await realProbes(plan, opts.timeoutMs));
  const attempts = opts.attempts ?? 3;
  const retryDelayMs = opts.retryDelayMs ?? 2000;
  return boundedAll(plan.sites, opts.parallel ?? 16, async (site) => {
    const address = plan.hostsByName[site.host].address;
    let result = await checkSite(site, address, probes);
    for (let tried = 1; !result.ok && tried < attempts; tried++) {
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      result = await checkSite(site, address, probes);
    }
    return result;
  });
}

async function checkSite(site: PlannedSite, address: string, probes: Probes): Promise<SiteCheck> {
  const dnsResult = await probes.resolve(site.fqdn).then(
    (records) =>
      records.length === 1 && records[0] === address ? "ok" : `A ${records.join(", ") || "(none)"}, expected ${address}`,
    (error: NodeJS.ErrnoException) => `lookup failed: ${error.code ?? error.message}`,
  );
  const httpResult = await probes.fetch(site.url, address).then(
    ({ status, body }) => {
      if (status !== 200) return `HTTP ${status}`;
      return body.includes(escapeHtml(site.name)) ? "ok" : "HTTP 200, but the page does not show the school's name";
    },
    (error: NodeJS.ErrnoException) => `no answer: ${error.code ?? error.message}`,
  );
  return {
    schoolId: site.schoolId,
    url: site.url,
    host: site.host,
    address,
    dns: dnsResult,
    http: httpResult,
    ok: dnsResult === "ok" && httpResult === "ok",
  };
}

/** DNS at the fleet's own server (not the machine's resolver, which may cache or not know the zone) and plain HTTP(S). */
async function realProbes(plan: FleetPlan, timeoutMs: number): Promise<Probes> {
  const { server, port } = plan.settings.dns;
  const serverAddress = isIPv4(server) ? server : (await dns.promises.lookup(server, { family: 4 })).address;
  const resolver = new dns.promises.Resolver({ timeout: timeoutMs, tries: 2 });
  resolver.setServers([`${serverAddress}:${port}`]);
  return {
    resolve: (fqdn) => resolver.resolve4(fqdn),
    fetch: (url, address) => fetchFrom(url, address, timeoutMs),
  };
}

function fetchFrom(url: string, address: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      {
        host: address,
        port: target.port || (secure ? 443 : 80),
        path: "/",
        headers: { Host: target.host },
        servername: secure ? target.hostname : undefined,
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          // A front page is small; a runaway answer is cut, not buffered whole.
          if ((size += chunk.length) <= 1 << 20) chunks.push(chunk);
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    request.on("error", reject);
    request.end();
  });
}

export function formatCheckTable(results: readonly SiteCheck[]): string {
  const rows = results.map((r) => [r.schoolId, r.url, r.host, r.ok ? "ok" : "FAILED", r.ok ? "" : [r.dns !== "ok" ? `dns: ${r.dns}` : "", r.http !== "ok" ? `http: ${r.http}` : ""].filter(Boolean).join("; ")]);
  const header = ["school", "url", "host", "status", "problem"];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]) => cells.map((c, k) => c.padEnd(widths[k])).join("  ").trimEnd();
  const failed = results.filter((r) => !r.ok).length;
  return [line(header), ...rows.map(line), `${results.length - failed} ok, ${failed} failed`].join("\n");
}
