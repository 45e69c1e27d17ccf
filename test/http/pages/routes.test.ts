import { Router } from '../../../src/http/router';
import { registerEvidencePages } from '../../../src/http/pages';
import { HEATMAP_MAX_ROWS } from '../../../src/http/pages/evidence-data';
import { defaultConfig } from '../../../src/config/config';
import type { Alert } from '../../../src/alerts/alert';
import { assessedAlert, fixedAlerts, heatmapOf, mainPrefixOf, replayScenario, sectionOf, serveRouter, type ReplayedScenario } from './fixtures';

/**
 * The evidence pages over a real run: the `small` scenario through the pipeline and detector, the
 * pages served by the HTTP server as the service serves them.
 */
let replay: ReplayedScenario;
let campaign: Alert;
let campus: Alert;
let server: { url: string; close: () => Promise<void> };
const GRAFANA = 'https://grafana.example.test/';
const RUNBOOK = 'https://runbook.example.test/lockstep#alerts';

function groupOf(a: Alert): string {
  const counts = new Map<string, number>();
  for (const acct of a.accounts) {
    const g = replay.labels.accounts[acct]?.group ?? 'unknown';
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  return [...counts.entries()].sort((x, y) => y[1] - x[1])[0][0];
}

async function get(path: string): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(server.url + path);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

beforeAll(async () => {
  replay = await replayScenario('small', 42, { alerts: { grafanaUrl: GRAFANA, runbookUrl: RUNBOOK } });
  const found = replay.detector.list().find((a) => groupOf(a) === 'c-sync-ip');
  if (!found) throw new Error('the small scenario no longer alerts on its synchronized campaign');
  campaign = found;
  campus = await assessedAlert(replay.config, replay.store, { type: 'ip_prefix', value: mainPrefixOf(replay, 'campus') }, '1m', replay.watermark ?? 0, 'al_campus');
  const router = new Router();
  registerEvidencePages(router, {
    config: replay.config,
    store: replay.store,
    alerts: fixedAlerts([...replay.detector.list(), campus]),
    watermark: () => replay.watermark,
  });
  server = await serveRouter(router);
});

afterAll(async () => {
  await server?.close();
});

describe('GET /alerts/:alertId for a detected campaign', () => {
  let page: { status: number; headers: Headers; body: string };
  beforeAll(async () => {
    page = await get(`/alerts/${campaign.alertId}`);
  });

  it('answers HTML under a policy that forbids scripts, and has none', () => {
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'unsafe-inline'; img-src data:/);
    expect(page.body).not.toMatch(/<script|javascript:|https?:\/\/[^"]*\.(js|css)"/i);
  });

  it('summarises the fleet with the alert\'s own figures', () => {
    expect(page.body).toContain(campaign.link.value);
    expect(page.body).toContain(`>${campaign.score}<`);
    expect(page.body).toContain(`<dd>${campaign.accountCount}<br>`);
    for (const cap of campaign.targetedCapabilities) expect(sectionOf(page.body, 'capabilities')).toContain(`>${cap} ★<`);
    expect(page.body).toContain(`badge ${campaign.severity}`);
  });

  it('says in plain words why it fired, one sentence per signal, the weak ones marked weak', () => {
    const items = [...page.body.matchAll(/<li data-signal="(\w+)"><span class="s s-(\w+)">/g)].map((m) => ({ signal: m[1], strength: m[2] }));
    expect(items.map((i) => i.signal).sort()).toEqual(['burst', 'linkRarity', 'size', 'synchrony', 'targeting']);
    expect(items.find((i) => i.signal === 'synchrony')?.strength).toBe('strong');
    expect(page.body).toContain('Members start and stop together');
    expect(page.body).toContain(`chi ${campaign.evidence.synchrony.chi}`);
    expect(page.body).toContain(`${Math.round(campaign.evidence.targeting.highValueShare * 100)}% of the fleet&#39;s requests are on high-value capabilities`);
    // every signal's strength label matches its score
    for (const i of items) {
      const score = i.signal === 'linkRarity' ? campaign.evidence.linkRarity : (campaign.evidence[i.signal as 'burst'] as { score: number }).score;
      expect(i.strength).toBe(score >= 0.6 ? 'strong' : score >= 0.3 ? 'moderate' : 'weak');
    }
  });

  it('draws the members in lockstep: a heatmap row per member, and buckets where nearly all are active', () => {
    const h = heatmapOf(page.body);
    expect(h.rows).toBe(Math.min(HEATMAP_MAX_ROWS, campaign.accounts.length));
    expect(h.cells).toBeGreaterThan(h.rows);
    expect(Math.max(...h.activeShares)).toBeGreaterThanOrEqual(0.9);
  });

  it('draws the rate against its baseline, the capability mix, and what the members share', () => {
    const rate = sectionOf(page.body, 'rate');
    expect((/<g class="bars"[^>]*>([\s\S]*?)<\/g>/.exec(rate)?.[1].match(/<rect /g) ?? []).length).toBeGreaterThan(5);
    expect(rate).toMatch(/<path class="baseline" d="M[\d.]+ [\d.]+L/);
    const caps = sectionOf(page.body, 'capabilities');
    const fleetWidth = Number(/<rect class="fleet" x="\d+" y="[\d.]+" width="([\d.]+)"/.exec(caps)?.[1]);
    expect(fleetWidth).toBeGreaterThan(100);
    const links = sectionOf(page.body, 'links');
    for (const l of campaign.links) expect(links).toContain(`<td>${l.type}</td>`);
    expect(links).toContain(`${campaign.accounts.length} of ${campaign.accounts.length} listed`);
  });

  it('links to the Grafana dashboard for this fleet and to the runbook', () => {
    const fleet = new URLSearchParams({ 'var-fleet': campaign.fleetId }).toString();
    expect(page.body).toContain(`href="https://grafana.example.test/d/lockstep-overview/lockstep-overview?${fleet}&amp;from=`);
    expect(page.body).toContain(`href="${RUNBOOK}"`);
  });
});

describe('GET /alerts/:alertId for a benign fleet (a university NAT)', () => {
  let body: string;
  beforeAll(async () => {
    body = (await get(`/alerts/${campus.alertId}`)).body;
  });

  it('shows its low synchrony honestly: scattered cells, no bucket where most members act together', () => {
    expect(campus.evidence.synchrony.score).toBeLessThan(0.3);
    const h = heatmapOf(body);
    expect(h.rows).toBe(Math.min(HEATMAP_MAX_ROWS, campus.accounts.length));
    expect(h.cells).toBeGreaterThan(0);
    expect(Math.max(...h.activeShares)).toBeLessThan(0.5);
  });

  it('says which signals were weak', () => {
    expect(body).toMatch(/<li data-signal="synchrony"><span class="s s-weak">/);
    expect(body).toContain('Members act independently of each other');
    expect(body).toContain(`${campus.accountCount} accounts made ${campus.evidence.size.requests} requests`);
  });
});

describe('GET /alerts', () => {
  it('lists every firing and recent alert with a link to its page', async () => {
    const { status, headers, body } = await get('/alerts');
    expect(status).toBe(200);
    expect(headers.get('content-security-policy')).toContain("default-src 'none'");
    const listed = [...body.matchAll(/<a href="\/alerts\/([^"]+)">evidence/g)].map((m) => decodeURIComponent(m[1]));
    expect(listed).toEqual([...replay.detector.list(), campus].map((a) => a.alertId));
    expect(body).toContain(`>${campaign.score}<`);
  });

  it('says so when there is none', async () => {
    const router = new Router();
    registerEvidencePages(router, { config: defaultConfig(), store: replay.store, alerts: fixedAlerts([]), watermark: () => null });
    const empty = await serveRouter(router);
    try {
      const body = await (await fetch(`${empty.url}/alerts`)).text();
      expect(body).toContain('No firing or recent alerts');
    } finally {
      await empty.close();
    }
  });
});

describe('unknown alerts and hostile ids', () => {
  it('answers 404 as HTML, the id escaped', async () => {
    const { status, headers, body } = await get('/alerts/' + encodeURIComponent('<img src=x onerror=alert(1)>'));
    expect(status).toBe(404);
    expect(headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(body).not.toContain('<img');
  });
});

describe('enforcement state', () => {
  async function pageWith(enforcement: (ids: string[]) => Promise<Map<string, { limited: boolean; dryRun: boolean }>>): Promise<string> {
    const router = new Router();
    registerEvidencePages(router, { config: replay.config, store: replay.store, alerts: fixedAlerts([campaign]), watermark: () => replay.watermark, enforcement });
    const s = await serveRouter(router);
    try {
      return await (await fetch(`${s.url}/alerts/${campaign.alertId}`)).text();
    } finally {
      await s.close();
    }
  }

  it('counts the listed accounts the enforcement part limits, and says when it is a dry run', async () => {
    const body = await pageWith(async (ids) => new Map(ids.slice(0, 7).map((id) => [id, { limited: true, dryRun: true }])));
    expect(body).toContain(`7 limited <small>(dry run: not enforced)</small><br><small>of ${campaign.accounts.length} listed accounts`);
  });

  it('still shows the evidence when the enforcement state cannot be read', async () => {
    const body = await pageWith(async () => {
      throw new Error('redis down');
    });
    expect(body).toContain('state unavailable');
    expect(heatmapOf(body).cells).toBeGreaterThan(0);
  });
});
