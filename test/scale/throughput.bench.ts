/**
 * Ingest throughput of 1, 2 and 3 `lockstep run` instances in one consumer group, on this machine.
 * Not part of `npm test` (the name does not end in .test.ts); it runs under jest because it drives
 * the test harness (mock Kafka, redis-server, the built service):
 *
 *   npm run build && npx jest --testMatch '**\/test/scale/throughput.bench.ts' --runInBand
 *
 * BENCH_EVENTS (default 60000) and BENCH_INSTANCES (default "1,2,3") tune it. For each instance
 * count: fresh broker and Redis, a 12-partition topic, the instances started and their group
 * settled, then the events produced and timed until the last one is counted in Redis. Everything
 * shares the machine's cores, so read the figures as indicative.
 */
import { startRedis } from '../support/redis';
import { produce, startKafka } from '../support/kafka';
import { startLockstep, type LockstepProcess } from '../support/lockstep';
import { sleep, waitFor } from '../support/wait';
import { ingestEnv, makeStream, populationTotal } from '../support/ground-truth';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 60_000);
const INSTANCES = (process.env.BENCH_INSTANCES ?? '1,2,3').split(',').map(Number);
const TOPIC = 'llm.requests';

/** Waits until every instance holds partitions and no instance joined again for `quietMs`. */
async function groupSettled(instances: LockstepProcess[], quietMs: number): Promise<void> {
  const joins = (): number[] => instances.map((s) => (s.logs().match(/joined consumer group/g) ?? []).length);
  let last = joins().join();
  let since = performance.now();
  await waitFor(
    () => {
      const now = joins().join();
      if (now !== last) {
        last = now;
        since = performance.now();
      }
      return joins().every((n) => n > 0) && performance.now() - since >= quietMs;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'the consumer group to settle' },
  );
}

test('ingest throughput by instance count', async () => {
  const t0 = Date.now() - 3 * 3_600_000;
  const stream = makeStream({ t0, valid: EVENTS, seed: 2024 });
  const lines: string[] = [];
  for (const n of INSTANCES) {
    const [kafka, redis] = await Promise.all([startKafka({ topics: { [TOPIC]: 12, 'llm.requests.dlq': 4, 'distill.alerts': 4 } }), startRedis()]);
    const instances: LockstepProcess[] = [];
    try {
      const env = ingestEnv(kafka, redis, { KAFKA_GROUP_ID: `bench-${n}`, LOG_LEVEL: 'info' });
      instances.push(...(await Promise.all(Array.from({ length: n }, () => startLockstep(env)))));
      await groupSettled(instances, 3_000);
      const started = performance.now();
      await produce(kafka.brokers, TOPIC, stream.messages, { batchSize: 10_000 });
      const produced = performance.now() - started;
      await waitFor(async () => (await populationTotal(redis, t0)) >= EVENTS, { timeoutMs: 300_000, intervalMs: 100, what: 'every event counted' });
      const seconds = (performance.now() - started) / 1000;
      lines.push(`${n} instance(s): ${EVENTS} events in ${seconds.toFixed(1)} s = ${Math.round(EVENTS / seconds)} events/s (producing alone took ${(produced / 1000).toFixed(1)} s)`);
    } finally {
      await Promise.all(instances.map((s) => s.stop()));
      await Promise.all([kafka.stop(), redis.stop()]);
    }
    await sleep(500);
  }
  process.stdout.write(`\nlockstep ingest throughput (indicative; broker, Redis and instances share this machine):\n${lines.join('\n')}\n`);
  expect(lines).toHaveLength(INSTANCES.length);
}, 900_000);
