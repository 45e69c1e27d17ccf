import type { EvidenceData, LinkShare } from './evidence-data';
import { clip, esc } from './escape';
import { clockTime, num, pct } from './format';
import { linkNoun } from './reasons';

/**
 * The evidence charts as inline SVG: drawn on the server, no script, no external asset, so the page
 * works offline and under a CSP that forbids scripts. Every label passes through esc().
 */

export const COLORS = {
  fleet: '#4338ca',
  baseline: '#059669',
  population: '#9ca3af',
  now: '#fef3c7',
  young: '#c2410c',
  grid: '#e5e7eb',
  text: '#374151',
  empty: '#f3f4f6',
} as const;

const WIDTH = 960;

/** Coordinates are rounded to 0.1 px: enough for the eye, and keeps a 3,600-cell heatmap small. */
function r(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

/** A round axis maximum at or above `max` (1, 2, 5 × 10^k). */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/** Bucket indexes to label on a time axis: about `target` of them, on round steps. */
function tickIndexes(n: number, target: number): number[] {
  const step = Math.max(1, Math.ceil(n / target));
  const out: number[] = [];
  for (let i = 0; i < n; i += step) out.push(i);
  return out;
}

function svgOpen(kind: string, height: number, label: string): string {
  return `<svg class="chart ${kind}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${r(height)}" width="100%" role="img" aria-label="${esc(label)}" font-family="system-ui, sans-serif" font-size="11" fill="${COLORS.text}">`;
}

function timeAxis(starts: number[], x0: number, cellW: number, y: number): string {
  let out = '';
  for (const i of tickIndexes(starts.length, 10)) {
    const x = x0 + i * cellW;
    out += `<line x1="${r(x)}" y1="${r(y)}" x2="${r(x)}" y2="${r(y + 4)}" stroke="${COLORS.text}"/><text x="${r(x)}" y="${r(y + 15)}" text-anchor="middle">${esc(clockTime(starts[i]))}</text>`;
  }
  return out;
}

/** The burst test's "now": the newest buckets, shaded behind a chart's columns. */
function nowBand(d: EvidenceData, x0: number, cellW: number, y: number, h: number, label: string): string {
  if (d.recentFrom >= d.starts.length) return '';
  const x = x0 + d.recentFrom * cellW;
  const w = (d.starts.length - d.recentFrom) * cellW;
  const band = `<rect class="now" x="${r(x)}" y="${r(y)}" width="${r(w)}" height="${r(h)}" fill="${COLORS.now}"/>`;
  return label ? band + `<text x="${r(x + w - 3)}" y="${r(y + 11)}" text-anchor="end" font-size="10">${esc(label)}</text>` : band;
}

/**
 * Member accounts × time buckets. A cell's shade is the bucket's share of that account's busiest
 * bucket, so light and heavy members are equally readable; accounts that act together make vertical
 * bands. The strip on top is the share of the shown members active in each bucket.
 */
export function heatmapSvg(d: EvidenceData): string {
  const n = d.starts.length;
  const rows = d.rows;
  const labelW = 170;
  const stripH = 36;
  const rowH = rows.length <= 30 ? 14 : 9;
  const cellW = (WIDTH - labelW - 10) / Math.max(1, n);
  const gridTop = stripH + 10;
  const gridH = rows.length * rowH;
  const height = gridTop + gridH + 24;
  let out = svgOpen('heatmap', height, `Heatmap of ${rows.length} member accounts over ${n} buckets of ${d.scale.name}`);
  out += nowBand(d, labelW, cellW, 0, height - 24, '');

  // activity strip: how many of the shown members were active per bucket
  out += `<text x="${labelW - 6}" y="${r(stripH / 2 + 4)}" text-anchor="end">members active</text><g class="strip" fill="${COLORS.fleet}">`;
  for (let t = 0; t < n; t++) {
    let active = 0;
    for (const row of rows) if (row.counts[t] > 0) active++;
    if (active === 0) continue;
    const h = (active / Math.max(1, rows.length)) * stripH;
    out += `<rect x="${r(labelW + t * cellW + 0.5)}" y="${r(stripH - h)}" width="${r(Math.max(0.5, cellW - 1))}" height="${r(h)}"><title>${esc(clockTime(d.starts[t]))}: ${active} of ${rows.length} shown members active</title></rect>`;
  }
  out += `</g><line x1="${labelW}" y1="${stripH}" x2="${WIDTH - 10}" y2="${stripH}" stroke="${COLORS.grid}"/>`;

  out += `<rect class="grid-bg" x="${labelW}" y="${gridTop}" width="${r(n * cellW)}" height="${r(gridH)}" fill="${COLORS.empty}" fill-opacity="0.6"/>`;
  out += `<g class="labels" font-size="${rowH >= 14 ? 11 : 8.5}" text-anchor="end">`;
  rows.forEach((row, i) => {
    const y = gridTop + i * rowH + rowH - (rowH >= 14 ? 3.5 : 1.5);
    const fill = row.young ? ` fill="${COLORS.young}"` : '';
    out += `<text x="${labelW - 6}" y="${r(y)}"${fill}><title>${esc(row.accountId)}: ${num(row.total)} requests${row.young ? ', young account' : ''}</title>${esc(clip(row.accountId, 26))}</text>`;
  });
  out += `</g><g class="cells" fill="${COLORS.fleet}">`;
  rows.forEach((row, i) => {
    let peak = 0;
    for (const c of row.counts) if (c > peak) peak = c;
    if (peak === 0) return;
    const y = r(gridTop + i * rowH + 0.5);
    const h = r(rowH - 1);
    const w = r(Math.max(0.5, cellW - 0.6));
    for (let t = 0; t < n; t++) {
      const c = row.counts[t];
      if (c === 0) continue;
      const opacity = Math.round((0.25 + 0.75 * (c / peak)) * 100) / 100;
      out += `<rect x="${r(labelW + t * cellW + 0.3)}" y="${y}" width="${w}" height="${h}" fill-opacity="${opacity}"/>`;
    }
  });
  out += '</g>';
  out += timeAxis(d.starts, labelW, cellW, gridTop + gridH + 2);
  return out + '</svg>';
}

/** A polyline through the non-null points, broken where a value is missing. */
function path(values: readonly (number | null)[], x: (i: number) => number, y: (v: number) => number): string {
  let dAttr = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    dAttr += `${pen ? 'L' : 'M'}${r(x(i))} ${r(y(v))}`;
    pen = true;
  });
  return dAttr;
}

/** The primary link's requests per bucket (bars) against its EWMA baseline and the population's movement (lines). */
export function rateSvg(d: EvidenceData): string {
  const n = d.starts.length;
  const left = 56;
  const top = 8;
  const plotH = 170;
  const height = top + plotH + 26;
  const cellW = (WIDTH - left - 10) / Math.max(1, n);
  let max = 0;
  for (const v of d.fleetRate) max = Math.max(max, v);
  for (const v of d.baseline) if (v !== null) max = Math.max(max, v);
  for (const v of d.populationScaled ?? []) max = Math.max(max, v);
  const yMax = niceMax(max);
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const xMid = (i: number): number => left + i * cellW + cellW / 2;
  let out = svgOpen('rate', height, `Requests per ${d.scale.name} bucket against the baseline`);
  out += nowBand(d, left, cellW, top, plotH, 'now (burst test)');
  for (const v of [0, yMax / 2, yMax]) {
    out += `<line x1="${left}" y1="${r(y(v))}" x2="${WIDTH - 10}" y2="${r(y(v))}" stroke="${COLORS.grid}"/><text x="${left - 6}" y="${r(y(v) + 4)}" text-anchor="end">${esc(num(v, 1))}</text>`;
  }
  out += `<g class="bars" fill="${COLORS.fleet}" fill-opacity="0.85">`;
  d.fleetRate.forEach((v, i) => {
    if (v <= 0) return;
    out += `<rect x="${r(left + i * cellW + 0.5)}" y="${r(y(v))}" width="${r(Math.max(0.5, cellW - 1))}" height="${r(top + plotH - y(v))}"><title>${esc(clockTime(d.starts[i]))}: ${num(v)} requests</title></rect>`;
  });
  out += '</g>';
  if (d.populationScaled) out += `<path class="population" d="${path(d.populationScaled, xMid, y)}" fill="none" stroke="${COLORS.population}" stroke-width="1.5" stroke-dasharray="4 3"/>`;
  out += `<path class="baseline" d="${path(d.baseline, xMid, y)}" fill="none" stroke="${COLORS.baseline}" stroke-width="2"/>`;
  out += timeAxis(d.starts, left, cellW, top + plotH);
  return out + '</svg>';
}

export interface CapabilityRow {
  capability: string;
  fleet: number;
  population: number;
  highValue: boolean;
}

/** Capabilities by the fleet's share, the rest of the population's mix folded into "other". */
export function capabilityRows(d: EvidenceData, highValue: readonly string[], max = 7): CapabilityRow[] {
  const sum = (m: Record<string, number>): number => Object.values(m).reduce((a, b) => a + b, 0);
  const fleetTotal = sum(d.fleetCapabilities);
  const popTotal = sum(d.populationCapabilities);
  const caps = new Set([...Object.keys(d.fleetCapabilities), ...Object.keys(d.populationCapabilities)]);
  const rows = [...caps]
    .map((c) => ({
      capability: c,
      fleet: fleetTotal > 0 ? (d.fleetCapabilities[c] ?? 0) / fleetTotal : 0,
      population: popTotal > 0 ? (d.populationCapabilities[c] ?? 0) / popTotal : 0,
      highValue: highValue.includes(c),
    }))
    .sort((a, b) => b.fleet - a.fleet || b.population - a.population || (a.capability < b.capability ? -1 : 1));
  if (rows.length <= max) return rows;
  const rest = rows.slice(max - 1);
  return [...rows.slice(0, max - 1), { capability: 'other', fleet: rest.reduce((a, x) => a + x.fleet, 0), population: rest.reduce((a, x) => a + x.population, 0), highValue: false }];
}

/** Fleet vs population share per capability, side by side. */
export function capabilitySvg(rows: CapabilityRow[]): string {
  const labelW = 150;
  const barMax = WIDTH - labelW - 90;
  const rowH = 36;
  const height = rows.length * rowH + 8;
  let out = svgOpen('capabilities', height, 'Capability mix of the fleet against the population');
  rows.forEach((row, i) => {
    const y0 = 4 + i * rowH;
    out += `<text x="${labelW - 8}" y="${r(y0 + 20)}" text-anchor="end"${row.highValue ? ' font-weight="600"' : ''}>${esc(clip(row.capability, 22))}${row.highValue ? ' ★' : ''}</text>`;
    const fw = row.fleet * barMax;
    const pw = row.population * barMax;
    out += `<rect class="fleet" x="${labelW}" y="${r(y0 + 3)}" width="${r(Math.max(fw, 0.5))}" height="13" fill="${COLORS.fleet}"><title>fleet: ${esc(pct(row.fleet))}</title></rect>`;
    out += `<text x="${r(labelW + fw + 5)}" y="${r(y0 + 14)}">${esc(pct(row.fleet))} fleet</text>`;
    out += `<rect class="population" x="${labelW}" y="${r(y0 + 18)}" width="${r(Math.max(pw, 0.5))}" height="13" fill="${COLORS.population}"><title>population: ${esc(pct(row.population))}</title></rect>`;
    out += `<text x="${r(labelW + pw + 5)}" y="${r(y0 + 29)}" fill="#6b7280">${esc(pct(row.population))} population</text>`;
  });
  return out + '</svg>';
}

/** The attributes the members share: each link, and how many of the listed members are on it. */
export function linksSvg(links: LinkShare[], listed: number): string {
  const labelW = 330;
  const barMax = WIDTH - labelW - 250;
  const rowH = 24;
  const height = links.length * rowH + 8;
  let out = svgOpen('links', height, 'Attributes the fleet shares');
  links.forEach((l, i) => {
    const y0 = 4 + i * rowH;
    const share = listed > 0 && l.listedOnLink !== null ? l.listedOnLink / listed : 0;
    const label = `${linkNoun(l.link.type)}: ${clip(l.link.value, 34)}`;
    out += `<text x="${labelW - 8}" y="${r(y0 + 15)}" text-anchor="end"><title>${esc(l.link.type)} ${esc(l.link.value)}</title>${esc(label)}</text>`;
    out += `<rect x="${labelW}" y="${r(y0 + 4)}" width="${r(barMax)}" height="14" fill="${COLORS.empty}"/>`;
    out += `<rect class="share" x="${labelW}" y="${r(y0 + 4)}" width="${r(Math.max(0.5, share * barMax))}" height="14" fill="${COLORS.fleet}"/>`;
    const figures = l.listedOnLink === null || l.distinctOnLink === null ? 'not read (too many links)' : `${num(l.listedOnLink)} of ${num(listed)} listed · ${num(l.distinctOnLink)} on the link`;
    out += `<text x="${r(labelW + barMax + 8)}" y="${r(y0 + 15)}">${esc(figures)}</text>`;
  });
  return out + '</svg>';
}
