import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Kafka, logLevel, Partitioners, type IHeaders, type KafkaConfig, type Message } from 'kafkajs';
import { hasExited, spawnServer, stopProcess } from './process';
import { waitFor } from './wait';

const DEV_STACK = join(__dirname, '..', '..', 'scripts', 'dev-stack.sh');

/** Settings that make kafkajs usable against the mock in tests; see docs/testing.md for why. */
export const TEST_CONSUMER_TIMINGS = {
  /** an idle fetch against the mock waits the full maxWaitTimeInMs */
  maxWaitTimeInMs: 100,
  /** a rebalance waits for the session timeout of departed members */
  sessionTimeout: 6_000,
  heartbeatInterval: 500,
} as const;

export interface StartKafkaOptions {
  /** topic -> partition count, created before startKafka resolves. Other topics auto-create with 4 partitions. */
  topics?: Record<string, number>;
  /** default 3; broker ids are 1..brokers */
  brokers?: number;
}

export interface KafkaCluster {
  /** 'host:port' bootstrap list, the format of KAFKA_BROKERS */
  readonly brokers: string[];
  /** Disconnect broker `id` (-1: all) and refuse new connections. Leadership does NOT move. */
  brokerDown(id: number): Promise<void>;
  brokerUp(id: number): Promise<void>;
  createTopic(name: string, partitions: number): Promise<void>;
  /** Move leadership of one partition to broker `brokerId`. */
  setLeader(topic: string, partition: number, brokerId: number): Promise<void>;
  /** Delay every response of broker `id` (-1: all) by `ms`. */
  setRtt(id: number, ms: number): Promise<void>;
  stop(): Promise<void>;
}

let helperPath: string | undefined;

/** Path of the compiled mock-cluster helper, compiling it (once per process, and only if stale). */
export function mockClusterBinary(): string {
  if (helperPath === undefined) {
    try {
      helperPath = execFileSync('bash', [DEV_STACK, 'helper'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`could not build test/support/mock-cluster.c: ${stderr || String(err)}`);
    }
  }
  return helperPath;
}

/** Starts an in-memory Kafka-protocol cluster (librdkafka's mock) through the compiled helper. */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const args = ['--brokers', String(opts.brokers ?? 3)];
  for (const [name, partitions] of Object.entries(opts.topics ?? {})) args.push('--topic', `${name}:${partitions}`);
  const child = spawnServer(mockClusterBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'] });

  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4_000);
  });
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  const nextLine = (): Promise<string> => {
    const queued = lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      if (hasExited(child)) reject(new Error(`mock-cluster exited: ${stderrTail}`));
      waiters.push(resolve);
      child.once('exit', () => reject(new Error(`mock-cluster exited (code ${child.exitCode}): ${stderrTail}`)));
    });
  };

  let brokers: string[];
  try {
    const first = await withTimeout(nextLine(), 10_000, 'mock-cluster to print bootstrap.servers');
    const match = /^bootstrap\.servers=(.+)$/.exec(first);
    if (!match) throw new Error(`mock-cluster: unexpected first line "${first}"`);
    brokers = match[1].split(',');
  } catch (err) {
    await stopProcess(child, 'SIGKILL');
    throw err;
  }

  // One command in flight at a time: each answer line belongs to the oldest command.
  let queue: Promise<unknown> = Promise.resolve();
  const command = (line: string): Promise<void> => {
    const run = queue.then(async () => {
      child.stdin!.write(`${line}\n`);
      const answer = await withTimeout(nextLine(), 10_000, `mock-cluster answer to "${line}"`);
      if (!answer.startsWith('ok')) throw new Error(`mock-cluster: "${line}" -> ${answer}`);
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    brokers,
    brokerDown: (id) => command(`down ${id}`),
    brokerUp: (id) => command(`up ${id}`),
    createTopic: (name, partitions) => command(`create ${name} ${partitions}`),
    setLeader: (topic, partition, brokerId) => command(`leader ${topic} ${partition} ${brokerId}`),
    setRtt: (id, ms) => command(`rtt ${id} ${ms}`),
    stop: () => stopHelper(child),
  };
}

async function stopHelper(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  // End of stdin makes the helper destroy the cluster and exit; the signal is the fallback.
  child.stdin?.end();
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), 3_000);
  });
  const clean = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (!clean) await stopProcess(child, 'SIGKILL');
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function testClient(brokers: string[], overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId: 'lockstep-test', brokers, logLevel: logLevel.NOTHING, ...overrides });
}

export interface ProduceMessage {
  key?: string | Buffer | null;
  value: string | Buffer;
  headers?: Record<string, string | Buffer>;
  partition?: number;
}

export interface ProduceOptions {
  /** -1 (all in-sync replicas, default) or 1 */
  acks?: -1 | 1;
  /** messages per produce request; default 5000 */
  batchSize?: number;
  /** kafkajs retries per request; default 5. Use 0 to fail fast in fault tests. */
  retries?: number;
  /** per-request timeout, ms; default 30000 */
  requestTimeout?: number;
  /** connect timeout, ms; default 1000 */
  connectionTimeout?: number;
}

/** Produces `messages` in large batches with a throwaway non-idempotent producer (the mock rejects idempotence). */
export async function produce(brokers: string[], topic: string, messages: ProduceMessage[], opts: ProduceOptions = {}): Promise<void> {
  const retry = { retries: opts.retries ?? 5, initialRetryTime: 100, maxRetryTime: 2_000 };
  const kafka = testClient(brokers, {
    retry,
    requestTimeout: opts.requestTimeout ?? 30_000,
    connectionTimeout: opts.connectionTimeout ?? 1_000,
  });
  const producer = kafka.producer({
    idempotent: false,
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry,
  });
  await producer.connect();
  try {
    const batchSize = opts.batchSize ?? 5_000;
    for (let i = 0; i < messages.length; i += batchSize) {
      await producer.send({
        topic,
        acks: opts.acks ?? -1,
        timeout: opts.requestTimeout ?? 30_000,
        messages: messages.slice(i, i + batchSize) as Message[],
      });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface ConsumedMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: number;
  timestamp: number;
}

export interface ConsumeAllOptions {
  /**
   * Stop once this many messages arrived. Without it, stop once every partition is read up to
   * the high watermark it had when consumeAll was called.
   */
  expected?: number;
  /** give up (reject) after this long; default 30000 */
  timeoutMs?: number;
  /** consumer group; default a fresh throwaway group. Offsets are committed before returning. */
  groupId?: string;
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return out;
}

/** Reads `topic` from the beginning with a consumer group; returns messages ordered by (partition, offset). */
export async function consumeAll(brokers: string[], topic: string, opts: ConsumeAllOptions = {}): Promise<ConsumedMessage[]> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const kafka = testClient(brokers);

  // partition -> last offset to read (high watermark - 1); only used without `expected`
  const lastOffsets = new Map<number, number>();
  if (opts.expected === undefined) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (Number(p.high) > Number(p.low)) lastOffsets.set(p.partition, Number(p.high) - 1);
      }
    } finally {
      await admin.disconnect();
    }
  }

  const messages: ConsumedMessage[] = [];
  const readUpTo = new Map<number, number>();
  const done = (): boolean =>
    opts.expected !== undefined
      ? messages.length >= opts.expected
      : [...lastOffsets].every(([partition, last]) => (readUpTo.get(partition) ?? -1) >= last);

  const consumer = kafka.consumer({
    groupId: opts.groupId ?? `lockstep-test-${randomUUID()}`,
    ...TEST_CONSUMER_TIMINGS,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  try {
    if (done()) return [];
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        messages.push({
          key: message.key,
          value: message.value,
          headers: headerText(message.headers),
          partition,
          offset,
          timestamp: Number(message.timestamp),
        });
        readUpTo.set(partition, offset);
      },
    });
    await waitFor(done, { timeoutMs, intervalMs: 20, what: `consumeAll(${topic})` }).catch((err: Error) => {
      throw new Error(`${err.message}: got ${messages.length} message(s)${opts.expected === undefined ? '' : ` of ${opts.expected}`}`);
    });
    // eachMessage already resolved every offset; commit them now rather than at the next auto-commit tick.
    await consumer.commitOffsets(
      [...readUpTo].map(([partition, offset]) => ({ topic, partition, offset: String(offset + 1) })),
    );
  } finally {
    await consumer.disconnect();
  }
  return messages.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}
