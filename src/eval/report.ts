import type { EvalReport } from './metrics';

const pct = (v: number | null): string => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);

/** 95000 -> "1m35s"; event-time durations read better than raw ms */
export function formatDuration(ms: number | null): string {
  if (ms === null) return 'n/a';
  const sign = ms < 0 ? '-' : '';
  let s = Math.round(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return sign + (h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** The human-readable report `lockstep eval` prints. */
export function formatReport(r: EvalReport): string {
  const summary = table(['metric', 'value'], [
    ['scenario', `${r.scenario} (seed ${r.seed}, ${r.simulatedDays.toFixed(2)} days)`],
    ['campaign recall', `${pct(r.campaignRecall)} (${r.campaignsCaught}/${r.campaigns})`],
    ['account precision', `${pct(r.accountPrecision)} (${r.alertedCampaignAccounts}/${r.alertedAccounts})`],
    ['account recall', `${pct(r.accountRecall)} (${r.alertedCampaignAccounts}/${r.campaignAccounts})`],
    ['alerts (true/false)', `${r.alerts} (${r.trueAlerts}/${r.falseAlerts})`],
    ['false alerts per day', r.falseAlertsPerDay.toFixed(2)],
    ['time to detect p50', formatDuration(r.timeToDetectP50Ms)],
    ['time to detect p90', formatDuration(r.timeToDetectP90Ms)],
    ['unknown alerted accounts', String(r.unknownAccounts)],
  ]);
  const campaigns = table(['campaign', 'kind', 'accounts', 'covered', 'caught', 'ttd'], r.perCampaign.map((c) => [
    c.id, c.kind, String(c.accounts), pct(c.coverage), c.caught ? 'yes' : 'no', formatDuration(c.timeToDetectMs),
  ]));
  const kinds = table(['kind', 'campaigns', 'caught', 'recall', 'account recall', 'ttd p50'], r.perKind.map((k) => [
    k.kind, String(k.campaigns), String(k.caught), pct(k.recall), pct(k.accountRecall), formatDuration(k.timeToDetectP50Ms),
  ]));
  const confounders = table(['confounder', 'kind', 'accounts', 'alerts', 'alerted accounts'], r.perConfounder.map((c) => [
    c.id, c.kind, String(c.accounts), String(c.alerts), String(c.alertedAccounts),
  ]));
  return [summary, r.perCampaign.length ? campaigns : '', r.perKind.length ? kinds : '', r.perConfounder.length ? confounders : '']
    .filter(Boolean).join('\n');
}
