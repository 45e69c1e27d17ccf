import type { Producer } from 'kafkajs';
import { deadLetterHeaders, type DeadLetter, type DeadLetterSink } from './dead-letter';

/** Dead letters to the DLQ topic: original key and bytes, reason and source in headers. */
export class KafkaDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async send(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: letters.map((l) => ({ key: l.key, value: l.value ?? Buffer.alloc(0), headers: deadLetterHeaders(l) })),
    });
  }
}
