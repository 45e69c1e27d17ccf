import { startRedis, type RedisServer } from '../support/redis';
import { produce, startKafka, type KafkaCluster } from '../support/kafka';
import { startLockstep, tails, type LockstepProcess } from '../support/lockstep';
import { sleep, waitFor } from '../support/wait';
import { committedTotal, expectSameCounts, ingestEnv, makeStream, populationTotal, readAllBuckets } from '../support/ground-truth';

/**
 * HEAVY (~45-60 s): several `lockstep run` processes in one consumer group while events keep
 * arriving. Two start together, a third joins mid-stream, one leaves with SIGTERM, one is
 * SIGKILLed with work in flight; the survivor finishes. Partitions move between instances at each
 * step (uncommitted batches are redelivered to the next owner), yet every counter must equal the
 * ground truth: the per-shard offset markers, compared and set in the same script as the counters,
 * leave out what another instance already wrote.
 */
const TOPIC = 'llm.requests';
const GROUP = 'lockstep-scale';
const CHUNK = 1_500;
/** while a joining instance is waited for: events keep arriving, and the stream lasts until it has a share */
const TRICKLE = 100;
const PACE_MS = 350;

describe('several instances in one consumer group', () => {
  let kafka: KafkaCluster;
  let redis: RedisServer;
  const t0 = Date.now() - 3 * 3_600_000;
  const stream = makeStream({ t0, valid: 42_000, invalid: 300, seed: 99 });

  beforeAll(async () => {
    [kafka, redis] = await Promise.all([startKafka({ topics: { [TOPIC]: 12, 'llm.requests.dlq': 4, 'distill.alerts': 4 } }), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([kafka?.stop(), redis?.stop()]);
  });

  it('2 then 3 instances; one joins, one leaves (SIGTERM), one crashes (SIGKILL): counters stay exact', async () => {
    const env = ingestEnv(kafka, redis, { KAFKA_GROUP_ID: GROUP, FLUSH_MAX_EVENTS: '2000' });
    const running: LockstepProcess[] = [];
    // events arrive throughout: every membership change happens with work in flight. While the third
    // instance joins they arrive slowly: at full pace a slow machine's rebalance outlasted the
    // stream, the first two had read it all, and the third had nothing left to take a share of
    let trickle = false;
    const producing = (async () => {
      for (let i = 0; i < stream.messages.length; ) {
        const n = trickle ? TRICKLE : CHUNK;
        await produce(kafka.brokers, TOPIC, stream.messages.slice(i, i + n));
        i += n;
        await sleep(PACE_MS);
      }
    })();
    const counted = (): Promise<number> => populationTotal(redis, t0);
    const ok = (svc: LockstepProcess): Promise<number> => svc.metric('lockstep_events_total{result="ok"}');
    try {
      const [a, b] = await Promise.all([startLockstep(env), startLockstep(env)]);
      running.push(a, b);
      await waitFor(async () => (await counted()) >= 6_000, { timeoutMs: 60_000, intervalMs: 100, what: 'first events with two instances', context: () => tails(running) });

      trickle = true;
      const c = await startLockstep(env);
      running.push(c);
      await waitFor(async () => (await ok(c)) > 0, { timeoutMs: 60_000, intervalMs: 100, what: 'the third instance to take a share', context: () => tails(running) });
      trickle = false;
      await waitFor(async () => (await counted()) >= 16_000, { timeoutMs: 60_000, intervalMs: 100, what: 'progress with three instances', context: () => tails(running) });

      const countedByB = await ok(b);
      await b.stop();
      running.splice(running.indexOf(b), 1);
      expect(b.logs()).toMatch(/shutting down/);
      await waitFor(async () => (await counted()) >= 26_000, { timeoutMs: 60_000, intervalMs: 100, what: 'progress after the SIGTERM', context: () => tails(running) });

      const countedByA = await ok(a);
      await a.kill();
      running.splice(running.indexOf(a), 1);

      await producing;
      await waitFor(async () => (await counted()) >= stream.valid, { timeoutMs: 90_000, intervalMs: 250, what: 'the survivor to finish the stream', context: () => tails(running) });
      await waitFor(async () => (await committedTotal(kafka, GROUP, TOPIC)) === stream.messages.length, { timeoutMs: 30_000, intervalMs: 250, what: 'every offset committed', context: () => tails(running) });
      await sleep(1_000);

      expect(countedByA).toBeGreaterThan(0);
      expect(countedByB).toBeGreaterThan(0);
      expect(await counted()).toBe(stream.valid);
      // the survivor is consuming, not a process whose consumer kafkajs abandoned during the rebalances
      expect((await fetch(`${c.url}/readyz`)).status).toBe(200);
      expectSameCounts(await readAllBuckets(redis), stream.truth);
    } finally {
      await producing.catch(() => undefined);
      await Promise.all(running.map((s) => s.stop()));
    }
  });
});
