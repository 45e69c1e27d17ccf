import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { EnforcementKeys } from '../../src/enforce/keys';
import type { LimitRecord } from '../../src/enforce/limit';
import { MemoryLimitStore } from '../../src/enforce/memory-store';
import { RedisLimitStore } from '../../src/enforce/redis-store';
import { ScriptStatus } from '../../src/enforce/status';
import type { ApplyLimitRequest, LimitStore } from '../../src/enforce/store';
import { startRedis, startRedisCluster, type RedisClusterServer, type RedisServer } from '../support';

const HOUR = 3_600_000;
// Redis expires the limit keys in its own wall-clock time: test time starts at the real now
const T0 = Math.floor(Date.now() / 1000) * 1000;

function limit(accountId: string, over: Partial<LimitRecord> = {}): LimitRecord {
  return {
    accountId, limitRpm: 3, capabilities: ['coding'], reason: 'test', alertId: 'a1', fleetId: 'f1',
    level: 0, levelSince: T0, createdAt: T0, expiresAt: T0 + HOUR, dryRun: false, ...over,
  };
}

function req(record: LimitRecord, over: Partial<ApplyLimitRequest> = {}): ApplyLimitRequest {
  return { record, now: T0, capPerAlert: 100, capPerHour: 100, alertStateTtlMs: 24 * HOUR, ...over };
}

interface Backend {
  name: string;
  setup(): Promise<void>;
  make(): Promise<LimitStore>;
  teardown(): Promise<void>;
  raw?: () => Redis | Cluster;
}

let redis: RedisServer;
let cluster: RedisClusterServer;
let prefixSeq = 0;

const backends: Backend[] = [
  { name: 'memory', setup: async () => undefined, make: async () => new MemoryLimitStore(), teardown: async () => undefined },
  {
    name: 'redis',
    setup: async () => { redis = await startRedis(); },
    make: async () => new RedisLimitStore(redis.client({ enableAutoPipelining: true }), new EnforcementKeys(`t${prefixSeq++}`)),
    teardown: async () => redis.stop(),
  },
  {
    name: 'redis cluster',
    setup: async () => { cluster = await startRedisCluster(); },
    make: async () => new RedisLimitStore(cluster.client(), new EnforcementKeys(`t${prefixSeq++}`)),
    teardown: async () => cluster.stop(),
  },
];

describe.each(backends)('LimitStore on $name', (backend) => {
  let store: LimitStore;
  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  beforeEach(async () => {
    store = await backend.make();
  });

  it('writes a limit that is read back, listed, and moves the version', async () => {
    const v0 = await store.version();
    expect(await store.applyLimit(req(limit('acc-1')))).toBe(ScriptStatus.Created);
    expect(await store.get('acc-1', T0)).toEqual(limit('acc-1'));
    expect(await store.get('acc-2', T0)).toBeNull();
    expect(await store.listActive()).toEqual([limit('acc-1')]);
    expect(await store.version()).not.toBe(v0);
    expect(await store.get('acc-1', T0 + HOUR)).toBeNull(); // expired at expiresAt
  });

  it('replacing a live limit is an update, not counted again against the hourly cap', async () => {
    const capped = { capPerHour: 1 };
    expect(await store.applyLimit(req(limit('acc-1'), capped))).toBe(ScriptStatus.Created);
    expect(await store.applyLimit(req(limit('acc-1', { limitRpm: 1, level: 1 }), capped))).toBe(ScriptStatus.Updated);
    expect((await store.get('acc-1', T0))?.limitRpm).toBe(1);
    expect(await store.applyLimit(req(limit('acc-2'), capped))).toBe(ScriptStatus.CapPerHour);
    expect(await store.get('acc-2', T0)).toBeNull();
  });

  it('the per-alert cap counts distinct accounts of one alert; other alerts are not affected', async () => {
    const capped = { capPerAlert: 2 };
    expect(await store.applyLimit(req(limit('acc-1'), capped))).toBe(ScriptStatus.Created);
    expect(await store.applyLimit(req(limit('acc-2'), capped))).toBe(ScriptStatus.Created);
    expect(await store.applyLimit(req(limit('acc-3'), capped))).toBe(ScriptStatus.CapPerAlert);
    expect(await store.applyLimit(req(limit('acc-2', { limitRpm: 2 }), capped))).toBe(ScriptStatus.Updated);
    expect(await store.applyLimit(req(limit('acc-3', { alertId: 'a2' }), capped))).toBe(ScriptStatus.Created);
    expect((await store.accountsOfAlert('a1')).sort()).toEqual(['acc-1', 'acc-2']);
  });

  it('the hourly cap is a sliding hour', async () => {
    const capped = { capPerHour: 2 };
    await store.applyLimit(req(limit('acc-1'), capped));
    await store.applyLimit(req(limit('acc-2'), { ...capped, now: T0 + HOUR / 2 }));
    expect(await store.applyLimit(req(limit('acc-3'), { ...capped, now: T0 + HOUR - 1 }))).toBe(ScriptStatus.CapPerHour);
    // the first limit left the window
    expect(await store.applyLimit(req(limit('acc-3', { expiresAt: T0 + 2 * HOUR }), { ...capped, now: T0 + HOUR }))).toBe(ScriptStatus.Created);
    expect(await store.applyLimit(req(limit('acc-4', { expiresAt: T0 + 2 * HOUR }), { ...capped, now: T0 + HOUR }))).toBe(ScriptStatus.CapPerHour);
  });

  it('a human release is final for that alert, not for another', async () => {
    await store.applyLimit(req(limit('acc-1')));
    const r = await store.release('acc-1', 'a1', true, 24 * HOUR);
    expect(r.status).toBe(ScriptStatus.Released);
    expect(r.record?.accountId).toBe('acc-1');
    expect(await store.get('acc-1', T0)).toBeNull();
    expect(await store.accountsOfAlert('a1')).toEqual([]);
    expect(await store.applyLimit(req(limit('acc-1')))).toBe(ScriptStatus.ReleasedByHuman);
    expect(await store.get('acc-1', T0)).toBeNull();
    expect(await store.applyLimit(req(limit('acc-1', { alertId: 'a2' })))).toBe(ScriptStatus.Created);
  });

  it('a release names the alert it read: another alert\'s limit is a conflict, a missing one not found', async () => {
    await store.applyLimit(req(limit('acc-1', { alertId: 'a2' })));
    const conflict = await store.release('acc-1', 'a1', true, HOUR);
    expect(conflict.status).toBe(ScriptStatus.Conflict);
    expect(conflict.record?.alertId).toBe('a2');
    expect(await store.get('acc-1', T0)).not.toBeNull();
    expect((await store.release('nobody', 'a1', true, HOUR)).status).toBe(ScriptStatus.NotFound);
    // a rule's release (not a human's) lets the alert limit the account again
    expect((await store.release('acc-1', 'a2', false, HOUR)).status).toBe(ScriptStatus.Released);
    expect(await store.applyLimit(req(limit('acc-1', { alertId: 'a2' })))).toBe(ScriptStatus.Created);
  });

  it('sweeps each expired limit exactly once, and only expired ones', async () => {
    await store.applyLimit(req(limit('early', { expiresAt: T0 + 1000 })));
    await store.applyLimit(req(limit('late', { expiresAt: T0 + 5000 })));
    expect(await store.sweepExpired(T0 + 999, 100)).toEqual([]);
    const swept = await store.sweepExpired(T0 + 1000, 100);
    expect(swept.map((r) => r.accountId)).toEqual(['early']);
    expect(await store.sweepExpired(T0 + 1000, 100)).toEqual([]);
    expect((await store.listActive()).map((r) => r.accountId)).toEqual(['late']);
    // expired limits are new again for the hourly cap
    expect(await store.applyLimit(req(limit('early', { expiresAt: T0 + HOUR }), { now: T0 + 1000 }))).toBe(ScriptStatus.Created);
  });

  it('a token bucket allows limitRpm at once, then one per 60/limitRpm seconds', async () => {
    for (let i = 0; i < 3; i++) expect(await store.take('acc-1', 3, T0)).toEqual({ allowed: true, retryAfterMs: 0 });
    expect(await store.take('acc-1', 3, T0)).toEqual({ allowed: false, retryAfterMs: 20_000 });
    expect(await store.take('acc-1', 3, T0 + 15_000)).toEqual({ allowed: false, retryAfterMs: 5_000 });
    expect(await store.take('acc-1', 3, T0 + 20_000)).toEqual({ allowed: true, retryAfterMs: 0 });
    expect((await store.take('acc-1', 3, T0 + 20_000)).allowed).toBe(false);
    // other accounts have their own bucket
    expect((await store.take('acc-2', 3, T0)).allowed).toBe(true);
    // a lower rate (escalation) clamps the stored tokens
    expect((await store.take('acc-3', 10, T0)).allowed).toBe(true);
    expect((await store.take('acc-3', 1, T0)).allowed).toBe(true);
    expect(await store.take('acc-3', 1, T0)).toEqual({ allowed: false, retryAfterMs: 60_000 });
  });

  it('the audit trail reads newest first, in pages', async () => {
    for (let i = 0; i < 5; i++) await store.appendAudit({ action: 'limit', actor: 'lockstep', at: T0 + i, accountId: `acc-${i}`, alertId: 'a1', limitRpm: 3, dryRun: i % 2 === 0, reason: `r${i}` }, 1000);
    const first = await store.readAudit(3);
    expect(first.map((e) => e.accountId)).toEqual(['acc-4', 'acc-3', 'acc-2']);
    expect(first[0]).toMatchObject({ action: 'limit', actor: 'lockstep', at: T0 + 4, alertId: 'a1', limitRpm: 3, dryRun: true, reason: 'r4' });
    const second = await store.readAudit(3, first[2].id);
    expect(second.map((e) => e.accountId)).toEqual(['acc-1', 'acc-0']);
  });
});

describe('Redis layout', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server.stop());

  it('a live limit is a hash any gateway can read, expiring at expiresAt; buckets expire when idle', async () => {
    const client = server.client();
    const keys = new EnforcementKeys('ls');
    const store = new RedisLimitStore(client, keys);
    await store.applyLimit(req(limit('acc-1', { expiresAt: Date.now() + 60_000 }), { now: Date.now() }));
    const hash = await client.hgetall('ls:{enf}:limit:acc-1');
    expect(hash).toMatchObject({ accountId: 'acc-1', limitRpm: '3', capabilities: '["coding"]', alertId: 'a1', dryRun: 'false' });
    const pttl = await client.pttl('ls:{enf}:limit:acc-1');
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    await store.take('acc-1', 3, Date.now());
    expect(await client.pttl('ls:{rl:acc-1}')).toBeGreaterThan(100_000);
    expect(await client.pttl('ls:{enf}:alert:a1')).toBeGreaterThan(0);
    expect(await client.pttl('ls:{enf}:recent')).toBeGreaterThan(0);
  });
});
