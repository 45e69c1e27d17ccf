import v8 from 'node:v8';
import vm from 'node:vm';
import { defaultConfig, type Config } from '../../src/config/config';
import { IngestPipeline } from '../../src/ingest/pipeline';
import { MemoryDeadLetterSink } from '../../src/ingest/dead-letter';
import { RedisWindowStore } from '../../src/windows/redis-store';
import { WindowKeys } from '../../src/windows/keys';
import { Metrics } from '../../src/metrics/metrics';
import { startRedis, type RedisServer } from '../support/redis';
import { valueShares } from '../../src/ingest/value-cap';

/**
 * An attacker sprays distinct linking-key values (random IPs, user agents, payment fingerprints,
 * throwaway accounts). What must hold:
 *  - every key lockstep writes carries a TTL no longer than its scale's window + lateness, so Redis
 *    memory is bounded by (distinct keys per TTL) x (bytes per key), and nothing outlives its window;
 *  - Redis memory per flooded event stays under a per-key budget (measured below);
 *  - the detector's candidate sets list only keys with >= minFleetSize members: singletons never;
 *  - a key shared by very many accounts keeps at most maxMembersPerBucket members per bucket, the
 *    rest counted in overflow and in lockstep_members_capped_total;
 *  - the process keeps no per-key state, and per-account state only up to ingest.valueCap.maxAccounts:
 *    heap does not grow with distinct keys or accounts;
 *  - an account that changes its values on every request adds at most its share of keys per link
 *    type and bucket (ingest.valueCap); the rest of its requests count under the value "(rotating)".
 */
const N = 16_000;
const FLUSH_EVERY = 4_000;
const SHARED_UA = 'python-requests/2.31';
const SHARED_EVERY = 8; // every 8th event uses the shared user agent
const MAX_MEMBERS = 50;
/** Redis bytes per bucket hash of one flooded key (key name ~60 B, small listpack, expiry entry, dict overhead) */
const BYTES_PER_HASH = 400;

function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose_gc');
  return vm.runInNewContext('gc') as () => void;
}

describe('flood of distinct linking-key values', () => {
  let redis: RedisServer;
  const t0 = Date.UTC(2026, 0, 15, 12);
  const config: Config = defaultConfig();
  config.ingest.linkTypes = ['ip_prefix', 'user_agent', 'payment'];
  config.windows.maxMembersPerBucket = MAX_MEMBERS;
  config.ingest.valueCap.maxAccounts = 2_000;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('keeps Redis memory, candidate sets, members per bucket and process heap bounded', async () => {
    const keys = new WindowKeys('ls', config.redis.shards);
    const client = redis.client();
    const store = new RedisWindowStore(redis.client(), keys);
    const metrics = new Metrics({ defaultMetrics: false });
    const pipeline = new IngestPipeline(config, store, new MemoryDeadLetterSink(), metrics, { now: () => t0 + 3_600_000 });
    await pipeline.ensurePartition('flood', 0);
    const memoryBefore = usedMemory(await client.info('memory'));
    const gc = collectGarbage();
    const heapAfter: number[] = [];

    for (let i = 0; i < N; i++) {
      const shared = i % SHARED_EVERY === 0;
      const e = {
        ts: t0 + Math.floor((i * 600_000) / N), // ten minutes of event time
        accountId: `throwaway_${i}`,
        capability: 'coding',
        ip: `${10 + ((i >> 16) & 0x7f)}.${(i >> 8) & 255}.${i & 255}.${i % 250}`,
        userAgent: shared ? SHARED_UA : `ua-${i.toString(36)}-${(i * 2654435761) >>> 0}`,
        paymentFingerprint: `card_${(i * 40503) >>> 0}_${i}`,
      };
      pipeline.ingest('flood', 0, { key: null, value: Buffer.from(JSON.stringify(e)), offset: String(i) });
      if ((i + 1) % FLUSH_EVERY === 0) {
        await pipeline.flush();
        gc();
        heapAfter.push(process.memoryUsage().heapUsed);
      }
    }

    // every event made ~1 new key per link type and one account key, in each of 2 scales
    const flooded = N * (config.ingest.linkTypes.length + 1) * config.windows.scales.length;
    const grown = usedMemory(await client.info('memory')) - memoryBefore;
    const dbsize = await client.dbsize();
    process.stdout.write(`key flood: ${N} events -> ${dbsize} keys, Redis used_memory +${(grown / 1e6).toFixed(1)} MB (${Math.round(grown / dbsize)} B/key); heap after flushes ${heapAfter.map((h) => (h / 1e6).toFixed(1)).join(', ')} MB\n`);
    expect(dbsize).toBeLessThanOrEqual(flooded + 100);
    expect(grown).toBeLessThan(flooded * BYTES_PER_HASH);

    // every key expires, and no later than its scale's window plus the allowed lateness
    const ttlOf = new Map(config.windows.scales.map((s) => [s.name, s.bucketMs * (s.buckets + 1) + config.ingest.allowedLatenessMs]));
    let cursor = '0';
    let checked = 0;
    do {
      const [next, batch] = await client.scan(cursor, 'COUNT', 2000);
      cursor = next;
      const ttls = await Promise.all(batch.map((k) => client.pttl(k)));
      batch.forEach((k, i) => {
        if (k.endsWith(':applied')) return; // one small hash per shard: the offset markers
        const scale = /:(?:w|cand):([^:]+):/.exec(k)?.[1] ?? '';
        const max = ttlOf.get(scale);
        if (max === undefined || !(ttls[i] > 0 && ttls[i] <= max)) throw new Error(`key ${k} has TTL ${ttls[i]} (scale max ${max})`);
        checked++;
      });
    } while (cursor !== '0');
    expect(checked).toBeGreaterThan(flooded * 0.9);

    // candidates: only the shared user agent ever reached minFleetSize members
    const candidates = new Set<string>();
    for (const s of config.windows.scales) {
      const starts: number[] = [];
      for (let t = t0 - (t0 % s.bucketMs); t <= t0 + 600_000; t += s.bucketMs) starts.push(t);
      for (const ref of await store.readCandidates(s, starts)) candidates.add(`${ref.type}:${ref.value}`);
    }
    expect([...candidates]).toEqual([`user_agent:${SHARED_UA}`]);

    // the shared key: members capped per bucket, the rest in overflow, and the metric counts it
    const minute = config.windows.scales[0];
    const [buckets] = await store.readBuckets([{ type: 'user_agent', value: SHARED_UA }], minute, t0, t0 + 9 * minute.bucketMs);
    const sharedEvents = Math.ceil(N / SHARED_EVERY);
    expect(buckets.every((b) => b.distinct <= MAX_MEMBERS && b.members.size <= MAX_MEMBERS)).toBe(true);
    expect(buckets.reduce((n, b) => n + b.overflow + [...b.members.values()].reduce((x, y) => x + y, 0), 0)).toBe(sharedEvents);
    const capped = (await metrics.registry.getSingleMetricAsString('lockstep_members_capped_total')).match(/ (\d+)$/m);
    // per scale, each bucket keeps MAX_MEMBERS; every other member update was capped
    const kept = buckets.length * MAX_MEMBERS + Math.min(MAX_MEMBERS, sharedEvents);
    expect(Number(capped?.[1])).toBe(2 * sharedEvents - kept);

    // no per-key state in the process, per-account state capped: the heap after the last flushes is where it was after the first
    expect(heapAfter[heapAfter.length - 1] - heapAfter[0]).toBeLessThan(8e6);
    await store.close();
  });
});

describe('accounts that change their link values on every request', () => {
  let redis: RedisServer;
  const t0 = Date.UTC(2026, 0, 15, 12);
  const ROTATORS = 12;
  // templates keep 8 values an hour, addresses and client strings 4 (their own share)
  const config: Config = defaultConfig({
    ingest: { linkTypes: ['ip_prefix', 'user_agent', 'prompt_template'], valueCap: { maxValues: 8, maxValuesByType: { ip_prefix: 4, user_agent: 4 } } },
    windows: { accountScales: [] },
  });
  const share = valueShares(config.ingest.valueCap);

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('add at most their share of keys per link type and bucket each; the rest count under "(rotating)", which links them', async () => {
    const client = redis.client();
    const store = new RedisWindowStore(redis.client(), new WindowKeys('ls', config.redis.shards));
    const metrics = new Metrics({ defaultMetrics: false });
    const pipeline = new IngestPipeline(config, store, new MemoryDeadLetterSink(), metrics, { now: () => t0 + 3_600_000 });
    await pipeline.ensurePartition('rotate', 0);
    const perAccount = 500;
    // ten minutes of event time, within one bucket of the longest scale (1h)
    for (let i = 0; i < ROTATORS * perAccount; i++) {
      const e = {
        ts: t0 + Math.floor((i * 600_000) / (ROTATORS * perAccount)),
        accountId: `rotator_${i % ROTATORS}`,
        capability: 'coding',
        ip: `${20 + (i & 0x3f)}.${(i >> 6) & 255}.${i & 255}.7`,
        userAgent: `agent/${i}`,
        promptTemplateHash: `tpl_${(i * 2654435761) >>> 0}_${i}`,
      };
      pipeline.ingest('rotate', 0, { key: null, value: Buffer.from(JSON.stringify(e)), offset: String(i) });
      if ((i + 1) % 1000 === 0) await pipeline.flush();
    }
    await pipeline.flush();

    // without the cap: one key per request, link type and scale (36,000); with it, per account at most
    // its share of own values per type, each in at most every 1m bucket and one 1h bucket, plus the
    // shared "(rotating)" key per type and bucket, the population's and the candidate sets
    const types = config.ingest.linkTypes.length;
    const minuteBuckets = 10;
    let ownValues = 0;
    for (const t of config.ingest.linkTypes) ownValues += share[t];
    const bound = ROTATORS * ownValues * (minuteBuckets + 1) + types * (minuteBuckets + 1) + 3 * (minuteBuckets + 1) + config.redis.shards * 4;
    const dbsize = await client.dbsize();
    process.stdout.write(`rotating values: ${ROTATORS * perAccount} events of ${ROTATORS} accounts, each with new values -> ${dbsize} keys (bound ${bound})\n`);
    expect(dbsize).toBeLessThanOrEqual(bound);
    expect(dbsize).toBeLessThan(ROTATORS * perAccount); // a fraction of one key per request

    // every request past each account's share counts under "(rotating)"
    const capped = await metrics.linkValuesCappedTotal.get();
    for (const link_type of config.ingest.linkTypes) {
      expect(capped.values.find((v) => v.labels.link_type === link_type)?.value).toBe(ROTATORS * (perAccount - share[link_type]));
    }
    const hour = config.windows.scales[1];
    const [[bucket]] = await store.readBuckets([{ type: 'user_agent', value: '(rotating)' }], hour, t0 - (t0 % hour.bucketMs), t0 - (t0 % hour.bucketMs));
    expect(bucket.requests).toBe(ROTATORS * (perAccount - share.user_agent));
    expect(bucket.distinct).toBe(ROTATORS);
    // and it is a fleet candidate like any shared value
    const candidates = await store.readCandidates(hour, [t0 - (t0 % hour.bucketMs)]);
    expect(candidates).toContainEqual({ type: 'user_agent', value: '(rotating)' });
    await store.close();
  });
});

function usedMemory(info: string): number {
  const m = /^used_memory:(\d+)/m.exec(info);
  if (!m) throw new Error('no used_memory in INFO memory');
  return Number(m[1]);
}
