import type { Alert } from '../../src/alerts/alert';
import { generateEvents, labelsOf } from '../../src/sim/generate';
import { startRedis, type RedisServer } from '../support/redis';
import { consumeAll, produce, startKafka, type KafkaCluster } from '../support/kafka';
import { serviceEnv } from '../support/ground-truth';
import { startLockstep } from '../support/lockstep';
import { waitFor } from '../support/wait';
import { fleetScenario } from './fleet-scenario';

/**
 * Issue #3's integration check, through Kafka and Redis: three synthetic fleets (shared IP;
 * rotated IPs with a shared prompt template; behaviour only) among benign look-alikes (a
 * university NAT, an agent framework's user agent shared by many independent users, a global
 * surge, heavy developers in the log-normal tail) must raise the right alerts with the right
 * members, and the benign patterns no critical alert.
 */
const scenario = fleetScenario();

describe('detector end to end: Kafka -> lockstep run (Redis) -> alert topic', () => {
  let kafka: KafkaCluster;
  let redis: RedisServer;
  const labels = labelsOf(scenario, 7);
  const events = [...generateEvents(scenario, 7)];

  beforeAll(async () => {
    [kafka, redis] = await Promise.all([startKafka({ topics: { 'llm.requests': 8, 'distill.alerts': 4 } }), startRedis()]);
    await produce(kafka.brokers, 'llm.requests', events.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })), { batchSize: 10_000 });
  });
  afterAll(async () => {
    await Promise.all([kafka?.stop(), redis?.stop()]);
  });

  it('alerts on each fleet with its members, and pages on no benign pattern', async () => {
    const svc = await startLockstep(serviceEnv(kafka, redis, { KAFKA_GROUP_ID: 'lockstep-detect-e2e', PUBLIC_URL: 'http://lockstep.test' }));
    try {
      await waitFor(async () => (await svc.metric('lockstep_events_total{result="ok"}')) === events.length, { timeoutMs: 90_000, intervalMs: 500, what: 'all events ingested' });
      // the detector judges every tick of the backlog; wait for the last one
      // every counted event flushed to Redis, so the watermark is the final one
      await waitFor(async () => (await svc.metric('lockstep_batch_events_sum')) >= events.length, { timeoutMs: 30_000, what: 'the last flush' });
      const lastTick = Math.floor((await svc.metric('lockstep_watermark_seconds')) / 60) * 60;
      expect(lastTick).toBeGreaterThan(Math.floor(Math.max(...events.map((e) => e.ts)) / 1000) - 600);
      await waitFor(async () => (await svc.metric('lockstep_detector_evaluated_seconds')) >= lastTick, { timeoutMs: 60_000, intervalMs: 500, what: 'the detector to reach the end of the stream' });
      await new Promise((r) => setTimeout(r, 1000));
      const api = (await (await fetch(`${svc.url}/v1/alerts`)).json()) as { alerts: Alert[] };
      const messages = (await consumeAll(kafka.brokers, 'distill.alerts', { timeoutMs: 20_000 })).map((m) => JSON.parse(String(m.value)) as Alert);
      expect(messages.length).toBeGreaterThan(0);
      // each message on the topic is keyed by its fleet and carries its evidence page
      expect(messages.every((m) => m.url === `http://lockstep.test/alerts/${m.alertId}` && m.evidence.reason.length > 0)).toBe(true);

      const firing = new Map<string, Set<string>>();
      for (const m of messages) if (m.status === 'firing') for (const a of m.accounts) (firing.get(m.alertId) ?? firing.set(m.alertId, new Set()).get(m.alertId)!).add(a);
      const groupOf = (acct: string): string => labels.accounts[acct]?.group ?? 'benign';
      for (const campaign of ['shared-ip', 'rotated-template', 'behavior']) {
        const members = Object.entries(labels.accounts).filter(([, l]) => l.group === campaign).map(([a]) => a);
        const covered = new Set<string>();
        for (const accts of firing.values()) {
          // an alert that names this campaign and is mostly campaign accounts (two fleets that
          // behave alike may share one alert: both are campaigns)
          const campaignAccounts = [...accts].filter((a) => labels.accounts[a]?.label === 'campaign').length;
          if (campaignAccounts / accts.size >= 0.8) for (const a of accts) if (groupOf(a) === campaign) covered.add(a);
        }
        // caught, as the eval counts it: alerts cover at least half of the campaign's accounts
        expect({ campaign, coverage: covered.size / members.length >= 0.5 }).toEqual({ campaign, coverage: true });
      }
      // no critical alert is mostly benign or confounder accounts
      const critical = messages.filter((m) => m.status === 'firing' && m.severity === 'critical');
      for (const m of critical) {
        const campaignShare = m.accounts.filter((a) => labels.accounts[a]?.label === 'campaign').length / m.accounts.length;
        expect({ alertId: m.alertId, link: m.link, campaignShare: campaignShare >= 0.5 }).toEqual({ alertId: m.alertId, link: m.link, campaignShare: true });
      }
      // the HTTP API lists the same alerts
      expect(new Set(api.alerts.map((a) => a.alertId))).toEqual(new Set(messages.map((m) => m.alertId)));
      expect(await svc.metric('lockstep_alerts_total{severity="critical"}')).toBeGreaterThan(0);
    } finally {
      await svc.stop();
    }
  });
});
