import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { consumeAll, produce, startKafka, type KafkaCluster } from './kafka';
import { freePort, freePortWithCompanion } from './ports';
import { ping, startRedis, startRedisCluster } from './redis';
import { waitFor } from './wait';

function refuses(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

function admin(brokers: string[]) {
  return new Kafka({ clientId: 'harness-test', brokers, logLevel: logLevel.NOTHING }).admin();
}

describe('ports and waiting', () => {
  it('freePort returns a bindable loopback port, and companions are free too', async () => {
    const port = await freePort();
    expect(await refuses(`127.0.0.1:${port}`)).toBe(true);
    const withBus = await freePortWithCompanion(10_000);
    expect(withBus + 10_000).toBeLessThan(65_536);
    expect(await refuses(`127.0.0.1:${withBus + 10_000}`)).toBe(true);
  });

  it('waitFor resolves with the first truthy value and reports a timeout', async () => {
    let calls = 0;
    await expect(waitFor(() => (++calls >= 3 ? `after ${calls}` : null), { intervalMs: 1 })).resolves.toBe('after 3');
    await expect(
      waitFor(() => { throw new Error('not ready'); }, { timeoutMs: 50, intervalMs: 10, what: 'the thing' }),
    ).rejects.toThrow(/timed out after 50 ms waiting for the thing: last error: not ready/);
    // a timeout's message carries the state that explains it (the processes' last log lines)
    await expect(waitFor(() => false, { timeoutMs: 20, intervalMs: 5, what: 'the group', context: async () => 'instance :1\n  12:00:00.000 50 consumer crashed' })).rejects.toThrow(
      /waiting for the group\ninstance :1\n {2}12:00:00.000 50 consumer crashed/,
    );
  });
});

describe('startRedis', () => {
  it('serves, flushes, crashes, restarts on the same port, pauses and stops', async () => {
    const redis = await startRedis();
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      const client = redis.client({ maxRetriesPerRequest: 1 });
      expect(await client.ping()).toBe('PONG');
      await client.set('k', 'v');
      await redis.flushAll();
      expect(await client.get('k')).toBeNull();
      await client.set('k', 'v');

      await redis.kill();
      expect(await ping(redis.host, redis.port, 200)).toBe(false);
      await redis.restart();
      expect(await ping(redis.host, redis.port)).toBe(true);
      const fresh = redis.client();
      expect(await fresh.get('k')).toBeNull(); // nothing persisted across the restart

      redis.pause();
      expect(await ping(redis.host, redis.port, 300)).toBe(false);
      redis.resume();
      expect(await ping(redis.host, redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
    expect(await refuses(`127.0.0.1:${redis.port}`)).toBe(true);
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('stop() ends a paused server too', async () => {
    const redis = await startRedis();
    redis.pause();
    await redis.stop();
    expect(await refuses(`127.0.0.1:${redis.port}`)).toBe(true);
  });
});

describe('startRedisCluster', () => {
  it('forms a 3-master cluster whose keys spread over the nodes', async () => {
    const cluster = await startRedisCluster();
    try {
      expect(cluster.nodes).toHaveLength(3);
      const client = cluster.client();
      const keys = Array.from({ length: 200 }, (_, i) => `key:${i}`);
      for (const key of keys) await client.set(key, `value of ${key}`);
      for (const key of keys) expect(await client.get(key)).toBe(`value of ${key}`);

      const sizes = await Promise.all(cluster.servers.map((s) => s.client().dbsize()));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(keys.length);
      expect(sizes.every((n) => n > 0)).toBe(true);
    } finally {
      await cluster.stop();
    }
    for (const node of cluster.nodes) expect(await refuses(node)).toBe(true);
  });
});

describe('startKafka', () => {
  let kafka: KafkaCluster;
  beforeAll(async () => {
    kafka = await startKafka({ topics: { 'llm.requests': 16, faults: 1 } });
  });
  afterAll(async () => {
    const brokers = kafka.brokers;
    await kafka.stop();
    for (const broker of brokers) expect(await refuses(broker)).toBe(true);
  });

  it('round-trips 10,000 messages through a 16-partition topic and commits the group offsets', async () => {
    expect(kafka.brokers).toHaveLength(3);
    const messages = Array.from({ length: 10_000 }, (_, i) => ({
      key: `acct-${i % 997}`,
      value: JSON.stringify({ i }),
      headers: { source: 'harness' },
    }));
    await produce(kafka.brokers, 'llm.requests', messages);

    const groupId = 'harness-roundtrip';
    const consumed = await consumeAll(kafka.brokers, 'llm.requests', { groupId, timeoutMs: 30_000 });
    expect(consumed).toHaveLength(10_000);
    const seen = consumed.map((m) => (JSON.parse(m.value!.toString()) as { i: number }).i).sort((a, b) => a - b);
    expect(seen).toEqual(messages.map((_, i) => i));
    expect(new Set(consumed.map((m) => m.partition)).size).toBe(16);
    expect(consumed[0].headers).toEqual({ source: 'harness' });
    // one key, one partition: what per-account ordering relies on
    const partitionOfKey = new Map<string, number>();
    for (const m of consumed) {
      const key = m.key!.toString();
      expect(partitionOfKey.get(key) ?? m.partition).toBe(m.partition);
      partitionOfKey.set(key, m.partition);
    }

    const client = admin(kafka.brokers);
    await client.connect();
    try {
      const [committed] = await client.fetchOffsets({ groupId, topics: ['llm.requests'] });
      expect(committed.partitions).toHaveLength(16);
      const total = committed.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
      expect(total).toBe(10_000);
    } finally {
      await client.disconnect();
    }
  });

  it('a produce to a downed leader fails fast, and one in flight succeeds once the broker is back', async () => {
    const client = admin(kafka.brokers);
    await client.connect();
    const metadata = await client.fetchTopicMetadata({ topics: ['faults'] });
    await client.disconnect();
    const leader = metadata.topics[0].partitions[0].leader;

    await kafka.brokerDown(leader);
    const failure = await produce(kafka.brokers, 'faults', [{ value: 'during outage' }], { retries: 0, requestTimeout: 1_000 }).then(
      () => null,
      (err: Error) => err,
    );
    expect(failure?.message).toMatch(/ECONNREFUSED/);

    let settledWhileDown = false;
    const delayed = produce(kafka.brokers, 'faults', [{ value: 'after recovery' }], { retries: 10 }).finally(() => {
      settledWhileDown = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(settledWhileDown).toBe(false);
    await kafka.brokerUp(leader);
    await delayed;

    const consumed = await consumeAll(kafka.brokers, 'faults', { timeoutMs: 15_000 });
    expect(consumed.map((m) => m.value!.toString())).toContain('after recovery');
  });

  it('reports a bad command as an error', async () => {
    await expect(kafka.brokerDown(99)).rejects.toThrow(/bad arguments for down/);
    await kafka.createTopic('made-later', 2);
    await expect(kafka.createTopic('made-later', 2)).rejects.toThrow(/create made-later/);
  });
});
