import fs from 'node:fs';
import path from 'node:path';
import Redis, { Cluster, type RedisOptions } from 'ioredis';
import type { Config, ScaleConfig } from '../config/config';
import type { Logger } from '../log';
import type { KeyType } from '../events/request-event';
import { LockstepError } from '../errors';
import { ApplyStatus, type ApplyResult, type BucketData, type Flush, type KeyRef, type ShardWrite, type WindowStore } from './store';
import { WindowKeys } from './keys';
import { decodeBucket, parseRef } from './bucket-fields';

type RedisClient = Redis | Cluster;

interface ScriptedClient {
  /** ioredis flattens the arrays, so a flush of any size avoids a giant argument spread */
  applyFlush(numKeys: number, keys: string[], args: string[]): Promise<[number, number, number?]>;
}

/** a health probe's budget: well under a readiness probe's or a scrape's timeout */
const PING_TIMEOUT_MS = 1000;

const APPLY_FLUSH_LUA = fs.readFileSync(path.join(__dirname, 'lua', 'apply-flush.lua'), 'utf8');

/**
 * Opens the configured Redis: Cluster when clusterNodes is set, else standalone from url. Its
 * connection's losses and recoveries go to `log`, once each: without an 'error' listener ioredis
 * prints every failed reconnect (one every 2 s of an outage) to stderr as raw text with a stack,
 * between the JSON log lines. What an outage stops shows in the components' own logs, metrics
 * and /readyz; this says why.
 */
export function createRedisClient(cfg: Config['redis'], log: Logger): RedisClient {
  const client = openRedis(cfg);
  let lost = false;
  client.on('error', (err: Error) => {
    if (lost) return;
    lost = true;
    log.warn({ err }, 'Redis connection lost; reconnecting until it is back');
  });
  client.on('ready', () => {
    if (!lost) return;
    lost = false;
    log.info('Redis connection back');
  });
  return client;
}

function openRedis(cfg: Config['redis']): RedisClient {
  const common: RedisOptions = {
    password: cfg.password || undefined,
    tls: cfg.tls ? {} : undefined,
    commandTimeout: cfg.commandTimeoutMs,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    // keep reconnecting forever: an outage must heal without a restart
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  if (cfg.clusterNodes.length > 0) {
    return new Cluster(
      cfg.clusterNodes.map((n) => {
        const i = n.lastIndexOf(':');
        return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
      }),
      // auto-pipelining routes a script by its first argument (numkeys), not its keys: off in Cluster
      { redisOptions: { ...common, enableAutoPipelining: false }, enableAutoPipelining: false, clusterRetryStrategy: (t: number) => Math.min(100 * t, 2000) },
    );
  }
  return new Redis(cfg.url, common);
}

/**
 * The script's arguments as the one JSON array it decodes. JSON.stringify escapes a lone UTF-16
 * surrogate (a hostile "\ud800" in an event) as text that Redis's cjson refuses, which would stop
 * every flush of that shard: such strings are sent as UTF-8 would carry them, with U+FFFD, as
 * Redis keys built from the same strings are.
 */
export function scriptArgument(args: readonly (string | number)[]): string {
  const json = JSON.stringify(args);
  if (!json.includes('\\ud')) return json;
  return JSON.stringify(args.map((a) => (typeof a === 'string' ? a.replace(LONE_SURROGATE, '\ufffd') : a)));
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The starts of a scale's buckets from `fromStart` to `toStart`, both included. */
function startsBetween(scale: ScaleConfig, fromStart: number, toStart: number): number[] {
  const starts: number[] = [];
  for (let t = fromStart; t <= toStart; t += scale.bucketMs) starts.push(t);
  return starts;
}

/**
 * Hash field names of one shard write (keys.ts: c:<capability>, m:<account>, y:<account>), each
 * built once: an account appears in the buckets of each of its links and scales.
 */
class FieldNames {
  private readonly byPrefix = new Map<string, Map<string, string>>();

  field(prefix: 'c:' | 'm:' | 'y:', name: string): string {
    let names = this.byPrefix.get(prefix);
    if (!names) this.byPrefix.set(prefix, (names = new Map()));
    let f = names.get(name);
    if (f === undefined) names.set(name, (f = prefix + name));
    return f;
  }
}

/**
 * The window store in Redis (standalone or Cluster). A flush is one EVALSHA of apply-flush.lua per
 * shard, all sent together (auto-pipelined: one round trip per Redis node).
 */
export class RedisWindowStore implements WindowStore {
  readonly kind = 'redis' as const;
  private readonly scripted: ScriptedClient;

  constructor(
    readonly client: RedisClient,
    readonly keys: WindowKeys,
  ) {
    client.defineCommand('applyFlush', { lua: APPLY_FLUSH_LUA });
    this.scripted = client as unknown as ScriptedClient;
  }

  private get nodeCount(): number {
    return this.client instanceof Cluster ? Math.max(1, this.client.nodes('master').length) : 1;
  }

  async apply(flush: Flush): Promise<ApplyResult> {
    const result: ApplyResult = { conflicts: [], membersCapped: 0, roundtrips: Math.min(this.nodeCount, flush.shards.length), commands: flush.shards.length };
    const replies = await Promise.all(flush.shards.map((w) => this.applyShard(w, flush)));
    replies.forEach((r, idx) => {
      if (r[0] === ApplyStatus.Conflict) result.conflicts.push(flush.shards[idx].shard);
      else if (r[0] === ApplyStatus.Applied) result.membersCapped += Number(r[1]);
      else throw new LockstepError('STORE_UNAVAILABLE', `apply-flush returned unknown status ${String(r[0])}`);
    });
    return result;
  }

  private applyShard(w: ShardWrite, flush: Flush): Promise<[number, number, number?]> {
    const nBuckets = w.buckets.length;
    const keys: string[] = [this.keys.applied(w.shard)];
    for (const bw of w.buckets) keys.push(this.keys.bucket(w.shard, bw.scale, bw.bucketStart, bw.type, bw.value));
    // candidate set j (0-based) sits at KEYS[2 + nBuckets + j] (Lua is 1-based)
    const candIndex = new Map<string, number>();
    const candOf: number[] = [];
    for (const bw of w.buckets) {
      if (!bw.linked) {
        candOf.push(0);
        continue;
      }
      const ck = this.keys.candidates(w.shard, bw.scale, bw.bucketStart);
      let idx = candIndex.get(ck);
      if (idx === undefined) {
        idx = 2 + nBuckets + candIndex.size;
        candIndex.set(ck, idx);
        keys.push(ck);
      }
      candOf.push(idx);
    }
    const args: (string | number)[] = [];
    const advances = flush.advances.get(w.shard) ?? [];
    args.push(advances.length);
    for (const a of advances) args.push(a.field, a.expected, a.next);
    const wms = flush.watermarks.get(w.shard);
    args.push(wms ? wms.size : 0);
    if (wms) for (const [field, wm] of wms) args.push(field, wm);
    args.push(flush.maxMembersPerBucket, flush.candidateMinMembers, nBuckets);
    const names = new FieldNames();
    // TTLs and increments go to redis.call as they are: as strings, since Redis formats a Lua number
    // argument with sprintf("%.17g") (and cjson parses it with strtod), which took ~9% of Redis's CPU
    w.buckets.forEach((bw, i) => {
      args.push(String(flush.ttlMs.get(bw.scale) ?? 0), candOf[i], bw.ref, bw.capabilities.size + (bw.members?.size ?? 0) + (bw.youngMembers?.size ?? 0));
      for (const [cap, inc] of bw.capabilities) args.push(names.field('c:', cap), String(inc));
      if (bw.members) for (const [a, inc] of bw.members) args.push(names.field('m:', a), String(inc));
      if (bw.youngMembers) for (const [a, inc] of bw.youngMembers) args.push(names.field('y:', a), String(inc));
    });
    return this.scripted.applyFlush(keys.length, keys, [scriptArgument(args)]);
  }

  async readPartition(field: string): Promise<{ markers: number[]; watermark: number | null }> {
    const reads: Promise<string | null>[] = [];
    for (let s = 0; s < this.keys.shards; s++) reads.push(this.client.hget(this.keys.applied(s), field));
    const wmReads: Promise<string | null>[] = [];
    for (let s = 0; s < this.keys.shards; s++) wmReads.push(this.client.hget(this.keys.applied(s), WindowKeys.watermarkField(field)));
    const [markers, wms] = await Promise.all([Promise.all(reads), Promise.all(wmReads)]);
    const wm = wms.find((x) => x !== null);
    return { markers: markers.map((m) => (m === null ? -1 : Number(m))), watermark: wm == null ? null : Number(wm) };
  }

  async readWatermarks(): Promise<Map<string, number>> {
    const reads: Promise<Record<string, string>>[] = [];
    for (let s = 0; s < this.keys.shards; s++) reads.push(this.client.hgetall(this.keys.applied(s)));
    const out = new Map<string, number>();
    for (const fields of await Promise.all(reads)) {
      for (const [field, v] of Object.entries(fields)) {
        const partition = WindowKeys.partitionOfWatermark(field);
        if (partition !== null) out.set(partition, Number(v));
      }
    }
    return out;
  }

  async readBuckets(keys: KeyRef[], scale: ScaleConfig, fromStart: number, toStart: number): Promise<BucketData[][]> {
    const starts = startsBetween(scale, fromStart, toStart);
    const all = await Promise.all(keys.map((k) => Promise.all(this.bucketKeys(k, scale, starts).map((key) => this.client.hgetall(key)))));
    return all.map((rows) => rows.map((h, i) => decodeBucket(starts[i], Object.entries(h))));
  }

  async readMemberFieldsPeak(keys: KeyRef[], scale: ScaleConfig, fromStart: number, toStart: number): Promise<number[]> {
    const starts = startsBetween(scale, fromStart, toStart);
    return Promise.all(
      keys.map(async (k) => {
        const fields = await Promise.all(this.bucketKeys(k, scale, starts).map((key) => this.client.hget(key, 'd')));
        let peak = 0;
        for (const d of fields) peak = Math.max(peak, Number(d ?? 0));
        return peak;
      }),
    );
  }

  /** The Redis keys of one key's buckets at `starts` of a scale. */
  private bucketKeys(k: KeyRef, scale: ScaleConfig, starts: readonly number[]): string[] {
    const shard = this.keys.shardOf(k.type, k.value);
    return starts.map((t) => this.keys.bucket(shard, scale.name, t, k.type, k.value));
  }

  async readCandidates(scale: ScaleConfig, bucketStarts: number[]): Promise<KeyRef[]> {
    const reads: Promise<string[]>[] = [];
    for (let s = 0; s < this.keys.shards; s++) {
      // one slot per shard: SUNION of that shard's candidate sets is legal in Cluster
      reads.push(this.client.sunion(...bucketStarts.map((t) => this.keys.candidates(s, scale.name, t))));
    }
    const refs = new Set<string>();
    for (const members of await Promise.all(reads)) for (const r of members) refs.add(r);
    return [...refs].map((r) => {
      const { type, value } = parseRef(r);
      return { type: type as KeyType, value };
    });
  }

  /**
   * False when Redis does not answer within PING_TIMEOUT_MS. Against a hung server a plain PING waits
   * the command timeout, twice over behind an auto-pipelined write; /readyz and /metrics call this
   * and must answer while Redis is down.
   */
  async ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS)));
    try {
      return await Promise.race([this.client.ping().then((r) => r === 'PONG', () => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
