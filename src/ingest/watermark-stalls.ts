/**
 * Which partitions' watermarks have stopped moving. A partition whose watermark kept one value for
 * `stallMs` of wall time (its traffic stopped, or nobody reads it any more) no longer holds event
 * time back, so one quiet or abandoned partition cannot stop the detector; a partition that is
 * merely behind still moves, and still holds it back. One rule for this instance's partitions
 * (IngestPipeline.durableWatermark) and for every instance's (detect/input-watermark.ts).
 */
export class WatermarkStalls {
  /** partition field -> its watermark and since when (wall clock) it has had that value */
  private readonly seen = new Map<string, { watermark: number; since: number }>();

  /** `stallMs` 0: no partition is ever left out */
  constructor(private readonly stallMs: number) {}

  /** Records a partition's watermark as of `now`; true when it has not moved for stallMs. */
  stalled(field: string, watermark: number, now: number): boolean {
    const last = this.seen.get(field);
    if (last === undefined || last.watermark !== watermark) {
      this.seen.set(field, { watermark, since: now });
      return false;
    }
    return this.stallMs > 0 && now - last.since >= this.stallMs;
  }

  /**
   * The lowest of the given partitions' watermarks, leaving out stalled ones; the lowest of all when
   * every one is stalled (the traffic stopped: nothing moves ahead of them either).
   */
  lowest(watermarks: Iterable<[string, number]>, now: number): number | null {
    let moving: number | null = null;
    let all: number | null = null;
    for (const [field, wm] of watermarks) {
      if (all === null || wm < all) all = wm;
      if (!this.stalled(field, wm, now) && (moving === null || wm < moving)) moving = wm;
    }
    return moving ?? all;
  }
}
