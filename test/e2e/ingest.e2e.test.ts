import { RedisWindowStore } from '../../src/windows/redis-store';
import { WindowKeys } from '../../src/windows/keys';
import { defaultConfig } from '../../src/config/config';
import { DLQ_HEADERS } from '../../src/ingest/dead-letter';
import type { RequestEvent } from '../../src/events/request-event';
import { startRedis, type RedisServer } from '../support/redis';
import { consumeAll, produce, startKafka, TEST_CONSUMER_TIMINGS, type KafkaCluster, type ProduceMessage } from '../support/kafka';
import { startLockstep } from '../support/lockstep';
import { waitFor } from '../support/wait';

/**
 * Issue #2's end-to-end check: 100,000 events with known ground truth plus 1,000 invalid ones go
 * through Kafka into `lockstep run`; the counters in Redis must equal the ground truth exactly,
 * also after a SIGKILL in the middle of the stream.
 */
const N_VALID = 100_000;
const N_INVALID = 1_000;
const CAPS = ['coding', 'agentic', 'chat', 'math', 'reasoning'];
const SCALES = defaultConfig().windows.scales;
const LINK_TYPES = 'ip_prefix,asn,payment,prompt_template,user_agent,org';

/** ground truth: bucket key "type|value|scale|start" -> field -> count (fields as the layout names them) */
type Truth = Map<string, Map<string, number>>;

function makeStream(t0: number): { messages: ProduceMessage[]; truth: Truth; invalid: Set<number> } {
  const truth: Truth = new Map();
  const bump = (type: string, value: string, ts: number, field: string): void => {
    for (const s of SCALES) {
      const k = `${type}|${value}|${s.name}|${ts - (ts % s.bucketMs)}`;
      let m = truth.get(k);
      if (!m) truth.set(k, (m = new Map()));
      m.set(field, (m.get(field) ?? 0) + 1);
    }
  };
  let seed = 12345;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const messages: ProduceMessage[] = [];
  const invalid = new Set<number>();
  const invalidEvery = Math.floor((N_VALID + N_INVALID) / N_INVALID);
  for (let i = 0, valid = 0; valid < N_VALID || invalid.size < N_INVALID; i++) {
    if (invalid.size < N_INVALID && i % invalidEvery === invalidEvery - 1) {
      const kind = invalid.size % 4;
      const bad = kind === 0 ? '{not json' : kind === 1 ? JSON.stringify({ ts: t0, capability: 'coding' }) : kind === 2 ? JSON.stringify({ ts: 'yesterday', accountId: 'x', capability: 'coding' }) : JSON.stringify({ ts: t0 + 365 * 86_400_000, accountId: 'x', capability: 'coding' });
      messages.push({ key: `bad-${i}`, value: bad });
      invalid.add(i);
      continue;
    }
    if (valid >= N_VALID) continue;
    const a = Math.floor(rnd() * 700);
    // event time advances ~7 s per 100 events over ~2 hours, with jitter well inside the allowed lateness
    const ts = t0 + Math.floor(valid * 70 + rnd() * 20_000);
    const e: RequestEvent = {
      ts,
      accountId: `acct_${a}`,
      capability: CAPS[(a + Math.floor(rnd() * 2)) % CAPS.length],
      ip: `198.51.${a % 40}.${Math.floor(rnd() * 250)}`,
      asn: 64500 + (a % 13),
      paymentFingerprint: `pay_${a % 300}`,
      promptTemplateHash: a % 3 === 0 ? `tpl_${a % 17}` : undefined,
      userAgent: `sdk/${a % 5}`,
      orgId: a % 2 === 0 ? `org_${a % 50}` : undefined,
      accountCreatedTs: a % 10 === 0 ? ts - 86_400_000 : ts - 400 * 86_400_000,
    };
    valid++;
    messages.push({ key: e.accountId, value: JSON.stringify(e) });
    const member = (a % 10 === 0 ? 'y:' : 'm:') + e.accountId;
    const cap = 'c:' + e.capability;
    bump('account', e.accountId, ts, cap);
    bump('population', '*', ts, cap);
    const links: [string, string | undefined][] = [
      ['ip_prefix', `198.51.${a % 40}.0/24`],
      ['asn', String(e.asn)],
      ['payment', e.paymentFingerprint],
      ['prompt_template', e.promptTemplateHash],
      ['user_agent', e.userAgent],
      ['org', e.orgId],
    ];
    for (const [type, value] of links) {
      if (value === undefined) continue;
      bump(type, value, ts, cap);
      bump(type, value, ts, member);
    }
  }
  return { messages, truth, invalid };
}

/** Everything the service wrote, read back by scanning Redis: bucket key "type|value|scale|start" -> fields. */
async function readAllBuckets(redis: RedisServer): Promise<Truth> {
  const client = redis.client();
  const out: Truth = new Map();
  const re = /^ls:\{\d+\}:w:([^:]+):(\d+):([a-z_]+):(.*)$/;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', 'ls:*:w:*', 'COUNT', 5000);
    cursor = next;
    const rows = await Promise.all(keys.map((k) => client.hgetall(k)));
    keys.forEach((k, i) => {
      const m = re.exec(k);
      if (!m) throw new Error(`unexpected key ${k}`);
      const fields = new Map<string, number>();
      for (const [f, v] of Object.entries(rows[i])) if (f !== 'd') fields.set(f, Number(v));
      out.set(`${m[3]}|${m[4]}|${m[1]}|${m[2]}`, fields);
    });
  } while (cursor !== '0');
  client.disconnect();
  return out;
}

function expectSameCounts(actual: Truth, expected: Truth): void {
  const diffs: string[] = [];
  for (const [k, fields] of expected) {
    const got = actual.get(k);
    for (const [f, n] of fields) if (got?.get(f) !== n) diffs.push(`${k} ${f}: expected ${n}, got ${got?.get(f)}`);
  }
  for (const [k, fields] of actual) {
    const want = expected.get(k);
    for (const [f, n] of fields) if (want?.get(f) === undefined) diffs.push(`${k} ${f}: unexpected ${n}`);
  }
  expect(diffs.slice(0, 20)).toEqual([]);
}

async function populationTotal(redis: RedisServer, t0: number): Promise<number> {
  const cfg = defaultConfig();
  const client = redis.client();
  const store = new RedisWindowStore(client, new WindowKeys('ls', cfg.redis.shards));
  const hour = SCALES[1];
  const start = t0 - (t0 % hour.bucketMs);
  const [buckets] = await store.readBuckets([{ type: 'population', value: '*' }], hour, start, start + 4 * hour.bucketMs);
  client.disconnect();
  return buckets.reduce((n, b) => n + Object.values(b.byCapability).reduce((x, y) => x + y, 0), 0);
}

describe('ingest end to end: Kafka -> lockstep run -> Redis', () => {
  let kafka: KafkaCluster;
  let redis: RedisServer;
  const t0 = Date.now() - 3 * 3_600_000;
  const stream = makeStream(t0);

  beforeEach(async () => {
    [kafka, redis] = await Promise.all([startKafka({ topics: { 'llm.requests': 8, 'llm.requests.dlq': 4 } }), startRedis()]);
    await produce(kafka.brokers, 'llm.requests', stream.messages, { batchSize: 10_000 });
  });
  afterEach(async () => {
    await Promise.all([kafka?.stop(), redis?.stop()]);
  });

  const env = (): Record<string, string> => ({
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_GROUP_ID: 'lockstep-e2e',
    KAFKA_FROM_BEGINNING: 'true',
    KAFKA_MAX_WAIT_MS: String(TEST_CONSUMER_TIMINGS.maxWaitTimeInMs),
    KAFKA_SESSION_TIMEOUT_MS: String(TEST_CONSUMER_TIMINGS.sessionTimeout),
    REDIS_URL: redis.url,
    FLUSH_MAX_EVENTS: '5000',
    LINK_TYPES: LINK_TYPES,
  });

  it('counts every valid event exactly once and dead-letters every invalid one with its reason and source', async () => {
    const svc = await startLockstep(env());
    try {
      await waitFor(async () => (await svc.metric('lockstep_events_total{result="ok"}')) === N_VALID && (await svc.metric('lockstep_events_total{result="invalid"}')) === N_INVALID, { timeoutMs: 120_000, intervalMs: 500, what: 'all events ingested' });
      await waitFor(async () => (await populationTotal(redis, t0)) === N_VALID, { timeoutMs: 10_000, what: 'last flush' });
      expect(await svc.metric('lockstep_events_total{result="late"}')).toBe(0);
      expectSameCounts(await readAllBuckets(redis), stream.truth);

      const dlq = await consumeAll(kafka.brokers, 'llm.requests.dlq', { expected: N_INVALID, timeoutMs: 30_000 });
      const sources = new Set(dlq.map((m) => `${m.headers[DLQ_HEADERS.partition]}/${m.headers[DLQ_HEADERS.offset]}`));
      expect(sources.size).toBe(N_INVALID);
      const reasons = new Set(dlq.map((m) => m.headers[DLQ_HEADERS.reason]));
      expect([...reasons].sort()).toEqual(['not_json', 'schema', 'ts_in_future']);
      expect(dlq.every((m) => m.headers[DLQ_HEADERS.detail].length > 0 && m.headers[DLQ_HEADERS.topic] === 'llm.requests')).toBe(true);
      const originals = new Set(stream.messages.filter((_, i) => stream.invalid.has(i)).map((m) => String(m.value)));
      expect(dlq.every((m) => originals.has(String(m.value)))).toBe(true);
    } finally {
      await svc.stop();
    }
  });

  it('stays exact when killed with SIGKILL mid-stream and started again', async () => {
    const first = await startLockstep(env());
    await waitFor(async () => (await first.metric('lockstep_events_total{result="ok"}')) >= 30_000, { timeoutMs: 60_000, intervalMs: 50, what: 'a third of the stream' });
    await first.kill();
    const second = await startLockstep(env());
    try {
      await waitFor(async () => (await populationTotal(redis, t0)) >= N_VALID, { timeoutMs: 120_000, intervalMs: 500, what: 'the rest of the stream' });
      // let any (wrong) double counting show itself
      await new Promise((r) => setTimeout(r, 1500));
      expectSameCounts(await readAllBuckets(redis), stream.truth);
    } finally {
      await second.stop();
    }
  });
});
