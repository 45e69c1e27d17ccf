import type { KeyType, RequestEvent } from '../events/request-event';
import type { DeadLetter } from './dead-letter';

/**
 * What one flush carries: events and their links (flat parallel arrays, no object per link),
 * dead letters, and each partition's last offset. Kept until the store has it, because a conflict
 * rebuilds the flush from it and a failed flush returns it to the pending batch.
 */
export class PendingBatch {
  readonly events: RequestEvent[] = [];
  readonly fields: string[] = [];
  readonly offsets: number[] = [];
  /** links of the events, flat: event i's are entries [linkEnds[i-1], linkEnds[i]) */
  readonly linkTypes: KeyType[] = [];
  readonly linkValues: string[] = [];
  readonly linkEnds: number[] = [];
  letters: DeadLetter[] = [];
  /** partition field -> last offset taken (counted, late or dead-lettered) */
  readonly lastOffsets = new Map<string, number>();
  /** partition field -> its watermark when the batch was taken: what the batch stores, and makes durable */
  readonly watermarks = new Map<string, number | null>();
  /** the earliest event time of the events (null when none) */
  earliest: number | null = null;
  /** when the first message was taken (the clock's time), null while empty */
  since: number | null = null;

  get size(): number {
    return this.events.length + this.letters.length;
  }

  /** Registers a message's offset; every message taken counts, whatever becomes of it. */
  took(field: string, offset: number, now: number): void {
    this.raiseLastOffset(field, offset);
    if (this.since === null) this.since = now;
  }

  private raiseLastOffset(field: string, offset: number): void {
    const last = this.lastOffsets.get(field);
    if (last === undefined || offset > last) this.lastOffsets.set(field, offset);
  }

  /** Adds a counted event; its links follow through addLink() and end with endEvent(). */
  addEvent(e: RequestEvent, field: string, offset: number): void {
    this.events.push(e);
    this.fields.push(field);
    this.offsets.push(offset);
    if (this.earliest === null || e.ts < this.earliest) this.earliest = e.ts;
  }

  addLink(type: KeyType, value: string): void {
    this.linkTypes.push(type);
    this.linkValues.push(value);
  }

  endEvent(): void {
    this.linkEnds.push(this.linkTypes.length);
  }

  /** Appends another batch (one whose flush failed) to this one. Order does not matter to the counts: they are sums. */
  absorb(other: PendingBatch): void {
    const base = this.linkTypes.length;
    for (let i = 0; i < other.events.length; i++) {
      this.events.push(other.events[i]);
      this.fields.push(other.fields[i]);
      this.offsets.push(other.offsets[i]);
      this.linkEnds.push(base + other.linkEnds[i]);
    }
    for (let i = 0; i < other.linkTypes.length; i++) {
      this.linkTypes.push(other.linkTypes[i]);
      this.linkValues.push(other.linkValues[i]);
    }
    this.letters.push(...other.letters);
    for (const [field, offset] of other.lastOffsets) this.raiseLastOffset(field, offset);
    for (const [field, wm] of other.watermarks) {
      const mine = this.watermarks.get(field) ?? null;
      if (wm !== null && (mine === null || wm > mine)) this.watermarks.set(field, wm);
    }
    if (other.earliest !== null && (this.earliest === null || other.earliest < this.earliest)) this.earliest = other.earliest;
    if (other.since !== null && (this.since === null || other.since < this.since)) this.since = other.since;
  }
}
