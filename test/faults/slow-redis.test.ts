import { startRedis, type RedisServer } from '../support/redis';
import { produce, startKafka, type KafkaCluster } from '../support/kafka';
import { startLockstep } from '../support/lockstep';
import { sleep, waitFor } from '../support/wait';
import { expectSameCounts, ingestEnv, makeStream, populationTotal, readAllBuckets } from '../support/ground-truth';
import { startDelayProxy, type DelayProxy } from './delay-proxy';
import Redis from 'ioredis';

/**
 * Redis behind a slow, choppy link (every chunk held DELAY_MS each way and cut into 1 KiB pieces):
 * each flush pays the round trip, so throughput drops; the counts must stay exact and lockstep
 * must stay ready (a slow store is not a down store).
 */
const TOPIC = 'llm.requests';
const DELAY_MS = 50;

describe('slow Redis', () => {
  let kafka: KafkaCluster;
  let redis: RedisServer;
  let proxy: DelayProxy;
  const t0 = Date.now() - 3 * 3_600_000;
  const stream = makeStream({ t0, valid: 12_000, invalid: 0, seed: 5 });

  beforeAll(async () => {
    [kafka, redis] = await Promise.all([startKafka({ topics: { [TOPIC]: 8, 'llm.requests.dlq': 4, 'distill.alerts': 4 } }), startRedis()]);
    proxy = await startDelayProxy({ host: redis.host, port: redis.port }, DELAY_MS);
    await produce(kafka.brokers, TOPIC, stream.messages, { batchSize: 10_000 });
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all([kafka?.stop(), redis?.stop()]);
  });

  it('the proxy adds its delay to every round trip', async () => {
    const client = new Redis(proxy.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      await client.ping();
      const started = performance.now();
      await client.ping();
      expect(performance.now() - started).toBeGreaterThanOrEqual(2 * DELAY_MS - 5);
    } finally {
      client.disconnect();
    }
  });

  it('counts exactly and stays ready, only slower', async () => {
    // small flushes: many round trips, so the delay shows in throughput
    const svc = await startLockstep(ingestEnv(kafka, redis, { REDIS_URL: proxy.url, KAFKA_GROUP_ID: 'lockstep-slow', FLUSH_MAX_EVENTS: '1000' }));
    try {
      const started = performance.now();
      let notReady = 0;
      await waitFor(
        async () => {
          if ((await fetch(`${svc.url}/readyz`)).status !== 200) notReady++;
          return (await populationTotal(redis, t0)) >= stream.valid;
        },
        { timeoutMs: 120_000, intervalMs: 250, what: 'the stream through the slow link' },
      );
      const seconds = (performance.now() - started) / 1000;
      const flushes = await svc.metric('lockstep_batch_duration_seconds_count');
      const flushSeconds = await svc.metric('lockstep_batch_duration_seconds_sum');
      process.stdout.write(`slow Redis (+${2 * DELAY_MS} ms RTT): ${stream.valid} events in ${seconds.toFixed(1)} s = ${Math.round(stream.valid / seconds)} events/s; ${flushes} flushes, mean ${((1000 * flushSeconds) / flushes).toFixed(0)} ms\n`);
      // every flush paid at least one delayed round trip
      expect(flushSeconds / flushes).toBeGreaterThanOrEqual((2 * DELAY_MS) / 1000);
      expect(notReady).toBe(0);
      await sleep(1_000);
      expect(await svc.metric('lockstep_redis_errors_total')).toBe(0);
      expectSameCounts(await readAllBuckets(redis), stream.truth);
    } finally {
      await svc.stop();
    }
  });
});
