import { formatFactor, formatGiB, LOAD_RULE, percent, type CapacityReport, type HypervisorStatus } from "./capacity";

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}
const e = escapeHtml;

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .5em}
.meta{color:#555;margin:0 0 1em}
table{border-collapse:collapse;margin:.3em 0 1em;min-width:40%}
th,td{border-bottom:1px solid #ddd;padding:.25em .7em;text-align:right;white-space:nowrap}
th{background:#f3f3f5}th:first-child,td:first-child,td.l,th.l{text-align:left}
tr.over td{background:#fde8e8}.flag{font-weight:600;color:#b00020}.ok{color:#1b7f3b}
.rule{background:#f7f7f9;border-left:4px solid #888;padding:.6em 1em;max-width:60em}
.rule p{margin:.2em 0}.warn{color:#8a5300}
details{margin:.2em 0}summary{cursor:pointer}
svg text{font:12px system-ui,sans-serif}
`;

/** Horizontal bars per hypervisor: vCPU and RAM committed, and what L× load would need. */
function chart(hypervisors: HypervisorStatus[], loadFactor: number): string {
  const labelW = 150;
  const barW = 420;
  const rowH = 18;
  const groupH = rowH * 4 + 14;
  const height = 30 + hypervisors.length * groupH;
  const width = labelW + barW + 170;
  const x = (p: number) => labelW + (barW * Math.min(p, 200)) / 200; // 0..200 % of capacity
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Committed and needed capacity per hypervisor">`,
  );
  hypervisors.forEach((hv, k) => {
    const top = 30 + k * groupH;
    const bars: [string, number, string][] = [
      ["sites used", percent(hv.sites, hv.slots), "#5b8def"],
      ["vCPU committed", percent(hv.vcpu, hv.capacity.vcpu), "#7a7a7a"],
      [`vCPU at ${loadFactor}×`, percent(hv.normal.vcpu * loadFactor, hv.capacity.vcpu), "#e07b39"],
      [`RAM at ${loadFactor}×`, percent(hv.normal.memoryMiB * loadFactor, hv.capacity.memoryMiB), "#c9a227"],
    ];
    parts.push(`<text x="0" y="${top + 12}" font-weight="600">${e(hv.name)}</text>`);
    bars.forEach(([label, p, color], j) => {
      const y = top + j * rowH;
      const over = p > 100;
      parts.push(`<text x="${labelW - 8}" y="${y + 12}" text-anchor="end">${e(label)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y + 2}" width="${barW}" height="${rowH - 6}" fill="#eee"/>`);
      parts.push(`<rect x="${labelW}" y="${y + 2}" width="${(x(p) - labelW).toFixed(1)}" height="${rowH - 6}" fill="${over ? "#b00020" : color}"/>`);
      parts.push(`<text x="${labelW + barW + 6}" y="${y + 12}"${over ? ' fill="#b00020" font-weight="600"' : ""}>${p.toFixed(0)} %${p > 200 ? " (off scale)" : ""}</text>`);
    });
  });
  // Drawn last so that the bars do not hide it.
  parts.push(`<line x1="${x(100)}" y1="10" x2="${x(100)}" y2="${height - 5}" stroke="#b00020" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${x(100) + 4}" y="20" fill="#b00020">100 % capacity</text>`);
  parts.push("</svg>");
  return parts.join("\n");
}

function table(header: string[], rows: { cells: string[]; over?: boolean }[], leftColumns = 1): string {
  const th = header.map((h, k) => `<th${k < leftColumns ? ' class="l"' : ""}>${e(h)}</th>`).join("");
  const body = rows
    .map((r) => `<tr${r.over ? ' class="over"' : ""}>${r.cells.map((c, k) => `<td${k < leftColumns ? ' class="l"' : ""}>${c}</td>`).join("")}</tr>`)
    .join("\n");
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

const flagCell = (over: boolean, L: number, text?: string) =>
  over ? `<span class="flag">${e(text ?? `over at ${L}×`)}</span>` : '<span class="ok">ok</span>';

/** A self-contained page: inline CSS and SVG, no scripts, no external assets; every text escaped. */
export function renderHtml(report: CapacityReport, title: string, generatedAt: Date): string {
  const L = report.loadFactor;
  const t = report.total;
  const hvRows = report.hypervisors.map((h) => ({
    over: h.overloaded,
    cells: [
      e(h.name),
      String(h.hosts),
      `${h.sites}/${h.slots}`,
      String(h.slots - h.sites),
      `${h.vcpu}/${h.capacity.vcpu} (${percent(h.vcpu, h.capacity.vcpu).toFixed(0)} %)`,
      `${formatGiB(h.memoryMiB)}/${formatGiB(h.capacity.memoryMiB)} (${percent(h.memoryMiB, h.capacity.memoryMiB).toFixed(0)} %)`,
      String(h.diskGiB),
      e(formatFactor(h.headroom)),
      flagCell(h.overloaded, L, h.overcommitted ? "overcommitted" : undefined),
    ],
  }));
  const hostRows = report.hosts.map((h) => ({
    over: h.overloaded,
    cells: [
      e(h.name),
      e(h.hypervisor),
      e(h.tier),
      `${h.sites}/${h.slots}`,
      String(h.slots - h.sites),
      String(h.vcpu),
      formatGiB(h.memoryMiB),
      String(h.diskGiB),
      e(formatFactor(h.headroom)),
      flagCell(h.overloaded, L),
    ],
  }));
  const tierRows = report.tiers.map((x) => ({
    cells: [e(x.name), String(x.hosts), `${x.sites}/${x.slots}`, String(x.slots - x.sites), String(x.vcpu), formatGiB(x.memoryMiB), String(x.diskGiB)],
  }));
  const siteLists = report.hosts
    .map((h) => {
      const rows = h.sitesList.map((s) => ({
        cells: [e(s.schoolId), e(s.name), e(s.town), /^https?:\/\//i.test(s.url) ? `<a href="${e(s.url)}">${e(s.url)}</a>` : e(s.url)],
      }));
      return `<details><summary>${e(h.name)}: ${h.sites} site(s)</summary>\n${table(["school id", "name", "town", "url"], rows, 4)}\n</details>`;
    })
    .join("\n");

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${e(title)}</h1>
<p class="meta">Generated ${e(generatedAt.toISOString())}. ${t.sites}/${t.slots} sites (${t.slots - t.sites} free) on ${t.hosts} hosts and ${t.hypervisors} hypervisors; vCPU ${t.vcpu}/${t.capacity.vcpu}, RAM ${formatGiB(t.memoryMiB)}/${formatGiB(t.capacity.memoryMiB)} GiB committed; disk ${t.diskGiB} GiB allocated.</p>
<div class="rule"><p><strong>Load rule, factor ${L}×.</strong></p>
${LOAD_RULE.map((l) => `<p>${e(l)}</p>`).join("\n")}
</div>
${report.warnings.map((w) => `<p class="warn">Warning: ${e(w)}</p>`).join("\n")}
<h2>Hypervisors</h2>
${chart(report.hypervisors, L)}
${table(["hypervisor", "hosts", "sites", "free", "vCPU committed", "RAM GiB committed", "disk GiB", "headroom", `at ${L}×`], hvRows)}
<h2>Hosts</h2>
${table(["host", "hypervisor", "tier", "sites", "free", "vCPU", "RAM GiB", "disk GiB", "headroom", `at ${L}×`], hostRows, 3)}
<h2>Tiers</h2>
${table(["tier", "hosts", "sites", "free", "vCPU", "RAM GiB", "disk GiB"], tierRows)}
<h2>Sites by host</h2>
${siteLists}
</body>
</html>
`;
}
