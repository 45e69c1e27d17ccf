import fs from 'node:fs';
import readline from 'node:readline';
import type Redis from 'ioredis';
import type { Clock } from '../src/clock';
import { defaultConfig } from '../src/config/config';
import { BehaviorTracker } from '../src/detect/behavior';
import { MemoryDeadLetterSink } from '../src/ingest/dead-letter';
import { IngestPipeline } from '../src/ingest/pipeline';
import { Metrics } from '../src/metrics/metrics';
import { WindowKeys } from '../src/windows/keys';
import { createRedisClient, RedisWindowStore } from '../src/windows/redis-store';
import { createLogger } from '../src/log';
import { redisInfo } from './redis-info';

export interface MemoryRun {
  /** event time covered: the span of the shortest scale's window (1 h by default) */
  spanMs: number;
  events: number;
  activeAccounts: number;
  linkingKeys: number;
  usedMemoryBytes: number;
  bytesPerActiveAccount: number;
  /**
   * Per scale: keys, MEMORY USAGE summed, and the distinct (account, bucket) pairs of the input:
   * the unit Redis memory grows with (an account active in 40 minutes of an hour holds 40 buckets at 1m)
   */
  byScale: Record<string, { keys: number; bytes: number; accountBuckets: number }>;
}

/**
 * Redis memory for a known population: the events of the first window of the shortest scale
 * (what a live Redis holds at once for that scale), written through the real pipeline into an
 * empty Redis; used_memory growth divided by the accounts that were active.
 */
export async function measureRedisMemory(ndjsonFile: string, redisUrl: string, redis: Redis): Promise<MemoryRun> {
  await redis.flushall();
  const config = defaultConfig({ redis: { url: redisUrl }, ingest: { maxFutureMs: Number.MAX_SAFE_INTEGER } });
  const keys = new WindowKeys(config.redis.keyPrefix, config.redis.shards);
  const store = new RedisWindowStore(createRedisClient(config.redis, createLogger('warn')), keys);
  const metrics = new Metrics({ defaultMetrics: false });
  let pipelineRef: IngestPipeline | null = null;
  const clock: Clock = { now: () => pipelineRef?.watermark() ?? 0 };
  const pipeline = new IngestPipeline(config, store, new MemoryDeadLetterSink(10), metrics, clock, new BehaviorTracker(config.detector.behavior));
  pipelineRef = pipeline;
  const shortest = config.windows.scales.reduce((a, b) => (a.bucketMs * a.buckets <= b.bucketMs * b.buckets ? a : b));
  const spanMs = shortest.bucketMs * shortest.buckets;
  const before = (await redisInfo(redis)).usedMemory;
  const accounts = new Set<string>();
  const accountBuckets = config.windows.scales.map(() => new Set<string>());
  let events = 0;
  let end = Infinity;
  try {
    await pipeline.ensurePartition('bench', 0);
    for await (const line of readline.createInterface({ input: fs.createReadStream(ndjsonFile), crlfDelay: Infinity })) {
      const e = JSON.parse(line) as { ts: number; accountId: string };
      if (end === Infinity) end = e.ts + spanMs;
      if (e.ts >= end) break;
      accounts.add(e.accountId);
      config.windows.scales.forEach((sc, i) => accountBuckets[i].add(`${e.accountId} ${e.ts - (e.ts % sc.bucketMs)}`));
      pipeline.ingest('bench', 0, { key: null, value: Buffer.from(line), offset: String(events++) });
      if (pipeline.pendingCount >= config.ingest.flushMaxEvents) await pipeline.flush();
    }
    await pipeline.flush();
  } finally {
    await store.close();
  }
  const usedMemoryBytes = (await redisInfo(redis)).usedMemory - before;
  const byScale: MemoryRun['byScale'] = {};
  const linking = new Set<string>();
  const bucketKey = new RegExp(`^${config.redis.keyPrefix}:\\{\\d+\\}:w:([^:]+):\\d+:([^:]+):(.*)$`);
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const sizes = await Promise.all(batch.map((k) => redis.memory('USAGE', k)));
    batch.forEach((k, i) => {
      const m = bucketKey.exec(k);
      const scale = m ? m[1] : 'other';
      const s = (byScale[scale] ??= { keys: 0, bytes: 0, accountBuckets: accountBuckets[config.windows.scales.findIndex((sc) => sc.name === scale)]?.size ?? 0 });
      s.keys++;
      s.bytes += Number(sizes[i] ?? 0);
      if (m && m[2] !== 'account' && m[2] !== 'population') linking.add(`${m[2]}:${m[3]}`);
    });
  } while (cursor !== '0');
  return { spanMs, events, activeAccounts: accounts.size, linkingKeys: linking.size, usedMemoryBytes, bytesPerActiveAccount: usedMemoryBytes / accounts.size, byScale };
}
