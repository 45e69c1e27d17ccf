import { RedisWindowStore } from '../../src/windows/redis-store';
import { WindowKeys } from '../../src/windows/keys';
import { defaultConfig } from '../../src/config/config';
import type { RequestEvent } from '../../src/events/request-event';
import type { RedisClusterServer, RedisServer } from './redis';
import { Kafka, logLevel } from 'kafkajs';
import { TEST_CONSUMER_TIMINGS, type KafkaCluster, type ProduceMessage } from './kafka';

/**
 * Ground truth for end-to-end ingest runs: a seeded stream of events whose exact counters are known,
 * a reader that scans every bucket lockstep wrote to Redis (standalone or every Cluster master), and
 * the comparison. The e2e, fault and scale tests all use this one copy.
 */

const CAPS = ['coding', 'agentic', 'chat', 'math', 'reasoning'];
const SCALES = defaultConfig().windows.scales;
/** link types of the ground truth (behaviour links are derived, not attributes: left out) */
export const GROUND_TRUTH_LINK_TYPES = 'ip_prefix,asn,payment,prompt_template,user_agent,org';

/** bucket key "type|value|scale|start" -> field -> count (fields as the Redis layout names them; `d` left out) */
export type Truth = Map<string, Map<string, number>>;

export interface GroundTruthStream {
  messages: ProduceMessage[];
  truth: Truth;
  /** indexes into messages of the invalid ones */
  invalid: Set<number>;
  valid: number;
  t0: number;
}

export interface StreamOptions {
  /** event time of the first event, epoch ms */
  t0: number;
  valid: number;
  invalid?: number;
  seed?: number;
}

/**
 * `valid` events of 700 accounts (event time advancing ~7 s per 100 events, jitter well inside the
 * allowed lateness, so none is late) mixed with `invalid` messages of four kinds (bad JSON, missing
 * accountId, ts not a number, ts a year ahead).
 */
export function makeStream(opts: StreamOptions): GroundTruthStream {
  const { t0, valid: nValid } = opts;
  const nInvalid = opts.invalid ?? 0;
  const truth: Truth = new Map();
  const bump = (type: string, value: string, ts: number, field: string): void => {
    for (const s of SCALES) {
      const k = `${type}|${value}|${s.name}|${ts - (ts % s.bucketMs)}`;
      let m = truth.get(k);
      if (!m) truth.set(k, (m = new Map()));
      m.set(field, (m.get(field) ?? 0) + 1);
    }
  };
  let seed = opts.seed ?? 12345;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const messages: ProduceMessage[] = [];
  const invalid = new Set<number>();
  const invalidEvery = nInvalid > 0 ? Math.floor((nValid + nInvalid) / nInvalid) : Infinity;
  for (let i = 0, valid = 0; valid < nValid || invalid.size < nInvalid; i++) {
    if (invalid.size < nInvalid && (i % invalidEvery === invalidEvery - 1 || valid >= nValid)) {
      const kind = invalid.size % 4;
      const bad = kind === 0 ? '{not json' : kind === 1 ? JSON.stringify({ ts: t0, capability: 'coding' }) : kind === 2 ? JSON.stringify({ ts: 'yesterday', accountId: 'x', capability: 'coding' }) : JSON.stringify({ ts: t0 + 365 * 86_400_000, accountId: 'x', capability: 'coding' });
      invalid.add(messages.length);
      messages.push({ key: `bad-${i}`, value: bad });
      continue;
    }
    if (valid >= nValid) continue;
    const a = Math.floor(rnd() * 700);
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
  return { messages, truth, invalid, valid: nValid, t0 };
}

/** A standalone server or a cluster: the reader scans every master. */
export type RedisTarget = RedisServer | RedisClusterServer;

function standaloneServers(target: RedisTarget): RedisServer[] {
  return 'servers' in target ? target.servers : [target];
}

/** Everything lockstep wrote, read back by scanning each Redis node: bucket key "type|value|scale|start" -> fields. */
export async function readAllBuckets(target: RedisTarget, prefix = 'ls'): Promise<Truth> {
  const out: Truth = new Map();
  const re = new RegExp(`^${prefix}:\\{\\d+\\}:w:([^:]+):(\\d+):([a-z_]+):(.*)$`);
  for (const server of standaloneServers(target)) {
    const client = server.client();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*:w:*`, 'COUNT', 5000);
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
    } finally {
      client.disconnect();
    }
  }
  return out;
}

/** Differences between two truths (first `limit`): counted twice, lost, or unexpected fields. */
export function countDiffs(actual: Truth, expected: Truth, limit = 20): string[] {
  const diffs: string[] = [];
  for (const [k, fields] of expected) {
    const got = actual.get(k);
    for (const [f, n] of fields) if (got?.get(f) !== n) diffs.push(`${k} ${f}: expected ${n}, got ${got?.get(f)}`);
  }
  for (const [k, fields] of actual) {
    const want = expected.get(k);
    for (const [f, n] of fields) if (want?.get(f) === undefined) diffs.push(`${k} ${f}: unexpected ${n}`);
  }
  return diffs.slice(0, limit);
}

export function expectSameCounts(actual: Truth, expected: Truth): void {
  expect(countDiffs(actual, expected)).toEqual([]);
}

/** Requests counted on the population key over the stream's hour buckets (one cheap read: progress of a run). */
export async function populationTotal(target: RedisTarget, t0: number): Promise<number> {
  const cfg = defaultConfig();
  const client = 'servers' in target ? target.client({ enableAutoPipelining: false }) : target.client();
  const store = new RedisWindowStore(client, new WindowKeys('ls', cfg.redis.shards));
  try {
    const hour = SCALES[1];
    const start = t0 - (t0 % hour.bucketMs);
    const [buckets] = await store.readBuckets([{ type: 'population', value: '*' }], hour, start, start + 4 * hour.bucketMs);
    return buckets.reduce((n, b) => n + b.requests, 0);
  } finally {
    client.disconnect();
  }
}

/** Environment of `lockstep run` against a test Kafka and Redis (or Redis Cluster), with the test consumer timings. */
export function serviceEnv(kafka: KafkaCluster, redis: RedisTarget, overrides: Record<string, string> = {}): Record<string, string> {
  const store: Record<string, string> = 'servers' in redis ? { REDIS_CLUSTER_NODES: redis.nodes.join(',') } : { REDIS_URL: redis.url };
  return {
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_GROUP_ID: 'lockstep-e2e',
    KAFKA_FROM_BEGINNING: 'true',
    KAFKA_MAX_WAIT_MS: String(TEST_CONSUMER_TIMINGS.maxWaitTimeInMs),
    KAFKA_SESSION_TIMEOUT_MS: String(TEST_CONSUMER_TIMINGS.sessionTimeout),
    ...store,
    ...overrides,
  };
}

/** Environment of `lockstep run` for an ingest run compared with ground truth (no behaviour links: they are process state). */
export function ingestEnv(kafka: KafkaCluster, redis: RedisTarget, overrides: Record<string, string> = {}): Record<string, string> {
  return serviceEnv(kafka, redis, { FLUSH_MAX_EVENTS: '5000', LINK_TYPES: GROUND_TRUTH_LINK_TYPES, ...overrides });
}

/** Sum over partitions of the group's committed offsets on `topic` (messages the group has committed). */
export async function committedTotal(kafka: KafkaCluster, groupId: string, topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'lockstep-test-admin', brokers: kafka.brokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return t.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}
