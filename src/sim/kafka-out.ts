import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { RequestEvent } from '../events/request-event';

const BATCH = 5000;

/**
 * Produces simulated events to a Kafka topic as the service reads them: key = accountId, value =
 * the contract's JSON; in large batches (acks all). Returns how many were sent.
 */
export async function produceEvents(events: Iterable<RequestEvent>, brokers: string[], topic: string): Promise<number> {
  const kafka = new Kafka({ clientId: 'lockstep-simulate', brokers, logLevel: logLevel.ERROR });
  const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let sent = 0;
  try {
    let batch: { key: string; value: string }[] = [];
    for (const e of events) {
      batch.push({ key: e.accountId, value: JSON.stringify(e) });
      if (batch.length >= BATCH) {
        await producer.send({ topic, acks: -1, messages: batch });
        sent += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) {
      await producer.send({ topic, acks: -1, messages: batch });
      sent += batch.length;
    }
  } finally {
    await producer.disconnect();
  }
  return sent;
}
