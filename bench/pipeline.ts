import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { freePort } from '../test/support/ports';
import { spawnServer, stopProcess, waitForExit } from '../test/support/process';
import { redisInfo } from './redis-info';
import { serviceMain } from './stack';

export interface PipelineRun {
  eventsPerSec: number;
  seconds: number;
  /** lockstep_redis_roundtrips_total / events */
  roundtripsPerEvent: number;
  /** lockstep_redis_commands_total / events (commands lockstep sends) */
  commandsPerEvent: number;
  /** every command Redis executed, the scripts' inner HINCRBY/PEXPIRE/... and the detector's reads included */
  serverCommandsPerEvent: number;
  /** CPU of the lockstep process per event (µs): the capacity figure that the shared machine does not distort */
  serviceCpuUsPerEvent: number;
  redisCpuUsPerEvent: number;
  rssMb: number;
  /** per Redis command: calls per event (EVALSHA = flush writes; HINCRBY etc. inside the script; HGETALL/SUNION = detector reads) */
  commandMix: Record<string, number>;
}

/** Sums every series of one metric in Prometheus text (all label sets). */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Runs the built service (`node dist/src/cli/main.js run`, as `npm start` does) against the topic
 * with a fresh consumer group and an empty Redis, and measures until all n events are counted
 * (lockstep_events_total) and written to Redis (lockstep_batch_events_sum): wall time from the
 * first counted event, as seen by polling /metrics.
 */
export async function measurePipeline(opts: { brokers: string[]; redisUrl: string; redis: Redis; topic: string; n: number; timeoutMs: number; pollMs: number; cpuProfileDir?: string }): Promise<PipelineRun> {
  await opts.redis.flushall();
  const port = await freePort();
  const profile = opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : [];
  const child = spawnServer(process.execPath, [...profile, serviceMain(), 'run'], {
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: opts.brokers.join(','),
      KAFKA_GROUP_ID: `lockstep-bench-${randomUUID()}`,
      KAFKA_FROM_BEGINNING: 'true',
      // the mock answers an idle fetch only after maxWaitTime (docs/testing.md)
      KAFKA_MAX_WAIT_MS: '100',
      INPUT_TOPIC: opts.topic,
      DLQ_TOPIC: `${opts.topic}.dlq`,
      ALERT_TOPIC: 'bench.alerts',
      REDIS_URL: opts.redisUrl,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  let exited = false;
  void waitForExit(child).then(() => (exited = true));
  const before = await redisInfo(opts.redis);
  const scrape = async (): Promise<string | null> => {
    try {
      return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    } catch {
      return null;
    }
  };
  try {
    const deadline = Date.now() + opts.timeoutMs;
    let t0: number | null = null;
    let e0 = 0;
    let cpu0 = 0;
    let rss = 0;
    for (;;) {
      if (exited) throw new Error(`lockstep exited during the bench:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`pipeline counted fewer than ${opts.n} events in ${opts.timeoutMs} ms:\n${stderr}`);
      const text = await scrape();
      const now = performance.now();
      if (text !== null) {
        const events = metricSum(text, 'lockstep_events_total');
        rss = Math.max(rss, metricSum(text, 'lockstep_process_process_resident_memory_bytes'));
        if (t0 === null && events > 0) {
          t0 = now;
          e0 = events;
          cpu0 = metricSum(text, 'lockstep_process_process_cpu_seconds_total');
        }
        // counted is not done: the events must be in Redis (flushed), which lockstep_batch_events counts
        const flushed = metricSum(text, 'lockstep_batch_events_sum');
        if (t0 !== null && events >= opts.n && flushed >= opts.n) {
          const seconds = (now - t0) / 1000;
          const after = await redisInfo(opts.redis);
          const cpu = metricSum(text, 'lockstep_process_process_cpu_seconds_total') - cpu0;
          return {
            eventsPerSec: (events - e0) / seconds,
            seconds,
            roundtripsPerEvent: metricSum(text, 'lockstep_redis_roundtrips_total') / events,
            commandsPerEvent: metricSum(text, 'lockstep_redis_commands_total') / events,
            serverCommandsPerEvent: (after.commands - before.commands) / events,
            serviceCpuUsPerEvent: (cpu * 1e6) / (events - e0),
            redisCpuUsPerEvent: ((after.cpuSeconds - before.cpuSeconds) * 1e6) / events,
            rssMb: rss / 2 ** 20,
            commandMix: Object.fromEntries(Object.entries(after.byCommand).map(([c, calls]) => [c, (calls - (before.byCommand[c] ?? 0)) / events] as const).filter(([, perEvent]) => perEvent > 0).sort((a, b) => b[1] - a[1])),
          };
        }
      }
      await new Promise((r) => setTimeout(r, opts.pollMs));
    }
  } finally {
    await stopProcess(child, 'SIGTERM', 20_000);
  }
}
