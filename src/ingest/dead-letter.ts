import type { RejectReason } from '../events/decode';

/** A rejected input message: the original bytes, why, and where it came from. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  reason: RejectReason;
  detail: string;
}

/** Where dead letters go: the DLQ topic in the service, a log or file in embedded and replay modes. */
export interface DeadLetterSink {
  /** Resolves once every letter is durably written; the pipeline commits offsets only after that. */
  send(letters: DeadLetter[]): Promise<void>;
}

/** Headers a dead-lettered message carries (the value and key are the original bytes). */
export const DLQ_HEADERS = {
  reason: 'lockstep-reason',
  detail: 'lockstep-detail',
  topic: 'lockstep-source-topic',
  partition: 'lockstep-source-partition',
  offset: 'lockstep-source-offset',
} as const;

export function deadLetterHeaders(d: DeadLetter): Record<string, string> {
  return {
    [DLQ_HEADERS.reason]: d.reason,
    [DLQ_HEADERS.detail]: d.detail,
    [DLQ_HEADERS.topic]: d.topic,
    [DLQ_HEADERS.partition]: String(d.partition),
    [DLQ_HEADERS.offset]: d.offset,
  };
}

/** Keeps dead letters in memory, newest last, bounded (embedded mode and tests). */
export class MemoryDeadLetterSink implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  constructor(private readonly limit = 10000) {}
  async send(letters: DeadLetter[]): Promise<void> {
    for (const l of letters) {
      this.letters.push(l);
      if (this.letters.length > this.limit) this.letters.shift();
    }
  }
}
