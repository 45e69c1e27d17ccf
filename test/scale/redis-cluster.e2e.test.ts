import { startRedisCluster, type RedisClusterServer } from '../support/redis';
import { consumeAll, produce, startKafka, type KafkaCluster } from '../support/kafka';
import { startLockstep } from '../support/lockstep';
import { sleep, waitFor } from '../support/wait';
import { expectSameCounts, ingestEnv, makeStream, populationTotal, readAllBuckets } from '../support/ground-truth';

/**
 * The end-to-end ingest run against a 3-master Redis Cluster (REDIS_CLUSTER_NODES): every shard's
 * keys share one hash slot, so each flush is one atomic script per shard on whichever master owns
 * it. The counters read back by scanning every master must equal the ground truth.
 */
const TOPIC = 'llm.requests';

describe('ingest end to end against Redis Cluster', () => {
  let kafka: KafkaCluster;
  let cluster: RedisClusterServer;
  const t0 = Date.now() - 3 * 3_600_000;
  const stream = makeStream({ t0, valid: 20_000, invalid: 200, seed: 3 });

  beforeAll(async () => {
    [kafka, cluster] = await Promise.all([startKafka({ topics: { [TOPIC]: 8, 'llm.requests.dlq': 4, 'distill.alerts': 4 } }), startRedisCluster()]);
    await produce(kafka.brokers, TOPIC, stream.messages, { batchSize: 10_000 });
  });
  afterAll(async () => {
    await Promise.all([kafka?.stop(), cluster?.stop()]);
  });

  it('counts exactly once across three masters', async () => {
    const svc = await startLockstep(ingestEnv(kafka, cluster, { KAFKA_GROUP_ID: 'lockstep-cluster' }));
    try {
      await waitFor(async () => (await populationTotal(cluster, t0)) >= stream.valid, { timeoutMs: 90_000, intervalMs: 250, what: 'the stream in the cluster' });
      await sleep(1_000);
      expect(await populationTotal(cluster, t0)).toBe(stream.valid);
      expectSameCounts(await readAllBuckets(cluster), stream.truth);

      // the write really spread: every master holds window keys
      const perMaster = await Promise.all(
        cluster.servers.map(async (s) => {
          const client = s.client();
          try {
            return (await client.scan('0', 'MATCH', 'ls:*:w:*', 'COUNT', 100_000))[1].length;
          } finally {
            client.disconnect();
          }
        }),
      );
      expect(perMaster.every((n) => n > 0)).toBe(true);
      const dlq = await consumeAll(kafka.brokers, 'llm.requests.dlq', { expected: stream.invalid.size, timeoutMs: 30_000 });
      expect(dlq).toHaveLength(stream.invalid.size);
    } finally {
      await svc.stop();
    }
  });
});
