import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Config } from '../src/config/config';
import { createKafka } from '../src/kafka/client';

/** What a measured consumer does with each message value; false counts as a failure. */
export type MessageWork = (value: Buffer) => boolean;

/** The raw consumer's work: JSON.parse and nothing else (the check keeps the parse from being optimised away). */
export const parseOnly: MessageWork = (value) => (JSON.parse(value.toString('utf8')) as { ts: number }).ts > 0;

/**
 * The ceiling lockstep's ingest sits under: a bare kafkajs consumer group with the service's own
 * consumer settings, doing nothing per message but `work` (`parseOnly` for the raw figure).
 * Returns events/s from the first message to the n-th.
 */
export async function measureRawConsume(config: Config, topic: string, n: number, timeoutMs: number, work: MessageWork = parseOnly): Promise<number> {
  const kafka = createKafka(config.kafka, pino({ level: 'silent' }));
  const consumer = kafka.consumer({
    groupId: `lockstep-bench-raw-${randomUUID()}`,
    sessionTimeout: config.kafka.sessionTimeoutMs,
    heartbeatInterval: config.kafka.heartbeatIntervalMs,
    maxWaitTimeInMs: config.kafka.maxWaitTimeInMs,
    maxBytesPerPartition: config.kafka.maxBytesPerPartition,
  });
  let seen = 0;
  let failed = 0;
  let first = 0n;
  let last = 0n;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: config.kafka.partitionsConsumedConcurrently,
      eachBatch: async ({ batch }) => {
        if (seen === 0) first = process.hrtime.bigint();
        for (const m of batch.messages) {
          if (m.value === null) continue;
          if (!work(m.value)) failed++;
          seen++;
        }
        if (seen >= n) {
          last = process.hrtime.bigint();
          done();
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`raw consume read ${seen} of ${n} events in ${timeoutMs} ms`)), timeoutMs)))]);
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  if (failed > 0) throw new Error(`raw consume: ${failed} of ${seen} events failed the consumer's work`);
  return n / (Number(last - first) / 1e9);
}
