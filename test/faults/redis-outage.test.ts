import { startRedis, type RedisServer } from '../support/redis';
import { produce, startKafka, type KafkaCluster } from '../support/kafka';
import { startLockstep, type LockstepProcess } from '../support/lockstep';
import { sleep, waitFor } from '../support/wait';
import { committedTotal, expectSameCounts, ingestEnv, makeStream, populationTotal, readAllBuckets } from '../support/ground-truth';

/**
 * Redis goes away in the middle of the stream, twice over: hung (SIGSTOP, connections open but
 * silent) and crashed (SIGKILL, then restarted from its append-only file). While it is away
 * lockstep must report not ready and commit nothing; once it is back it must resume by itself and
 * the counters must equal the ground truth: nothing counted twice (timed-out scripts still run
 * when a hung Redis wakes up), nothing lost.
 */
const TOPIC = 'llm.requests';
const GROUP = 'lockstep-faults';
const HALF = 10_000;
const INVALID_PER_HALF = 100;

async function readyStatus(svc: LockstepProcess): Promise<number> {
  // /readyz pings the store; against a hung Redis the ping waits for the command timeout (5 s)
  const r = await fetch(`${svc.url}/readyz`, { signal: AbortSignal.timeout(9_000) });
  return r.status;
}

describe('Redis outage mid-stream', () => {
  let kafka: KafkaCluster;
  let redis: RedisServer;
  const t0 = Date.now() - 3 * 3_600_000;
  const stream = makeStream({ t0, valid: 2 * HALF, invalid: 2 * INVALID_PER_HALF, seed: 7 });
  const firstHalf = stream.messages.slice(0, HALF + INVALID_PER_HALF);
  const secondHalf = stream.messages.slice(HALF + INVALID_PER_HALF);

  afterEach(async () => {
    await Promise.all([kafka?.stop(), redis?.stop()]);
  });

  /**
   * The shared scenario: the first half is counted and committed; Redis fails; the second half
   * arrives during the outage; lockstep turns not ready and its committed offsets freeze; Redis
   * heals; lockstep finishes by itself.
   */
  async function outage(fail: () => Promise<void> | void, heal: () => Promise<void> | void, outageMs: number, connectionDrops: boolean): Promise<void> {
    await produce(kafka.brokers, TOPIC, firstHalf, { batchSize: 10_000 });
    const svc = await startLockstep(ingestEnv(kafka, redis, { KAFKA_GROUP_ID: GROUP }));
    try {
      await waitFor(async () => (await committedTotal(kafka, GROUP, TOPIC)) === firstHalf.length, { timeoutMs: 60_000, intervalMs: 200, what: 'first half committed' });
      expect(await populationTotal(redis, t0)).toBe(HALF);

      await fail();
      const failedAt = performance.now();
      await produce(kafka.brokers, TOPIC, secondHalf, { batchSize: 10_000 });
      await waitFor(async () => (await readyStatus(svc)) === 503, { timeoutMs: 30_000, intervalMs: 200, what: '/readyz to turn 503' });
      expect(await svc.metric('lockstep_ready')).toBe(0);
      // lockstep has taken (some of) the second half but may not commit any of it
      await waitFor(async () => (await svc.metric('lockstep_events_total{result="ok"}')) > HALF, { timeoutMs: 20_000, what: 'second half read during the outage' });
      // a write of it has failed (a hung Redis fails it at the command timeout) and is held, not committed
      await waitFor(async () => (await svc.metric('lockstep_redis_errors_total')) > 0, { timeoutMs: 20_000, intervalMs: 250, what: 'a failed flush' });
      await sleep(1_000);
      expect(await committedTotal(kafka, GROUP, TOPIC)).toBe(firstHalf.length);
      expect(await readyStatus(svc)).toBe(503);

      // longer than the session timeout: the group must not evict a member that waits for its store
      await sleep(outageMs - (performance.now() - failedAt));
      await heal();
      await waitFor(async () => (await committedTotal(kafka, GROUP, TOPIC)) === stream.messages.length, { timeoutMs: 60_000, intervalMs: 250, what: 'everything committed after the outage' });
      expect(await readyStatus(svc)).toBe(200);
      // let any (wrong) double counting from a late script show itself
      await sleep(1_000);
      expect(await populationTotal(redis, t0)).toBe(stream.valid);
      expectSameCounts(await readAllBuckets(redis), stream.truth);
      expect(svc.logs()).toMatch(/window store reachable again; resuming/);
      // it kept its partitions through the outage (heartbeats while waiting), no rebalance churn
      expect(svc.logs().match(/joined consumer group/g)).toHaveLength(1);
      // the connection's loss and return as one JSON line each, not ioredis's raw text for every failed reconnect
      expect(svc.logs()).not.toMatch(/Unhandled error event/);
      if (connectionDrops) {
        expect(svc.logs().match(/"msg":"Redis connection lost; reconnecting until it is back"/g)).toHaveLength(1);
        expect(svc.logs()).toMatch(/"component":"redis".*"msg":"Redis connection back"/);
      }
    } finally {
      await svc.stop();
    }
  }

  it('hung Redis (SIGSTOP): not ready, no commits, then resumes by itself and counts exactly once', async () => {
    [kafka, redis] = await Promise.all([startKafka({ topics: { [TOPIC]: 8, 'llm.requests.dlq': 4 } }), startRedis()]);
    await outage(
      () => redis.pause(),
      () => redis.resume(),
      15_000,
      false,
    );
  });

  it('crashed Redis (SIGKILL) restarted from its append-only file: same guarantees', async () => {
    [kafka, redis] = await Promise.all([
      startKafka({ topics: { [TOPIC]: 8, 'llm.requests.dlq': 4 } }),
      // appendfsync always: every write Redis acknowledged survives the SIGKILL
      startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] }),
    ]);
    await outage(
      () => redis.kill(),
      () => redis.restart(),
      8_000,
      true,
    );
  });
});
