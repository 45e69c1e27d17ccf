/**
 * A real gateway: Debian's nginx in front of a small upstream, consulting lockstep with auth_request
 * (the configuration of docs/enforcement.md). Limits come from critical alerts emitted by hand.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { systemClock } from '../../src/clock';
import { createEnforcement, type Enforcement, type EnforcementMessage, type StoredAuditEntry } from '../../src/enforce';
import { Router } from '../../src/http/router';
import { createHttpServer, listen } from '../../src/http/server';
import { Metrics } from '../../src/metrics/metrics';
import { consumeAll, startKafka, startRedis, type KafkaCluster, type RedisServer } from '../support';
import { accounts, enforcementConfig, FakeAlertSource, makeAlert, silentLog } from '../enforce/fixtures';
import { startNginx, type Nginx } from './nginx';

const TOKEN = 'gateway-test-token';
const TOPIC = 'distill.enforcement';
const auth = { authorization: `Bearer ${TOKEN}` };

let redis: RedisServer;
let kafka: KafkaCluster;
let producer: Producer;
let upstream: http.Server;
let upstreamPort: number;
/** requests that reached the upstream, per account */
const reached = new Map<string, number>();

beforeAll(async () => {
  [redis, kafka] = await Promise.all([startRedis(), startKafka({ topics: { [TOPIC]: 4 } })]);
  producer = new Kafka({ clientId: 'gateway-test', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({
    idempotent: false, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  upstream = http.createServer((req, res) => {
    const account = String(req.headers['x-account-id'] ?? '');
    reached.set(account, (reached.get(account) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`upstream ok for ${account}\n`);
  });
  upstreamPort = await listen(upstream, 0, '127.0.0.1');
});

afterAll(async () => {
  upstream?.closeAllConnections();
  await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
  await producer?.disconnect();
  await Promise.all([redis?.stop(), kafka?.stop()]);
});

interface Lockstep {
  url: string;
  alerts: FakeAlertSource;
  enforcement: Enforcement;
  nginx: Nginx;
  /** stops lockstep's HTTP server only (nginx stays) */
  stopHttp(): Promise<void>;
  stop(): Promise<void>;
}

/** lockstep's enforcement on its own HTTP server, behind a fresh nginx */
async function startGateway(enforcement: Record<string, unknown>, keyPrefix: string): Promise<Lockstep> {
  const config = enforcementConfig({ denyStatus: 403, ...enforcement }, { http: { adminToken: TOKEN }, redis: { keyPrefix } });
  const client = new Redis(redis.url, { enableAutoPipelining: true, disconnectTimeout: 50 });
  const alerts = new FakeAlertSource();
  const e = createEnforcement({ config, redis: client, producer, alerts, metrics: new Metrics({ defaultMetrics: false }), clock: systemClock, log: silentLog() });
  await e.loaded;
  const router = new Router();
  e.routes(router);
  const server = createHttpServer(router, silentLog());
  const port = await listen(server, 0, '127.0.0.1');
  let httpOpen = true;
  const stopHttp = async (): Promise<void> => {
    if (!httpOpen) return;
    httpOpen = false;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  let nginx: Nginx;
  try {
    nginx = await startNginx({ lockstepPort: port, appPort: upstreamPort });
  } catch (err) {
    await stopHttp();
    await e.stop();
    client.disconnect();
    throw err;
  }
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, alerts, enforcement: e, nginx, stopHttp,
    async stop() {
      await nginx.stop();
      await stopHttp();
      await e.stop();
      client.disconnect();
    },
  };
}

/** one request through nginx as `account` */
async function call(gw: Lockstep, account: string, init: RequestInit = {}): Promise<{ status: number; retryAfter: string | null; body: string }> {
  const r = await fetch(`${gw.nginx.url}/v1/chat/completions`, { method: 'POST', body: '{"prompt":"hi"}', ...init, headers: { 'content-type': 'application/json', 'x-account-id': account, ...(init.headers as Record<string, string> | undefined) } });
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() };
}

async function statuses(gw: Lockstep, account: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call(gw, account)).status);
  return out;
}

async function topicMessages(alertId: string): Promise<EnforcementMessage[]> {
  const all = await consumeAll(kafka.brokers, TOPIC, { timeoutMs: 20_000 });
  return all.map((m) => JSON.parse(m.value!.toString()) as EnforcementMessage).filter((m) => m.alertId === alertId);
}

describe('nginx auth_request in front of lockstep', () => {
  describe('with enforcement on', () => {
    let gw: Lockstep;
    beforeAll(async () => {
      gw = await startGateway({ enabled: true, limitRpm: 3 }, 'gw-on');
    });
    afterAll(() => gw?.stop());

    it('limits the fleet\'s accounts at the gateway, leaves a benign account untouched, and a release restores an account', async () => {
      // before the alert: everyone passes
      expect(await statuses(gw, 'fleet-0', 5)).toEqual([200, 200, 200, 200, 200]);

      const alert = makeAlert(accounts('fleet', 4), { alertId: 'campaign-1', fleetId: 'fleet-ip-1' });
      gw.alerts.emit(alert);
      await gw.enforcement.enforcer.idle();

      // limitRpm 3: a burst of 3, then 429 with Retry-After (60 s / 3 per token)
      const before = reached.get('fleet-0') ?? 0;
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await call(gw, 'fleet-0'));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
      expect(results[0].body).toBe('upstream ok for fleet-0\n');
      expect(results[3].retryAfter).toBe('20');
      expect(JSON.parse(results[3].body)).toEqual({ error: { code: 'rate_limited', message: 'too many requests' } });
      expect(reached.get('fleet-0')).toBe(before + 3);
      expect(await statuses(gw, 'fleet-3', 4)).toEqual([200, 200, 200, 429]);

      // a benign account is never slowed down
      const benignBefore = reached.get('customer-1') ?? 0;
      expect(new Set(await statuses(gw, 'customer-1', 25))).toEqual(new Set([200]));
      expect(reached.get('customer-1')).toBe(benignBefore + 25);

      // without the token: 401 and nothing changes
      const refused = await fetch(`${gw.url}/v1/limits/fleet-0`, { method: 'DELETE' });
      expect(refused.status).toBe(401);
      const wrong = await fetch(`${gw.url}/v1/limits/fleet-0`, { method: 'DELETE', headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      expect((await call(gw, 'fleet-0')).status).toBe(429);
      expect(((await (await fetch(`${gw.url}/v1/limits/fleet-0`)).json()) as { limited: boolean }).limited).toBe(true);

      // with the token the account is restored at the gateway at once; the others stay limited
      const released = await fetch(`${gw.url}/v1/limits/fleet-0`, { method: 'DELETE', headers: { ...auth, 'content-type': 'application/json' }, body: '{"reason":"customer ticket 7"}' });
      expect(released.status).toBe(200);
      expect(await statuses(gw, 'fleet-0', 6)).toEqual([200, 200, 200, 200, 200, 200]);
      expect((await call(gw, 'fleet-3')).status).toBe(429);
      expect(await (await fetch(`${gw.url}/v1/limits/fleet-0`)).json()).toMatchObject({ accountId: 'fleet-0', limited: false, limitRpm: null });

      // the decisions on the topic and in the audit trail
      const messages = await topicMessages('campaign-1');
      expect(messages.filter((m) => m.action === 'limit').map((m) => m.accountId).sort()).toEqual(['fleet-0', 'fleet-1', 'fleet-2', 'fleet-3']);
      expect(messages.every((m) => m.dryRun === false && m.fleetId === 'fleet-ip-1')).toBe(true);
      expect(messages.find((m) => m.action === 'release')).toMatchObject({ accountId: 'fleet-0', limitRpm: null, reason: 'released (admin): manual release: customer ticket 7' });
      const audit = ((await (await fetch(`${gw.url}/v1/audit?limit=50`, { headers: auth })).json()) as { entries: StoredAuditEntry[] }).entries;
      expect(audit.map((e) => `${e.action}:${e.accountId}:${e.actor}`)).toEqual([
        'release:fleet-0:admin', 'limit:fleet-3:lockstep', 'limit:fleet-2:lockstep', 'limit:fleet-1:lockstep', 'limit:fleet-0:lockstep',
      ]);
    });

    it('releasing the whole alert restores all its accounts', async () => {
      const r = await fetch(`${gw.url}/v1/alerts/campaign-1/limits`, { method: 'DELETE', headers: auth });
      expect(await r.json()).toEqual({ alertId: 'campaign-1', released: ['fleet-1', 'fleet-2', 'fleet-3'] });
      expect(await statuses(gw, 'fleet-3', 5)).toEqual([200, 200, 200, 200, 200]);
    });

    it('fails open when lockstep is unreachable', async () => {
      gw.alerts.emit(makeAlert(['late-0'], { alertId: 'campaign-2' }));
      await gw.enforcement.enforcer.idle();
      expect(await statuses(gw, 'late-0', 4)).toEqual([200, 200, 200, 429]);
      await gw.stopHttp();
      const before = reached.get('late-0') ?? 0;
      expect(await statuses(gw, 'late-0', 3)).toEqual([200, 200, 200]);
      expect(reached.get('late-0')).toBe(before + 3);
    });
  });

  describe('in dry run', () => {
    let gw: Lockstep;
    beforeAll(async () => {
      gw = await startGateway({ enabled: false, limitRpm: 2 }, 'gw-dry');
    });
    afterAll(() => gw?.stop());

    it('denies nothing, and the decisions still appear on the topic and in the audit trail', async () => {
      gw.alerts.emit(makeAlert(accounts('dry', 3), { alertId: 'campaign-dry', fleetId: 'fleet-dry' }));
      await gw.enforcement.enforcer.idle();
      expect(new Set(await statuses(gw, 'dry-0', 10))).toEqual(new Set([200]));
      expect(reached.get('dry-0')).toBe(10);
      expect(await (await fetch(`${gw.url}/v1/limits/dry-0`)).json()).toMatchObject({ accountId: 'dry-0', limited: false, dryRun: true, limitRpm: 2, alertId: 'campaign-dry' });

      const messages = await topicMessages('campaign-dry');
      expect(messages.map((m) => m.accountId).sort()).toEqual(['dry-0', 'dry-1', 'dry-2']);
      expect(messages.every((m) => m.action === 'limit' && m.dryRun === true && m.limitRpm === 2)).toBe(true);
      const audit = ((await (await fetch(`${gw.url}/v1/audit`, { headers: auth })).json()) as { entries: StoredAuditEntry[] }).entries;
      expect(audit).toHaveLength(3);
      expect(audit.every((e) => e.action === 'limit' && e.dryRun === true && e.alertId === 'campaign-dry')).toBe(true);
    });
  });
});

