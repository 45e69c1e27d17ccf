// Prints the scenario suite's summary.json (scripts/scenario-suite.sh) as the README's Markdown table.
// usage: node scripts/scenario-table.js .stack/scenarios/summary.json
const fs = require('node:fs');
const rows = JSON.parse(fs.readFileSync(process.argv[2] ?? '.stack/scenarios/summary.json', 'utf8'));
const pct = (x) => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const mins = (ms) => (ms === null || ms === undefined ? 'n/a' : ms >= 3_600_000 ? `${Math.floor(ms / 3_600_000)}h${String(Math.round((ms % 3_600_000) / 60_000)).padStart(2, '0')}m` : `${Math.round(ms / 60_000)}m`);
console.log('| scenario | campaigns caught | account precision | account recall | false alerts/day | time to detect p50 / p90 | alerts on confounders |');
console.log('|---|---|---|---|---|---|---|');
let caught = 0, campaigns = 0, tp = 0, alerted = 0, cAcc = 0, cHit = 0, falseAlerts = 0, days = 0;
for (const r of rows) {
  caught += r.campaignsCaught; campaigns += r.campaigns; tp += r.alertedCampaignAccounts; alerted += r.alertedAccounts;
  cAcc += r.campaignAccounts; cHit += r.alertedCampaignAccounts; falseAlerts += r.falseAlerts; days += r.simulatedDays;
  // alerts per confounder kind (a scenario may hold two groups of one kind)
  const byKind = new Map();
  for (const c of r.perConfounder) byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + c.alerts);
  const conf = [...byKind].map(([kind, alerts]) => `${kind} ${alerts}`).join(', ') || '—';
  console.log(`| ${r.scenario} | ${r.campaignsCaught}/${r.campaigns} | ${pct(r.accountPrecision)} | ${pct(r.accountRecall)} | ${r.falseAlertsPerDay.toFixed(2)} | ${mins(r.timeToDetectP50Ms)} / ${mins(r.timeToDetectP90Ms)} | ${conf} |`);
}
console.log(`| **all** | **${caught}/${campaigns} (${pct(caught / campaigns)})** | **${pct(tp / alerted)}** | **${pct(cHit / cAcc)}** | **${(falseAlerts / days).toFixed(2)}** | | |`);
