import { startRedis, type RedisServer } from '../support/redis';
import { consumeAll, produce, startKafka, type KafkaCluster } from '../support/kafka';
import { startLockstep } from '../support/lockstep';
import { sleep, waitFor } from '../support/wait';
import { committedTotal, expectSameCounts, ingestEnv, makeStream, populationTotal, readAllBuckets } from '../support/ground-truth';
import { DLQ_HEADERS } from '../../src/ingest/dead-letter';

/**
 * Every Kafka broker becomes unreachable in the middle of the stream (connections dropped, new ones
 * refused) and comes back: fetches, offset commits and dead-letter writes fail meanwhile. lockstep
 * must reconnect by itself, without a restart, and end with exact counters and every invalid
 * message dead-lettered.
 */
const TOPIC = 'llm.requests';
const DLQ = 'llm.requests.dlq';
const GROUP = 'lockstep-kafka-outage';

describe('Kafka outage mid-stream', () => {
  let kafka: KafkaCluster;
  let redis: RedisServer;
  const t0 = Date.now() - 3 * 3_600_000;
  const stream = makeStream({ t0, valid: 24_000, invalid: 400, seed: 11 });

  beforeAll(async () => {
    [kafka, redis] = await Promise.all([startKafka({ topics: { [TOPIC]: 8, [DLQ]: 4 } }), startRedis()]);
    await produce(kafka.brokers, TOPIC, stream.messages, { batchSize: 10_000 });
  });
  afterAll(async () => {
    await Promise.all([kafka?.stop(), redis?.stop()]);
  });

  it('reconnects by itself after all brokers were down and counts exactly once', async () => {
    // small flushes: the outage lands between commits with work in flight
    const svc = await startLockstep(ingestEnv(kafka, redis, { KAFKA_GROUP_ID: GROUP, FLUSH_MAX_EVENTS: '1000' }));
    try {
      await waitFor(async () => (await svc.metric('lockstep_events_total{result="ok"}')) >= 4_000, { timeoutMs: 60_000, intervalMs: 20, what: 'a part of the stream' });
      await kafka.brokerDown(-1);
      const countedAtOutage = await populationTotal(redis, t0);
      // silent brokers for a session timeout (6 s here) make it not ready
      await waitFor(async () => (await fetch(`${svc.url}/readyz`)).status === 503, { timeoutMs: 15_000, intervalMs: 250, what: '/readyz to turn 503' });
      expect(await svc.metric('lockstep_ready')).toBe(0);
      await sleep(1_000);
      // nothing can be fetched, so the stream is not finished
      expect(await populationTotal(redis, t0)).toBeLessThan(stream.valid);
      await kafka.brokerUp(-1);

      await waitFor(async () => (await populationTotal(redis, t0)) >= stream.valid, { timeoutMs: 90_000, intervalMs: 250, what: 'the rest of the stream after the outage' });
      await waitFor(async () => (await committedTotal(kafka, GROUP, TOPIC)) === stream.messages.length, { timeoutMs: 30_000, intervalMs: 250, what: 'every offset committed' });
      expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
      await sleep(1_000);
      expect(countedAtOutage).toBeLessThan(stream.valid);
      expect(await populationTotal(redis, t0)).toBe(stream.valid);
      expectSameCounts(await readAllBuckets(redis), stream.truth);

      // every invalid message reached the DLQ; a dead-letter write retried after the outage may repeat one (at least once)
      const dlq = await consumeAll(kafka.brokers, DLQ, { timeoutMs: 30_000 });
      const sources = new Set(dlq.map((m) => `${m.headers[DLQ_HEADERS.partition]}/${m.headers[DLQ_HEADERS.offset]}`));
      expect(sources.size).toBe(stream.invalid.size);
    } finally {
      await svc.stop();
    }
  });
});
