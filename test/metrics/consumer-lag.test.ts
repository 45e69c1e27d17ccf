import { Writable } from 'node:stream';
import { Kafka, logLevel } from 'kafkajs';
import { partitionLag, startConsumerLagMonitor, type ConsumerLagMonitor } from '../../src/metrics/consumer-lag';
import { Metrics } from '../../src/metrics/metrics';
import { createLogger } from '../../src/log';
import { consumeAll, produce, startKafka, type KafkaCluster } from '../support/kafka';
import { sleep, waitFor } from '../support/wait';

const TOPIC = 'lag.requests';
const GROUP = 'lag-test-group';

/** pino lines as parsed objects, to check what the monitor logged */
function capturingLogger(): { log: ReturnType<typeof createLogger>; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

async function lagByPartition(metrics: Metrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.consumerLag.get()).values) if (v.labels.topic === TOPIC) out[String(v.labels.partition)] = v.value;
  return out;
}

function messages(partition: number, n: number, tag: string): Array<{ value: string; partition: number }> {
  return Array.from({ length: n }, (_, i) => ({ value: `${tag}-${partition}-${i}`, partition }));
}

describe('partitionLag', () => {
  it('is end minus committed, counting all retained messages when nothing (or only expired offsets) was committed', () => {
    expect(partitionLag({ partition: 0, high: 120, low: 0, committed: 100 })).toBe(20);
    expect(partitionLag({ partition: 0, high: 120, low: 0, committed: -1 })).toBe(120);
    expect(partitionLag({ partition: 0, high: 120, low: 50, committed: -1 })).toBe(70);
    expect(partitionLag({ partition: 0, high: 120, low: 50, committed: 10 })).toBe(70);
    expect(partitionLag({ partition: 0, high: 120, low: 0, committed: 120 })).toBe(0);
  });
});

describe('startConsumerLagMonitor against a Kafka-protocol broker', () => {
  let kafka: KafkaCluster;
  let monitor: ConsumerLagMonitor | undefined;

  beforeAll(async () => {
    kafka = await startKafka({ topics: { [TOPIC]: 3 } });
  });
  afterEach(async () => {
    await monitor?.stop();
    monitor = undefined;
  });
  afterAll(async () => {
    await kafka?.stop();
  });

  it('publishes per-partition lag of a real consumer group that committed part of the topic, and survives an outage', async () => {
    // the group reads and commits everything in partitions 0 and 1; partition 2 is empty then, so it has no commit
    await produce(kafka.brokers, TOPIC, [...messages(0, 10, 'a'), ...messages(1, 6, 'a')]);
    await consumeAll(kafka.brokers, TOPIC, { groupId: GROUP });
    // then more arrives that the group has not read
    await produce(kafka.brokers, TOPIC, [...messages(0, 7, 'b'), ...messages(2, 4, 'b')]);

    const metrics = new Metrics({ defaultMetrics: false });
    const { log, lines } = capturingLogger();
    // short client retries: a read during the outage fails in about a second instead of ~10 s
    const client = new Kafka({ clientId: 'lag-test', brokers: kafka.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 500, requestTimeout: 2_000, retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 } });
    const intervalMs = 200;
    monitor = startConsumerLagMonitor({ kafka: client, groupId: GROUP, topic: TOPIC, metrics, intervalMs, log });

    await waitFor(async () => Object.keys(await lagByPartition(metrics)).length === 3, { timeoutMs: 10_000, what: 'lag for all three partitions' }).catch((err: Error) => {
      throw new Error(`${err.message}; monitor logged: ${JSON.stringify(lines.slice(-3))}`);
    });
    expect(await lagByPartition(metrics)).toEqual({ '0': 7, '1': 0, '2': 4 });

    // it keeps reading: new input raises the lag
    await produce(kafka.brokers, TOPIC, messages(1, 5, 'c'));
    await waitFor(async () => (await lagByPartition(metrics))['1'] === 5, { timeoutMs: 5_000, what: 'partition 1 lag to reach 5' });

    // every broker unreachable: reads fail, are logged at most once per interval, nothing throws, last values stay
    const warnings = (): Array<{ msg: string }> => lines.filter((l) => l.level === 40);
    expect(warnings()).toEqual([]);
    await kafka.brokerDown(-1);
    const outageStart = performance.now();
    await waitFor(() => warnings().length >= 2, { timeoutMs: 15_000, what: 'two failed reads logged' });
    await sleep(1_000);
    const outageMs = performance.now() - outageStart;
    expect(warnings().length).toBeLessThanOrEqual(Math.ceil(outageMs / intervalMs) + 1);
    expect(new Set(warnings().map((l) => l.msg))).toEqual(new Set(['could not read consumer lag; keeping the last values']));
    expect(await lagByPartition(metrics)).toEqual({ '0': 7, '1': 5, '2': 4 });

    // back up: it reconnects by itself and sees what the group committed meanwhile
    await kafka.brokerUp(-1);
    await consumeAll(kafka.brokers, TOPIC, { groupId: GROUP });
    await waitFor(async () => Object.values(await lagByPartition(metrics)).every((v) => v === 0), { timeoutMs: 15_000, intervalMs: 100, what: 'lag 0 after the group caught up' });
    expect(lines.some((l) => l.msg === 'consumer lag readable again')).toBe(true);
  });

  it('stops promptly and reads no more after stop()', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const client = new Kafka({ clientId: 'lag-test', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const m = startConsumerLagMonitor({ kafka: client, groupId: 'lag-other-group', topic: TOPIC, metrics, intervalMs: 50, log: createLogger('silent') });
    await waitFor(async () => Object.keys(await lagByPartition(metrics)).length === 3, { timeoutMs: 10_000, what: 'a first read' });
    const t = performance.now();
    await m.stop();
    expect(performance.now() - t).toBeLessThan(3_000);
    metrics.consumerLag.reset();
    await produce(kafka.brokers, TOPIC, messages(0, 1, 'd'));
    await sleep(300);
    expect(await lagByPartition(metrics)).toEqual({});
  });
});
