import { DLQ_HEADERS } from '../../src/ingest/dead-letter';
import { startRedis, type RedisServer } from '../support/redis';
import { consumeAll, produce, startKafka, type KafkaCluster } from '../support/kafka';
import { startLockstep } from '../support/lockstep';
import { waitFor } from '../support/wait';
import { expectSameCounts, ingestEnv, makeStream, populationTotal, readAllBuckets } from '../support/ground-truth';

/**
 * Issue #2's end-to-end check: 100,000 events with known ground truth plus 1,000 invalid ones go
 * through Kafka into `lockstep run`; the counters in Redis must equal the ground truth exactly,
 * also after a SIGKILL in the middle of the stream.
 */
const N_VALID = 100_000;
const N_INVALID = 1_000;

describe('ingest end to end: Kafka -> lockstep run -> Redis', () => {
  let kafka: KafkaCluster;
  let redis: RedisServer;
  const t0 = Date.now() - 3 * 3_600_000;
  const stream = makeStream({ t0, valid: N_VALID, invalid: N_INVALID });

  beforeEach(async () => {
    [kafka, redis] = await Promise.all([startKafka({ topics: { 'llm.requests': 8, 'llm.requests.dlq': 4 } }), startRedis()]);
    await produce(kafka.brokers, 'llm.requests', stream.messages, { batchSize: 10_000 });
  });
  afterEach(async () => {
    await Promise.all([kafka?.stop(), redis?.stop()]);
  });

  const env = (): Record<string, string> => ingestEnv(kafka, redis);

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
