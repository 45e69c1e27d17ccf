import type { Config } from '../../config/config';
import type { Alert } from '../../alerts/alert';
import type { EvidenceData } from './evidence-data';
import { HEATMAP_MAX_ROWS } from './evidence-data';
import { COLORS, capabilityRows, capabilitySvg, heatmapSvg, linksSvg, rateSvg } from './charts';
import { clip, esc, safeHref } from './escape';
import { num, pct, span, utc } from './format';
import { explainSignals, linkNoun } from './reasons';

/** Enforcement state of the listed accounts, when the enforcement part is running. */
export type EnforcementSummary = { listed: number; limited: number; dryRun: boolean } | 'unavailable';

/** Grafana's overview dashboard (deploy/ ships it with this uid). */
export const GRAFANA_DASHBOARD_UID = 'lockstep-overview';
/** member ids listed in the page's collapsed list: the rest are in the alert message */
const MEMBERS_LISTED = 200;

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;background:#f9fafb}
main{max-width:1040px;margin:0 auto;padding:20px 24px 40px}
a{color:#3730a3}
nav{font-size:13px;margin-bottom:8px}
h1{font-size:22px;margin:4px 0 2px;word-break:break-all}
h2{font-size:16px;margin:0 0 6px}
.sub{color:#4b5563;font-size:13px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;vertical-align:middle}
.critical{background:#b91c1c}.warning{background:#b45309}.resolved{background:#6b7280}.firing{background:#047857}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:14px 16px;margin-top:14px}
.grid{display:grid;grid-template-columns:repeat(4,1fr);gap:10px 18px;margin:0}
.grid div{min-width:0}.grid dt{font-size:12px;color:#6b7280}.grid dd{margin:0;font-size:18px;font-weight:600;overflow-wrap:anywhere}
.grid dd small{font-size:12px;font-weight:400;color:#4b5563}
blockquote{margin:10px 0 0;padding:8px 12px;background:#f3f4f6;border-left:3px solid #9ca3af;font-size:13px;overflow-wrap:anywhere}
ol.reasons{margin:0;padding-left:0;list-style:none}
ol.reasons li{padding:7px 0;border-top:1px solid #f3f4f6}
ol.reasons li:first-child{border-top:0}
.s{display:inline-block;min-width:74px;text-align:center;padding:0 6px;border-radius:4px;font-size:12px;font-weight:600;margin-right:6px}
.s-strong{background:#fee2e2;color:#991b1b}.s-moderate{background:#fef3c7;color:#92400e}.s-weak{background:#e5e7eb;color:#374151}
.caption{color:#4b5563;font-size:12px;margin:4px 0 6px}
.legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;vertical-align:-1px;margin-right:4px}
.note{background:#fffbeb;border-color:#fcd34d}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top}
th{font-size:12px;color:#6b7280;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:12px;overflow-wrap:anywhere}
details summary{cursor:pointer}
.members{columns:4;font-size:12px;font-family:ui-monospace,monospace;margin:8px 0 0;padding:0;list-style:none}
.members li{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
footer{margin-top:18px;font-size:13px;color:#4b5563}
footer a{margin-right:16px}
`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><link rel="icon" href="data:,"><title>${esc(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function badge(cls: string, text: string): string {
  return `<span class="badge ${esc(cls)}">${esc(text)}</span>`;
}

function swatch(color: string, dashed = false): string {
  return `<span class="sw" style="background:${dashed ? `repeating-linear-gradient(90deg,${color} 0 4px,transparent 4px 7px)` : color}"></span>`;
}

function linkText(a: Alert): string {
  return `${a.link.type} ${a.link.value}`;
}

/** The dashboard for this fleet over the alert's window, when a Grafana base URL is configured. */
export function grafanaLink(config: Config, a: Alert): string | null {
  const base = safeHref(config.alerts.grafanaUrl);
  if (!base) return null;
  const q = new URLSearchParams({ 'var-fleet': a.fleetId, from: String(a.windowStart), to: String(a.windowEnd) });
  return `${base.replace(/\/$/, '')}/d/${GRAFANA_DASHBOARD_UID}/${GRAFANA_DASHBOARD_UID}?${q.toString()}`;
}

function footer(config: Config, a: Alert | null): string {
  const links: string[] = [];
  const grafana = a ? grafanaLink(config, a) : safeHref(config.alerts.grafanaUrl) ? `${config.alerts.grafanaUrl.replace(/\/$/, '')}/d/${GRAFANA_DASHBOARD_UID}/${GRAFANA_DASHBOARD_UID}` : null;
  if (grafana) links.push(`<a href="${esc(grafana)}" rel="noreferrer">Grafana dashboard</a>`);
  const runbook = safeHref(config.alerts.runbookUrl);
  if (runbook) links.push(`<a href="${esc(runbook)}" rel="noreferrer">Runbook</a>`);
  return `<footer>${links.join('')}<span>Times are event time (UTC).</span></footer>`;
}

function enforcementText(e: EnforcementSummary | null): string {
  if (e === null) return '<small>not running</small>';
  if (e === 'unavailable') return '<small>state unavailable</small>';
  if (e.limited === 0) return `none limited<br><small>of ${num(e.listed)} listed accounts</small>`;
  return `${num(e.limited)} limited${e.dryRun ? ' <small>(dry run: not enforced)</small>' : ''}<br><small>of ${num(e.listed)} listed accounts</small>`;
}

export interface AlertPageInput {
  config: Config;
  alert: Alert;
  data: EvidenceData;
  enforcement: EnforcementSummary | null;
  /** event time of the newest event seen, for "how long ago" */
  watermark: number | null;
}

export function renderAlertPage({ config, alert: a, data: d, enforcement, watermark }: AlertPageInput): string {
  const e = a.evidence;
  const ago = watermark !== null && watermark >= a.detectedAt ? ` · ${esc(span(watermark - a.detectedAt))} before the latest event` : '';
  const targeted = a.targetedCapabilities.length > 0 ? a.targetedCapabilities.map(esc).join(', ') : '<small>none above the population</small>';
  const requests = d.fleetRate.reduce((s, v) => s + v, 0);
  const reasons = explainSignals(a, config.detector.highValueCapabilities);
  let body = `<nav><a href="/alerts">← all alerts</a></nav>`;
  body += `<h1>${badge(a.severity, a.severity)} ${badge(a.status, a.status)} Fleet on ${esc(linkNoun(a.link.type))} <code>${esc(clip(a.link.value, 80))}</code></h1>`;
  body += `<div class="sub">Alert <code>${esc(a.alertId)}</code> · fleet <code>${esc(clip(a.fleetId, 60))}</code> · detected ${esc(utc(a.detectedAt))}${ago}</div>`;

  body += `<section class="card"><dl class="grid">`;
  body += `<div><dt>Score</dt><dd>${esc(num(a.score, 3))}<br><small>warning ≥ ${esc(num(config.detector.thresholds.warning))} · critical ≥ ${esc(num(config.detector.thresholds.critical))}</small></dd></div>`;
  body += `<div><dt>Accounts</dt><dd>${esc(num(a.accountCount))}<br><small>${esc(num(e.size.youngAccounts))} young (${esc(pct(e.size.youngShare))})</small></dd></div>`;
  body += `<div><dt>Requests in window</dt><dd>${esc(num(e.size.requests))}<br><small>by the fleet; ${esc(num(requests))} on the link</small></dd></div>`;
  body += `<div><dt>Enforcement</dt><dd>${enforcementText(enforcement)}</dd></div>`;
  body += `<div><dt>Targeted capabilities</dt><dd>${targeted}</dd></div>`;
  body += `<div><dt>Links</dt><dd>${esc(num(a.links.length))}<br><small>${esc([...new Set(a.links.map((l) => l.type))].join(', '))}</small></dd></div>`;
  body += `<div><dt>Window (${esc(e.scale)} buckets)</dt><dd><small>${esc(utc(d.starts[0] ?? a.windowStart))} –<br>${esc(utc((d.starts[d.starts.length - 1] ?? a.windowEnd) + d.scale.bucketMs))}</small></dd></div>`;
  body += `<div><dt>Strongest signals</dt><dd><small>${esc(
    reasons
      .filter((r) => r.strength !== 'weak')
      .map((r) => r.title.toLowerCase())
      .join(', ') || 'none',
  )}</small></dd></div>`;
  body += `</dl><blockquote>${esc(e.reason)}</blockquote></section>`;

  body += `<section class="card"><h2>Why it fired <small class="sub">each signal in plain words, strongest first</small></h2><ol class="reasons">`;
  for (const r of reasons) {
    body += `<li data-signal="${esc(r.signal)}"><span class="s s-${esc(r.strength)}">${esc(r.strength)} ${esc(num(r.score, 2))}</span><b>${esc(r.title)}.</b> ${esc(r.sentence)}</li>`;
  }
  body += `</ol></section>`;

  if (!d.hasData) {
    body += `<section class="card note" id="expired"><h2>Window no longer in the store</h2><p>The window store holds no data for this alert's window any more (buckets expire), so nothing is drawn. The figures above are those the detector recorded in the alert.</p></section>`;
  } else {
    const sampled = d.listed > d.rows.length ? `${d.rows.length} of ${num(d.listed)} listed accounts, sampled evenly from heaviest to lightest` : `all ${d.rows.length} listed accounts, heaviest first`;
    body += `<section class="card" id="heatmap"><h2>Members × time: do they move together?</h2>`;
    body += `<p class="caption">${esc(sampled)}; one column per ${esc(d.scale.name)} bucket. A cell's shade is that bucket's share of the account's own busiest bucket. A fleet in lockstep draws vertical bands; independent users draw scattered dots. <span style="color:${COLORS.young}">Orange ids</span> are young accounts.</p>`;
    body += heatmapSvg(d) + `</section>`;

    body += `<section class="card" id="rate"><h2>Request rate against its baseline</h2>`;
    body += `<p class="caption legend"><span>${swatch(COLORS.fleet)}requests per ${esc(d.scale.name)} via ${esc(linkNoun(a.link.type))}</span><span>${swatch(COLORS.baseline)}baseline (EWMA of the earlier buckets)</span>${d.populationScaled ? `<span>${swatch(COLORS.population, true)}population, scaled to the fleet's usual share</span>` : '<span>no earlier traffic: the population line is omitted</span>'}<span>${swatch(COLORS.now)}the burst test's "now"</span></p>`;
    body += rateSvg(d) + `</section>`;

    const caps = capabilityRows(d, config.detector.highValueCapabilities);
    body += `<section class="card" id="capabilities"><h2>Capability mix: fleet against population</h2>`;
    body += `<p class="caption legend"><span>${swatch(COLORS.fleet)}fleet</span><span>${swatch(COLORS.population)}population</span><span>★ high-value (${esc(config.detector.highValueCapabilities.join(', '))})</span></p>`;
    body += capabilitySvg(caps) + `</section>`;
  }

  body += `<section class="card" id="links"><h2>What the members share</h2><p class="caption">Each attribute linking the fleet, and how many of the ${esc(num(d.listed))} listed accounts are on it in the window; "on the link" counts everyone, bystanders included.</p>`;
  body += linksSvg(d.links, d.listed);
  body += `<table><thead><tr><th>type</th><th>value</th><th class="n">listed on it</th><th class="n">on the link</th><th class="n">requests</th></tr></thead><tbody>`;
  for (const l of d.links) {
    body += `<tr><td>${esc(l.link.type)}</td><td><code>${esc(l.link.value)}</code></td><td class="n">${l.listedOnLink === null ? '—' : esc(num(l.listedOnLink))}</td><td class="n">${l.distinctOnLink === null ? '—' : esc(num(l.distinctOnLink))}</td><td class="n">${l.requests === null ? '—' : esc(num(l.requests))}</td></tr>`;
  }
  body += `</tbody></table></section>`;

  const shown = a.accounts.slice(0, MEMBERS_LISTED);
  body += `<section class="card"><details><summary>Member accounts (${esc(num(shown.length))} of ${esc(num(a.accountCount))}, heaviest first)</summary><ul class="members">`;
  for (const acct of shown) body += `<li title="${esc(acct)}">${esc(acct)}</li>`;
  body += `</ul></details></section>`;
  body += footer(config, a);
  return layout(`${a.severity} ${a.alertId}: ${clip(linkText(a), 60)}`, body);
}

export function renderAlertList(config: Config, alerts: Alert[], watermark: number | null): string {
  let body = `<h1>Alerts</h1><div class="sub">Firing and recently resolved fleets, newest first${watermark !== null ? ` · latest event ${esc(utc(watermark))}` : ''}. Each links to its evidence page (heatmap up to ${HEATMAP_MAX_ROWS} members).</div>`;
  body += `<section class="card">`;
  if (alerts.length === 0) {
    body += `<p id="empty">No firing or recent alerts.</p>`;
  } else {
    body += `<table><thead><tr><th>severity</th><th class="n">score</th><th class="n">accounts</th><th>link</th><th>targeted</th><th>detected</th><th>status</th><th></th></tr></thead><tbody>`;
    for (const a of alerts) {
      const href = `/alerts/${encodeURIComponent(a.alertId)}`;
      body += `<tr><td>${badge(a.severity, a.severity)}</td><td class="n">${esc(num(a.score, 3))}</td><td class="n">${esc(num(a.accountCount))}</td>`;
      body += `<td>${esc(a.link.type)} <code>${esc(clip(a.link.value, 40))}</code>${a.links.length > 1 ? ` <small>+${a.links.length - 1}</small>` : ''}</td>`;
      body += `<td>${esc(a.targetedCapabilities.join(', ') || '—')}</td><td>${esc(utc(a.detectedAt))}</td><td>${badge(a.status, a.status)}</td><td><a href="${esc(href)}">evidence →</a></td></tr>`;
    }
    body += `</tbody></table>`;
  }
  body += `</section>` + footer(config, null);
  return layout('lockstep alerts', body);
}

export function renderNotFound(alertId: string): string {
  return layout('alert not found', `<nav><a href="/alerts">← all alerts</a></nav><h1>No alert ${esc(clip(alertId, 80))}</h1><p>It is neither firing nor among the recently resolved alerts this instance keeps.</p>`);
}
