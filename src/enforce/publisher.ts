import type { Producer } from 'kafkajs';
import type { Logger } from '../log';
import type { EnforcementMessage } from './limit';

/**
 * Publishes decisions to the enforcement topic, keyed by account (one account's messages stay in
 * order). Without Kafka (embedded mode) the log and the audit trail are the record. A failed send is
 * logged, not retried: the audit trail in Redis holds every decision.
 */
export class EnforcementPublisher {
  constructor(
    private readonly producer: Producer | null,
    private readonly topic: string,
    private readonly log: Logger,
  ) {}

  async publish(messages: EnforcementMessage[]): Promise<void> {
    if (this.producer === null || messages.length === 0) return;
    try {
      await this.producer.send({ topic: this.topic, messages: messages.map((m) => ({ key: m.accountId, value: JSON.stringify(m) })) });
    } catch (err) {
      this.log.error({ err, topic: this.topic, messages: messages.length }, 'could not publish enforcement decisions');
    }
  }
}
