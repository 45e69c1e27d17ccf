import fs from 'node:fs';
import path from 'node:path';
import { LINK_TYPES } from '../../src/events/request-event';
import { startLockstep, type LockstepProcess } from '../support/lockstep';
import {
  startAlertmanager,
  startPrometheus,
  startWebhookReceiver,
  type AlertmanagerServer,
  type PrometheusServer,
  type PromQueryResult,
  type WebhookAlert,
  type WebhookReceiver,
} from '../support/prometheus';
import { waitFor } from '../support/wait';
import { dashboardQueries, type DashboardQuery } from './dashboard-queries';
import { REPO_ROOT, RULES_FILE, RUNBOOK_BASE, githubAnchor } from './tools';

/**
 * The whole on-call path, with the real programs: lockstep runs the embedded demo (simulated
 * campaigns, paced 600x), pushes its own per-fleet alerts to a real Alertmanager, and a real
 * Prometheus scrapes it with the shipped rules file (unchanged) and alerts to the same Alertmanager,
 * which routes everything to a webhook here (the pager). Then every Grafana panel query is run against
 * that Prometheus. Takes under a minute: the last check waits for the demo to resolve a fleet.
 */

const PUBLIC_URL = 'https://lockstep.example.test';
/** Anchors a runbook_url can land on: the headings of README.md (where the runbooks are), as GitHub renders them. */
const RUNBOOK_ANCHORS = new Set([...fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8').matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => githubAnchor(m[1])));

/**
 * Panel queries that cannot return data from this setup, and why. Each is still run and must parse;
 * if one starts returning data, take it off this list.
 */
const EXPECTED_EMPTY: Record<string, string> = {
  'Max consumer lag': 'the embedded demo has no Kafka, so no consumer group and no lag series',
  'Consumer lag per partition': 'the embedded demo has no Kafka, so no consumer group and no lag series',
};

describe('the real alert path: lockstep -> Prometheus rules + lockstep alerts -> Alertmanager -> webhook', () => {
  let webhook: WebhookReceiver | undefined;
  let alertmanager: AlertmanagerServer | undefined;
  let lockstep: LockstepProcess | undefined;
  let prometheus: PrometheusServer | undefined;

  /** What a failing wait shows: where every part of the path stands, and the tails of their logs. */
  async function diagnostics(): Promise<string> {
    const safe = async (f: () => Promise<unknown>): Promise<string> => {
      try {
        return JSON.stringify(await f()).slice(0, 3_000);
      } catch (err) {
        return `(unavailable: ${(err as Error).message})`;
      }
    };
    return [
      `webhook received: ${JSON.stringify(webhook?.alerts().map((a) => a.labels) ?? []).slice(0, 2_000)}`,
      `prometheus targets: ${await safe(async () => prometheus?.targets())}`,
      `prometheus alerts: ${await safe(async () => prometheus?.alerts())}`,
      `alertmanager alerts: ${await safe(async () => alertmanager?.alerts())}`,
      `--- prometheus log tail ---\n${prometheus?.logs().slice(-2_500) ?? ''}`,
      `--- alertmanager log tail ---\n${alertmanager?.logs().slice(-2_500) ?? ''}`,
      `--- lockstep log tail ---\n${lockstep?.logs().slice(-2_500) ?? ''}`,
    ].join('\n');
  }

  async function waitOrExplain<T>(predicate: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
    try {
      return await waitFor(predicate, { timeoutMs, intervalMs: 250, what });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await diagnostics()}`);
    }
  }

  function received(alertname: string): WebhookAlert[] {
    return webhook?.alerts().filter((a) => a.labels.alertname === alertname && a.status === 'firing') ?? [];
  }

  beforeAll(async () => {
    try {
      webhook = await startWebhookReceiver();
      alertmanager = await startAlertmanager({
        config: {
          route: { receiver: 'pager', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
          receivers: [{ name: 'pager', webhook_configs: [{ url: webhook.url, send_resolved: true }] }],
        },
      });
      lockstep = await startLockstep({ SIM_SPEEDUP: '600', ALERTMANAGER_URL: alertmanager.url, PUBLIC_URL, LOG_LEVEL: 'warn' });
      prometheus = await startPrometheus({
        scrape: { lockstep: [`127.0.0.1:${lockstep.port}`] },
        ruleFiles: [fs.realpathSync(RULES_FILE)],
        alertmanagers: [alertmanager.url],
      });
    } catch (err) {
      throw new Error(`setting up the alert path failed: ${(err as Error).message}\n${await diagnostics()}`);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), lockstep?.stop()]);
    await Promise.allSettled([alertmanager?.stop(), webhook?.stop()]);
  });

  test('Prometheus scrapes lockstep as job "lockstep" and loads the shipped rules', async () => {
    await waitOrExplain(async () => (await prometheus!.targets()).some((t) => t.labels.job === 'lockstep' && t.health === 'up'), 10_000, 'the lockstep target to be up');
    const groups = ((await (await fetch(`${prometheus!.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> } }).data.groups;
    const rules = groups.flatMap((g) => g.rules);
    expect(groups.map((g) => g.name).sort()).toEqual(['lockstep.detection', 'lockstep.recording', 'lockstep.service']);
    expect(rules.filter((r) => r.health === 'err')).toEqual([]);
  });

  test('the rule LockstepDistillationFleetCritical reaches the pager with what on-call needs', async () => {
    const [alert] = await waitOrExplain(() => (received('LockstepDistillationFleetCritical').length > 0 ? received('LockstepDistillationFleetCritical') : null), 45_000, 'LockstepDistillationFleetCritical at the webhook');
    expect(alert.labels).toEqual({ alertname: 'LockstepDistillationFleetCritical', severity: 'critical', job: 'lockstep', link_type: expect.any(String) });
    expect(LINK_TYPES).toContain(alert.labels.link_type);
    expect(alert.annotations.summary).toBe(`Critical distillation fleet linked by ${alert.labels.link_type}`);
    expect(alert.annotations.description).toMatch(new RegExp(`^\\d+ fleet\\(s\\) linked by ${alert.labels.link_type} are at critical score in lockstep: `));
    expect(alert.annotations.runbook_url).toBe(`${RUNBOOK_BASE}lockstepdistillationfleetcritical`);
    expect(RUNBOOK_ANCHORS).toContain(new URL(alert.annotations.runbook_url).hash.slice(1));
  });

  test("lockstep's own DistillationFleet alert reaches the pager with fleet, evidence link and runbook", async () => {
    const alerts = await waitOrExplain(() => (received('DistillationFleet').length > 0 ? received('DistillationFleet') : null), 45_000, 'DistillationFleet at the webhook');
    const alert = alerts.find((a) => a.labels.severity === 'critical') ?? alerts[0];
    expect(alert.labels).toEqual({ alertname: 'DistillationFleet', severity: expect.stringMatching(/^(critical|warning)$/), fleet: expect.stringMatching(/.+/), link_type: expect.any(String), alert_id: alert.annotations.alert_id, service: 'lockstep' });
    expect(LINK_TYPES).toContain(alert.labels.link_type);
    expect(alert.annotations.summary).toMatch(new RegExp(`^${alert.labels.severity} distillation fleet: \\d+ accounts via ${alert.labels.link_type} `));
    expect(alert.annotations.description).toMatch(/alertId \S+\.$/);
    expect(alert.annotations.evidence_url).toBe(`${PUBLIC_URL}/alerts/${alert.annotations.alert_id}`);
    expect(alert.generatorURL).toBe(alert.annotations.evidence_url);
    // the runbook link must land on a section that exists
    expect(alert.annotations.runbook_url.startsWith(RUNBOOK_BASE)).toBe(true);
    expect(RUNBOOK_ANCHORS).toContain(new URL(alert.annotations.runbook_url).hash.slice(1));
    // the evidence page behind the link is served by lockstep (PUBLIC_URL stands for lockstep.url here)
    const page = await fetch(`${lockstep!.url}/alerts/${alert.annotations.alert_id}`);
    expect(page.status).toBe(200);
  });

  test('every dashboard panel query parses and returns data from this Prometheus', async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(30);
    for (const panel of Object.keys(EXPECTED_EMPTY)) expect(queries.map((q) => q.panel)).toContain(panel);
    // a gateway's checks (as nginx auth_request sends them), so the check latency histogram has observations
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${lockstep!.url}/v1/check`, { headers: { 'x-account-id': `acct_gateway_${i}` } });
      expect(r.status).toBe(200);
    }

    const problem = (q: DashboardQuery, r: PromQueryResult): string | null => {
      if (r.status !== 'success') return `does not run: ${r.errorType}: ${r.error}`;
      const result = r.data?.result ?? [];
      if (q.panel in EXPECTED_EMPTY) return result.length === 0 ? null : `returns data now: take "${q.panel}" off EXPECTED_EMPTY`;
      if (result.length === 0) return 'returns no series';
      // a quantile over a histogram without observations is NaN: the panel would be blank
      const finite = result.some((s) => Number.isFinite(Number(s.value?.[1])));
      return finite ? null : `returns only ${result.map((s) => s.value?.[1]).join(', ')}`;
    };
    // rate() over [1m] needs two scrapes of a series; give the youngest series a few seconds
    let failures: string[] = [];
    await waitFor(
      async () => {
        failures = [];
        for (const q of queries) {
          const why = problem(q, await prometheus!.query(q.expr));
          if (why) failures.push(`${q.panel} [${q.refId}] ${why}\n    ${q.expr}`);
        }
        return failures.length === 0;
      },
      { timeoutMs: 15_000, intervalMs: 1_000, what: 'every panel query to return data' },
    ).catch(async () => {
      throw new Error(`${failures.length} dashboard queries fail:\n${failures.join('\n')}\n${await diagnostics()}`);
    });
  });

  // The demo's simulated time runs ahead of the wall clock (600x), so a fleet's window can start hours
  // in the wall-clock future. A fleet that resolved with such a window is the sharpest case: its
  // resolution is sent with endsAt = now, before its window start. The pager must still get it.
  test('a fleet whose event time runs ahead of the wall clock still resolves at the pager', async () => {
    type LockstepAlert = { alertId: string; status: string; detectedAt: number };
    const resolved = await waitOrExplain(
      async () => {
        const { alerts } = (await (await fetch(`${lockstep!.url}/v1/alerts`)).json()) as { alerts: LockstepAlert[] };
        return alerts.find((a) => a.status === 'resolved' && a.detectedAt > Date.now() + 5 * 60_000);
      },
      60_000,
      'the demo to resolve a fleet at an event time more than 5 min after the wall clock',
    );
    const atPager = (): WebhookAlert | undefined => webhook!.alerts().find((a) => a.annotations.alert_id === resolved.alertId && a.status === 'resolved');
    await waitOrExplain(
      async () => atPager() ?? ((await lockstep!.metric('lockstep_alert_sink_retries_total{sink="alertmanager"}')) > 0 ? 'rejected' : null),
      10_000,
      `the resolution of ${resolved.alertId} at the webhook`,
    );
    expect(alertmanager!.logs().match(/.*Failed to validate alerts.*/g) ?? []).toEqual([]);
    expect(await lockstep!.metric('lockstep_alert_sink_retries_total{sink="alertmanager"}')).toBe(0);
    expect(await lockstep!.metric('lockstep_alert_sink_dropped_total{sink="alertmanager"}')).toBe(0);
    expect(atPager()?.labels).toMatchObject({ alertname: 'DistillationFleet', service: 'lockstep' });
  }, 90_000);
});
