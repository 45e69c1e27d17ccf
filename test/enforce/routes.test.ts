import type * as nodeHttp from 'node:http';
import Redis from 'ioredis';
import { ManualClock } from '../../src/clock';
import { createEnforcement, type Enforcement, type StoredAuditEntry } from '../../src/enforce';
import { Router } from '../../src/http/router';
import { createHttpServer, listen } from '../../src/http/server';
import { Metrics } from '../../src/metrics/metrics';
import { startRedis, type RedisServer } from '../support';
import { accounts, enforcementConfig, FakeAlertSource, makeAlert, silentLog } from './fixtures';

type AuditPage = { entries: StoredAuditEntry[]; next: string | null };

const TOKEN = 's3cret-token';

interface App {
  url: string;
  enforcement: Enforcement;
  alerts: FakeAlertSource;
  clock: ManualClock;
  metrics: Metrics;
  close(): Promise<void>;
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

async function app(enforcement: Record<string, unknown>, opts: { token?: string; embedded?: boolean; server?: RedisServer } = {}): Promise<App> {
  const server = opts.server ?? redis;
  // a dedicated server is fresh; flushing it would leave a harness client behind when it is killed
  if (opts.server === undefined) await redis.flushAll();
  const config = enforcementConfig(enforcement, { http: { adminToken: opts.token ?? TOKEN, maxBodyBytes: 256 } });
  const alerts = new FakeAlertSource();
  const clock = new ManualClock(Date.now());
  const metrics = new Metrics({ defaultMetrics: false });
  const client = opts.embedded ? null : new Redis(server.url, { enableAutoPipelining: true, maxRetriesPerRequest: 0, retryStrategy: () => 100, disconnectTimeout: 50 });
  const e = createEnforcement({ config, redis: client, producer: null, alerts, metrics, clock, log: silentLog() });
  await e.loaded;
  const router = new Router();
  e.routes(router);
  const http: nodeHttp.Server = createHttpServer(router, silentLog());
  const port = await listen(http, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`, enforcement: e, alerts, clock, metrics,
    async close() {
      await e.stop();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      client?.disconnect();
    },
  };
}

async function fireAndWait(a: App, alert = makeAlert(accounts('bot', 3))): Promise<void> {
  a.alerts.emit(alert);
  await a.enforcement.enforcer.idle();
}

const auth = { authorization: `Bearer ${TOKEN}` };
const check = (a: App, account: string | null, headers: Record<string, string> = {}, path = '/v1/check', method = 'GET') =>
  fetch(`${a.url}${path}`, { method, headers: { ...(account === null ? {} : { 'x-account-id': account }), ...headers } });

async function sample(m: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const got = await m.registry.getSingleMetric(name)!.get();
  return got.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

describe.each([
  ['redis', false],
  ['embedded', true],
])('enforcement HTTP (%s)', (_name, embedded) => {
  let a: App;
  afterEach(() => a.close());

  it('the check denies a limited account past its rate with denyStatus and Retry-After; others pass', async () => {
    a = await app({ enabled: true, limitRpm: 2 }, { embedded });
    await fireAndWait(a);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await check(a, 'bot-0')).status);
    expect(statuses).toEqual([200, 200, 429]);
    const denied = await check(a, 'bot-0', {}, '/v1/check', 'POST');
    expect(denied.status).toBe(429);
    expect(denied.headers.get('retry-after')).toBe('30');
    expect(await denied.json()).toEqual({ error: { code: 'rate_limited', message: 'account is rate limited by lockstep' } });
    for (let i = 0; i < 5; i++) expect((await check(a, 'customer-1')).status).toBe(200);
    expect((await check(a, null)).status).toBe(200);
    // Envoy ext_authz appends the client's path to the prefix
    expect((await check(a, 'bot-0', {}, '/v1/check/v1/chat/completions', 'POST')).status).toBe(429);
    expect((await check(a, 'customer-1', {}, '/v1/check/v1/chat/completions', 'POST')).status).toBe(200);
    a.clock.advance(30_000);
    expect((await check(a, 'bot-0')).status).toBe(200);
    expect(await sample(a.metrics, 'lockstep_check_decisions_total', { decision: 'deny' })).toBe(3);
  });

  it('a capability-scoped limit applies to its capabilities only', async () => {
    a = await app({ enabled: true, limitRpm: 1, capabilitiesOnly: true }, { embedded });
    await fireAndWait(a);
    expect((await check(a, 'bot-0', { 'x-capability': 'coding' })).status).toBe(200);
    expect((await check(a, 'bot-0', { 'x-capability': 'coding' })).status).toBe(429);
    expect((await check(a, 'bot-0', { 'x-capability': 'chat' })).status).toBe(200);
    expect((await check(a, 'bot-0')).status).toBe(429); // no capability header: counted
  });

  it('in dry run nothing is denied, but would-be denials are counted', async () => {
    a = await app({ limitRpm: 1 }, { embedded });
    await fireAndWait(a);
    for (let i = 0; i < 4; i++) expect((await check(a, 'bot-0')).status).toBe(200);
    expect(await sample(a.metrics, 'lockstep_check_decisions_total', { decision: 'dry_run_deny' })).toBe(3);
    const view = await (await fetch(`${a.url}/v1/limits/bot-0`)).json();
    expect(view).toMatchObject({ accountId: 'bot-0', limited: false, dryRun: true, limitRpm: 1, alertId: 'alert-1' });
  });

  it('GET /v1/limits/{accountId} serves the limit in the documented shape', async () => {
    a = await app({ enabled: true, limitRpm: 7 }, { embedded });
    await fireAndWait(a);
    const view = (await (await fetch(`${a.url}/v1/limits/bot-1`)).json()) as Record<string, unknown>;
    expect(Object.keys(view).sort()).toEqual(['accountId', 'alertId', 'capabilities', 'dryRun', 'expiresAt', 'limitRpm', 'limited', 'reason'].sort());
    expect(view).toMatchObject({ accountId: 'bot-1', limited: true, limitRpm: 7, capabilities: [], alertId: 'alert-1', dryRun: false, expiresAt: a.clock.now() + 3_600_000 });
    expect(await (await fetch(`${a.url}/v1/limits/customer-1`)).json()).toEqual({
      accountId: 'customer-1', limited: false, limitRpm: null, capabilities: [], reason: null, alertId: null, expiresAt: null, dryRun: false,
    });
  });

  it('admin endpoints answer 401 without the right token and change nothing', async () => {
    a = await app({ enabled: true, limitRpm: 1 }, { embedded });
    await fireAndWait(a);
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
      const r1 = await fetch(`${a.url}/v1/limits/bot-0`, { method: 'DELETE', headers });
      expect(r1.status).toBe(401);
      expect(r1.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await fetch(`${a.url}/v1/alerts/alert-1/limits`, { method: 'DELETE', headers })).status).toBe(401);
      expect((await fetch(`${a.url}/v1/audit`, { headers })).status).toBe(401);
      expect((await fetch(`${a.url}/v1/limits`, { headers })).status).toBe(401);
    }
    expect(((await (await fetch(`${a.url}/v1/limits/bot-0`)).json()) as { limited: boolean }).limited).toBe(true);
    expect((await a.enforcement.store.listActive())).toHaveLength(3);
    expect((await a.enforcement.store.readAudit(100)).filter((e) => e.action === 'release')).toEqual([]);
  });

  it('with no admin token configured every admin request is refused', async () => {
    a = await app({ enabled: true }, { embedded, token: '' });
    await fireAndWait(a);
    expect((await fetch(`${a.url}/v1/limits/bot-0`, { method: 'DELETE', headers: { authorization: 'Bearer ' } })).status).toBe(401);
    expect((await fetch(`${a.url}/v1/limits/bot-0`, { method: 'DELETE', headers: { authorization: 'Bearer x' } })).status).toBe(401);
    expect((await a.enforcement.store.listActive())).toHaveLength(3);
  });

  it('manual release of an account and of an alert, audited with the reason', async () => {
    a = await app({ enabled: true, limitRpm: 1 }, { embedded });
    await fireAndWait(a);
    await check(a, 'bot-0');
    expect((await check(a, 'bot-0')).status).toBe(429);
    const r = await fetch(`${a.url}/v1/limits/bot-0`, { method: 'DELETE', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'ticket 42' }) });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ accountId: 'bot-0', released: true, limit: { accountId: 'bot-0', limitRpm: 1 } });
    expect((await check(a, 'bot-0')).status).toBe(200);
    expect((await fetch(`${a.url}/v1/limits/bot-0`, { method: 'DELETE', headers: auth })).status).toBe(404);

    const all = await fetch(`${a.url}/v1/alerts/alert-1/limits`, { method: 'DELETE', headers: auth });
    expect(await all.json()).toEqual({ alertId: 'alert-1', released: ['bot-1', 'bot-2'] });
    expect((await (await fetch(`${a.url}/v1/limits`, { headers: auth })).json())).toEqual({ limits: [] });

    const audit = (await (await fetch(`${a.url}/v1/audit?limit=2`, { headers: auth })).json()) as AuditPage;
    expect(audit.entries).toHaveLength(2);
    expect(audit.entries.every((e) => e.action === 'release' && e.actor === 'admin')).toBe(true);
    const rest = (await (await fetch(`${a.url}/v1/audit?limit=100&before=${audit.next}`, { headers: auth })).json()) as AuditPage;
    expect(rest.next).toBeNull();
    expect(rest.entries.map((e) => `${e.action}:${e.accountId}`)).toEqual(['release:bot-0', 'limit:bot-2', 'limit:bot-1', 'limit:bot-0']);
    expect(rest.entries[0]).toMatchObject({ actor: 'admin', reason: 'released (admin): manual release: ticket 42', alertId: 'alert-1' });
  });

  it('release bodies are bounded and checked', async () => {
    a = await app({ enabled: true }, { embedded });
    await fireAndWait(a);
    const big = await fetch(`${a.url}/v1/limits/bot-0`, { method: 'DELETE', headers: auth, body: JSON.stringify({ reason: 'x'.repeat(1000) }) });
    expect(big.status).toBe(413);
    expect((await fetch(`${a.url}/v1/limits/bot-0`, { method: 'DELETE', headers: auth, body: '{nope' })).status).toBe(400);
    expect((await fetch(`${a.url}/v1/audit?limit=0`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${a.url}/v1/audit?before=x`, { headers: auth })).status).toBe(400);
    expect((await a.enforcement.store.listActive())).toHaveLength(3);
  });
});

describe('a denied account', () => {
  it('is denied from memory until its bucket refills: no Redis call per denied request', async () => {
    const a = await app({ enabled: true, limitRpm: 2 });
    const stats = new Redis(redis.url);
    const scriptCalls = async (): Promise<number> => {
      const info = await stats.info('commandstats');
      return [...info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    };
    try {
      await fireAndWait(a);
      expect(await statuses(a, 'bot-0', 3)).toEqual([200, 200, 429]);
      const before = await scriptCalls();
      const denied = await statuses(a, 'bot-0', 20);
      expect(new Set(denied)).toEqual(new Set([429]));
      expect(await scriptCalls()).toBe(before);
      a.clock.advance(29_999);
      const last = await check(a, 'bot-0');
      expect(last.status).toBe(429);
      expect(last.headers.get('retry-after')).toBe('1');
      a.clock.advance(1);
      expect((await check(a, 'bot-0')).status).toBe(200);
      expect(await scriptCalls()).toBe(before + 1);
    } finally {
      stats.disconnect();
      await a.close();
    }
  });
});

async function statuses(a: App, account: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await check(a, account)).status);
  return out;
}

describe('when Redis is down', () => {
  let a: App;
  let doomed: RedisServer;
  beforeEach(async () => {
    doomed = await startRedis();
  });
  afterEach(async () => {
    await a.close();
    await doomed.stop();
  });

  it('the check fails open by default, and a not-limited account never needs Redis', async () => {
    a = await app({ enabled: true, limitRpm: 1 }, { server: doomed });
    await fireAndWait(a);
    await doomed.kill();
    expect((await check(a, 'customer-1')).status).toBe(200);
    expect((await check(a, 'bot-0')).status).toBe(200);
    expect(await sample(a.metrics, 'lockstep_check_decisions_total', { decision: 'error' })).toBe(1);
  });

  it('fails closed (503) when failOpen is off', async () => {
    a = await app({ enabled: true, limitRpm: 1, failOpen: false }, { server: doomed });
    await fireAndWait(a);
    await doomed.kill();
    expect((await check(a, 'bot-0')).status).toBe(503);
    expect((await check(a, 'customer-1')).status).toBe(200);
  });
});

describe('limits set by another instance', () => {
  it('reach this instance\'s check within the cache refresh interval', async () => {
    const a = await app({ enabled: true, limitRpm: 1, cacheRefreshMs: 100 });
    const b = await app({ enabled: true, limitRpm: 1, cacheRefreshMs: 100 });
    try {
      await fireAndWait(a);
      await new Promise((r) => setTimeout(r, 300));
      await check(b, 'bot-0');
      expect((await check(b, 'bot-0')).status).toBe(429);
      await fetch(`${a.url}/v1/limits/bot-0`, { method: 'DELETE', headers: auth });
      await new Promise((r) => setTimeout(r, 300));
      expect((await check(b, 'bot-0')).status).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
