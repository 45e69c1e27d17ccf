import type { Producer } from 'kafkajs';
import type { Alert } from './alert';
import type { AlertSink } from './dispatcher';

/** Alert messages on the alert topic, key = fleetId (one fleet's messages stay in order). */
export class KafkaAlertSink implements AlertSink {
  readonly name = 'kafka';
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async deliver(alert: Alert): Promise<void> {
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: alert.fleetId, value: JSON.stringify(alert) }] });
  }
}
