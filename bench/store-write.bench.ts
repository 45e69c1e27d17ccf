/**
 * The pipeline's store writes alone: the first N events of a simulator scenario through
 * IngestPipeline (decode, links, behaviour, pre-aggregation, apply-flush.lua) into a throwaway
 * redis-server, each flush awaited, no Kafka and no detector; once per flush size, each in a fresh
 * process. Prints, per flush size: events/s, lockstep CPU and Redis CPU per event, the commands
 * Redis executed per event, and the process's peak RSS. For comparing the write path between
 * builds and settings (docs/performance.md): steadier than `npm run bench`, since no broker and no
 * poller share the machine, and the two CPU figures do not depend on what else runs.
 *
 *   npm run build && node dist/bench/store-write.bench.js [--events 200000] [--flush 50000,10000,2000] [--scenario mixed] [--seed 42] [--account-scales 1h|none]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import type { Clock } from '../src/clock';
import { defaultConfig } from '../src/config/config';
import { BehaviorTracker } from '../src/detect/behavior';
import { MemoryDeadLetterSink } from '../src/ingest/dead-letter';
import { IngestPipeline } from '../src/ingest/pipeline';
import { Metrics } from '../src/metrics/metrics';
import { WindowKeys } from '../src/windows/keys';
import { createRedisClient, RedisWindowStore } from '../src/windows/redis-store';
import { createLogger } from '../src/log';
import { startRedis } from '../test/support/redis';
import { buildDataset, removeDataset } from './dataset';
import { redisInfo } from './redis-info';

export interface StoreWriteRun {
  flushMaxEvents: number;
  events: number;
  eventsPerSec: number;
  lockstepCpuUsPerEvent: number;
  redisCpuUsPerEvent: number;
  redisCommandsPerEvent: number;
  peakRssMb: number;
}

/** One flush size, in this process: the child side of the bench. */
async function measureOne(ndjsonFile: string, redisUrl: string, flushMaxEvents: number, accountScales: string[] | undefined): Promise<StoreWriteRun> {
  const config = defaultConfig({ redis: { url: redisUrl }, ingest: { maxFutureMs: Number.MAX_SAFE_INTEGER, flushMaxEvents }, windows: accountScales === undefined ? {} : { accountScales } });
  const admin = new Redis(redisUrl);
  await admin.flushall();
  const store = new RedisWindowStore(createRedisClient(config.redis, createLogger('warn')), new WindowKeys(config.redis.keyPrefix, config.redis.shards));
  let pipelineRef: IngestPipeline | null = null;
  const clock: Clock = { now: () => pipelineRef?.watermark() ?? 0 };
  const pipeline = new IngestPipeline(config, store, new MemoryDeadLetterSink(10), new Metrics({ defaultMetrics: false }), clock, new BehaviorTracker(config.detector.behavior));
  pipelineRef = pipeline;
  await pipeline.ensurePartition('bench', 0);
  // the input is read whole first, so that reading the file is not measured
  const lines = fs.readFileSync(ndjsonFile).toString('utf8').split('\n').filter((l) => l.length > 0).map((l) => Buffer.from(l));
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const before = await redisInfo(admin);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i++) {
    pipeline.ingest('bench', 0, { key: null, value: lines[i], offset: String(i) });
    if (pipeline.pendingCount >= flushMaxEvents) await pipeline.flush();
  }
  await pipeline.flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const after = await redisInfo(admin);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  await store.close();
  admin.disconnect();
  const n = lines.length;
  return {
    flushMaxEvents,
    events: n,
    eventsPerSec: Math.round(n / seconds),
    lockstepCpuUsPerEvent: (used.user + used.system) / n,
    redisCpuUsPerEvent: ((after.cpuSeconds - before.cpuSeconds) * 1e6) / n,
    redisCommandsPerEvent: (after.commands - before.commands) / n,
    peakRssMb: Math.round(peakRss / 1048576),
  };
}

function accountScalesOf(option: string | undefined): string[] | undefined {
  if (option === undefined) return undefined;
  return option === 'none' ? [] : option.split(',');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '200000' },
      flush: { type: 'string', default: '50000,10000,2000' },
      scenario: { type: 'string', default: 'mixed' },
      seed: { type: 'string', default: '42' },
      // windows.accountScales: a comma list, or "none"; default every scale
      'account-scales': { type: 'string' },
      // internal: one measurement in this process
      one: { type: 'string' },
      input: { type: 'string' },
      redis: { type: 'string' },
    },
  });
  if (values.one !== undefined) {
    const run = await measureOne(values.input as string, values.redis as string, Number(values.one), accountScalesOf(values['account-scales']));
    process.stdout.write(JSON.stringify(run) + '\n');
    return;
  }
  const dataset = buildDataset(values.scenario, Number(values.seed), Number(values.events));
  const redis = await startRedis();
  try {
    process.stdout.write(`store writes: ${dataset.events} events of ${values.scenario} (seed ${values.seed}), ${Math.round(dataset.bytes / dataset.events)} bytes each (peak RSS includes the input, held in memory)\n`);
    process.stdout.write('flushMaxEvents | events/s | lockstep CPU µs/event | Redis CPU µs/event | Redis commands/event | peak RSS MB\n');
    for (const size of values.flush.split(',').map(Number)) {
      const accountScales = values['account-scales'] === undefined ? [] : ['--account-scales', values['account-scales']];
      const out = execFileSync(process.execPath, [__filename, '--one', String(size), '--input', dataset.ndjsonFile, '--redis', redis.url, ...accountScales], { encoding: 'utf8' });
      const r = JSON.parse(out) as StoreWriteRun;
      process.stdout.write(`${r.flushMaxEvents} | ${r.eventsPerSec} | ${r.lockstepCpuUsPerEvent.toFixed(1)} | ${r.redisCpuUsPerEvent.toFixed(1)} | ${r.redisCommandsPerEvent.toFixed(1)} | ${r.peakRssMb}\n`);
    }
  } finally {
    await redis.stop();
    removeDataset(dataset);
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`store-write bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
