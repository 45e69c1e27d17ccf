import type { Clock } from '../clock';
import type { WindowStore } from '../windows/store';
import { WindowKeys } from '../windows/keys';
import { WatermarkStalls } from '../ingest/watermark-stalls';

/**
 * The event time the detector may judge up to across every partition of the input topic, not only
 * the ones this instance reads: the lowest watermark the flushes of all instances stored. When a
 * member dies, its partitions stop moving until their new owner reads them (a session timeout
 * later); judging meanwhile would judge ticks without their share of the data, for good. A
 * partition that stopped moving for `stallMs` is left out (WatermarkStalls), so that it holds the
 * detector back for that long at most.
 */
export class InputWatermark {
  private readonly stalls: WatermarkStalls;
  private readonly prefix: string;

  constructor(
    private readonly store: WindowStore,
    topic: string,
    stallMs: number,
    private readonly clock: Clock,
  ) {
    this.stalls = new WatermarkStalls(stallMs);
    this.prefix = WindowKeys.partitionFieldPrefix(topic);
  }

  /** The lowest stored watermark over the topic's partitions that are moving; null when none has one. */
  async read(): Promise<number | null> {
    const stored = await this.store.readWatermarks();
    const ofTopic: [string, number][] = [];
    for (const entry of stored) if (entry[0].startsWith(this.prefix)) ofTopic.push(entry);
    return this.stalls.lowest(ofTopic, this.clock.now());
  }
}
