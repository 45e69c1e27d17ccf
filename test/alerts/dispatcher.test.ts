import { AlertDispatcher, alertmanagerPayload, type AlertSink } from '../../src/alerts/dispatcher';
import type { Alert } from '../../src/alerts/alert';
import { Metrics } from '../../src/metrics/metrics';
import { createLogger } from '../../src/log';

const log = createLogger('silent');

function alert(id: string, status: Alert['status'] = 'firing'): Alert {
  return {
    alertId: id, status, fleetId: 'fl_x', link: { type: 'payment', value: 'pm_1' }, links: [{ type: 'payment', value: 'pm_1' }, { type: 'ip_prefix', value: '203.0.113.0/24' }],
    accountCount: 2, accounts: ['a', 'b'], targetedCapabilities: ['coding'], capabilityShare: { coding: 1 }, score: 0.9, severity: 'critical',
    windowStart: Date.UTC(2026, 0, 1), windowEnd: Date.UTC(2026, 0, 1, 1), detectedAt: Date.UTC(2026, 0, 1, 1),
    evidence: {
      scale: '1m', burst: { score: 1, observed: 10, expected: 1, pValue: 0, populationRatio: 5 }, synchrony: { score: 1, chi: 1, meanPairwiseCorrelation: 1, sampledMembers: 2 },
      targeting: { score: 1, jsDivergence: 0.5, highValueShare: 1, populationHighValueShare: 0.4 }, size: { score: 1, accounts: 2, youngAccounts: 2, youngShare: 1, requests: 10 }, linkRarity: 1, reason: '2 accounts sharing payment pm_1',
    },
    url: 'https://lockstep.example/alerts/' + id,
  };
}

async function counter(m: Metrics, name: 'alertSinkDroppedTotal' | 'alertSinkRetriesTotal' | 'alertSinkDeliveredTotal', sink: string): Promise<number> {
  return (await m[name].get()).values.find((v) => v.labels.sink === sink)?.value ?? 0;
}

describe('AlertDispatcher', () => {
  it('retries a failing sink with backoff and delivers, without holding up a healthy sink', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const waits: number[] = [];
    let failures = 2;
    const flaky: AlertSink = { name: 'flaky', deliver: async () => { if (failures-- > 0) throw new Error('503'); } };
    const got: string[] = [];
    const good: AlertSink = { name: 'good', deliver: async (a) => { got.push(a.alertId); } };
    const d = new AlertDispatcher([flaky, good], { queueSize: 10, maxAttempts: 5, retryBaseMs: 100 }, metrics, log, async (ms) => { waits.push(ms); });
    d.dispatch(alert('a1'));
    await d.idle();
    expect(got).toEqual(['a1']);
    expect(waits).toEqual([100, 200]);
    expect(await counter(metrics, 'alertSinkRetriesTotal', 'flaky')).toBe(2);
    expect(await counter(metrics, 'alertSinkDeliveredTotal', 'flaky')).toBe(1);
  });

  it('drops and counts what exhausts its retries or does not fit the queue', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const down: AlertSink = { name: 'down', deliver: async () => { await gate; throw new Error('connection refused'); } };
    const d = new AlertDispatcher([down], { queueSize: 2, maxAttempts: 2, retryBaseMs: 1 }, metrics, log, async () => undefined);
    expect(await counter(metrics, 'alertSinkDroppedTotal', 'down')).toBe(0);
    d.dispatch(alert('a1'));
    d.dispatch(alert('a2'));
    d.dispatch(alert('a3')); // queue full: dropped at once, dispatch did not block
    expect(await counter(metrics, 'alertSinkDroppedTotal', 'down')).toBe(1);
    release();
    await d.idle();
    expect(await counter(metrics, 'alertSinkDroppedTotal', 'down')).toBe(3);
  });
});

describe('AlertDispatcher: when a message is done', () => {
  it('settles dispatch() once every sink delivered the message or gave it up, never before', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: AlertSink = { name: 'slow', deliver: () => gate };
    const down: AlertSink = { name: 'down', deliver: async () => { throw new Error('connection refused'); } };
    const d = new AlertDispatcher([slow, down], { queueSize: 10, maxAttempts: 2, retryBaseMs: 1 }, metrics, log, async () => undefined);
    let settled = false;
    const done = d.dispatch(alert('a1')).then(() => (settled = true));
    // the failing sink gives up at once (its retries do not sleep here); the slow one still holds the message
    await new Promise((r) => setTimeout(r, 20));
    expect(await counter(metrics, 'alertSinkDroppedTotal', 'down')).toBe(1);
    expect(settled).toBe(false);
    release();
    await done;
    expect(settled).toBe(true);
  });

  it('settles at once for a sink whose queue is full (the message is dropped there)', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const stuck: AlertSink = { name: 'stuck', deliver: () => new Promise<void>(() => undefined) };
    const d = new AlertDispatcher([stuck], { queueSize: 1, maxAttempts: 1, retryBaseMs: 1 }, metrics, log);
    void d.dispatch(alert('a1'));
    await expect(d.dispatch(alert('a2'))).resolves.toBeUndefined();
    expect(await counter(metrics, 'alertSinkDroppedTotal', 'stuck')).toBe(1);
  });
});

describe('alertmanagerPayload', () => {
  it('carries the labels and annotations on-call needs, and ends resolved alerts', () => {
    const now = Date.UTC(2026, 0, 1, 2);
    const [firing] = alertmanagerPayload(alert('a1'), { runbookUrl: 'https://x/README.md#runbook', now, resendMs: 60_000 }) as Record<string, Record<string, string>>[];
    expect(firing.labels).toEqual({ alertname: 'DistillationFleet', severity: 'critical', fleet: 'fl_x', link_type: 'payment', alert_id: 'a1', service: 'lockstep' });
    expect(firing.annotations.summary).toContain('2 accounts via payment pm_1');
    expect(firing.annotations.description).toContain('ip_prefix=203.0.113.0/24');
    expect(firing.annotations.runbook_url).toBe('https://x/README.md#runbook');
    expect(firing.annotations.evidence_url).toBe('https://lockstep.example/alerts/a1');
    expect(Date.parse(firing.endsAt as unknown as string)).toBeGreaterThan(now);
    const [resolved] = alertmanagerPayload(alert('a1', 'resolved'), { runbookUrl: '', now, resendMs: 60_000 }) as Record<string, unknown>[];
    expect(resolved.endsAt).toBe(new Date(now).toISOString());
  });

  it('makes each episode of a fleet its own Alertmanager alert, so one\'s resolution is not overridden by the next one firing', () => {
    const now = Date.UTC(2026, 0, 1, 2);
    const labelsOf = (a: ReturnType<typeof alert>): Record<string, string> => (alertmanagerPayload(a, { runbookUrl: '', now, resendMs: 60_000 }) as { labels: Record<string, string> }[])[0].labels;
    const first = labelsOf(alert('a1', 'resolved'));
    const second = labelsOf(alert('a2'));
    expect(first.fleet).toBe(second.fleet);
    expect(first).not.toEqual(second);
    // re-emits of one episode keep its labels
    expect(labelsOf({ ...alert('a1'), accountCount: 9 })).toEqual(labelsOf(alert('a1')));
  });

  it('never starts after it ends, even when event time runs ahead of the clock', () => {
    const now = Date.UTC(2026, 0, 1, 0, 30);
    const ahead = { ...alert('a2', 'resolved'), windowStart: now + 3_600_000 };
    const [p] = alertmanagerPayload(ahead, { runbookUrl: '', now, resendMs: 60_000 }) as { startsAt: string; endsAt: string }[];
    expect(Date.parse(p.startsAt)).toBeLessThanOrEqual(Date.parse(p.endsAt));
  });

  it('labels the link type that opened the episode, stable while the strongest link changes', () => {
    const now = Date.UTC(2026, 0, 1, 2);
    const a = { ...alert('a3'), fleetId: 'fl_ip_prefix_0123abcd', link: { type: 'asn' as const, value: '64500' } };
    const [p] = alertmanagerPayload(a, { runbookUrl: '', now, resendMs: 60_000 }) as { labels: Record<string, string> }[];
    expect(p.labels.link_type).toBe('ip_prefix');
  });
});
