import type { Clock } from '../clock';
import type { WindowStore } from '../windows/store';
import { WindowKeys } from '../windows/keys';

/**
 * The event time the detector may judge up to across every partition of the input topic, not only
 * the ones this instance reads: the lowest watermark the flushes of all instances stored. When a
 * member dies, its partitions stop moving until their new owner reads them (a session timeout
 * later); judging meanwhile would judge ticks without their share of the data, for good. A
 * partition whose stored watermark has not moved for `stallMs` of wall time (its traffic stopped,
 * or nobody reads it any more) is left out, so that it holds the detector back for that long at most.
 */
export class InputWatermark {
  /** partition field -> its last stored watermark and when (wall clock) it was first seen at that value */
  private readonly seen = new Map<string, { watermark: number; since: number }>();
  private readonly prefix: string;

  constructor(
    private readonly store: WindowStore,
    topic: string,
    private readonly stallMs: number,
    private readonly clock: Clock,
  ) {
    this.prefix = WindowKeys.partitionFieldPrefix(topic);
  }

  /** The lowest watermark over the topic's partitions that are moving; null when none has one. */
  async read(): Promise<number | null> {
    const stored = await this.store.readWatermarks();
    const now = this.clock.now();
    let lowest: number | null = null;
    for (const [field, watermark] of stored) {
      if (!field.startsWith(this.prefix)) continue;
      const last = this.seen.get(field);
      if (last === undefined || last.watermark !== watermark) this.seen.set(field, { watermark, since: now });
      else if (now - last.since >= this.stallMs) continue;
      if (lowest === null || watermark < lowest) lowest = watermark;
    }
    return lowest;
  }
}
