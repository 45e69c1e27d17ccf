import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../log';
import type { Metrics } from './metrics';

export interface ConsumerLagMonitorOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  metrics: Metrics;
  /** time between reads (wall clock) */
  intervalMs: number;
  log: Logger;
}

export interface ConsumerLagMonitor {
  stop(): Promise<void>;
}

/** A stop() does not wait longer than this for a read stuck on an unreachable broker. */
const STOP_WAIT_MS = 2_000;

export interface PartitionOffsets {
  partition: number;
  /** high watermark: the offset the next produced message gets */
  high: number;
  /** oldest offset still retained */
  low: number;
  /** the group's committed offset (next to read), -1 when it has committed nothing */
  committed: number;
}

/**
 * Messages the group still has to read in one partition. Without a commit, or with a commit older
 * than retention, the group (re)starts at the oldest retained message, so everything retained counts.
 */
export function partitionLag(p: PartitionOffsets): number {
  const next = p.committed < 0 ? p.low : Math.max(p.committed, p.low);
  return Math.max(0, p.high - next);
}

/**
 * Reads end and committed offsets of `topic` for `groupId` with the admin client every intervalMs
 * and publishes lockstep_consumer_lag_messages per partition. It reads from the brokers rather than
 * from the consumer, so a consumer that is stuck or rebalancing still shows its lag growing.
 * A failed read is logged (one line per interval) and leaves the last values in place; it never throws.
 */
export function startConsumerLagMonitor(opts: ConsumerLagMonitorOptions): ConsumerLagMonitor {
  const { kafka, groupId, topic, metrics, intervalMs, log } = opts;
  // no retries inside one read: the next interval is the retry, and stop() is not held up
  const admin: Admin = kafka.admin({ retry: { retries: 0 } });
  let connected = false;
  let failing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();

  const read = async (): Promise<void> => {
    try {
      if (!connected) {
        await admin.connect();
        connected = true;
      }
      const [ends, groups] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const committed = new Map<number, number>();
      for (const g of groups) if (g.topic === topic) for (const p of g.partitions) committed.set(p.partition, Number(p.offset));
      for (const e of ends) {
        const lag = partitionLag({ partition: e.partition, high: Number(e.high), low: Number(e.low), committed: committed.get(e.partition) ?? -1 });
        metrics.consumerLag.set({ topic, partition: String(e.partition) }, lag);
      }
      if (failing) log.info({ topic, groupId }, 'consumer lag readable again');
      failing = false;
    } catch (err) {
      failing = true;
      // a broken connection is re-made on the next read
      connected = false;
      await admin.disconnect().catch(() => undefined);
      if (!stopped) log.warn({ err: (err as Error).message, topic, groupId }, 'could not read consumer lag; keeping the last values');
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = read().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  inFlight = read().finally(schedule);

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      let waitTimer: NodeJS.Timeout | undefined;
      await Promise.race([inFlight, new Promise<void>((r) => (waitTimer = setTimeout(r, STOP_WAIT_MS)))]);
      clearTimeout(waitTimer);
      await admin.disconnect().catch(() => undefined);
    },
  };
}
