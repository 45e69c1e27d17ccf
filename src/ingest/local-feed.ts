import type { IngestPipeline } from './pipeline';

/** What a local feed tells as event time advances (the detector, in replay and the demo). */
export type WatermarkListener = (watermark: number) => Promise<void>;

export const LOCAL_TOPIC = 'local';

/**
 * Feeds messages to the pipeline without Kafka (replay and the embedded demo): one partition,
 * offsets counted here, a flush whenever event time crosses an evaluation tick (so the detector
 * sees every tick, as in the service) or the pending flush is full.
 */
export class LocalFeed {
  private offset = 0;
  private nextTick = -Infinity;
  private started = false;

  constructor(
    private readonly pipeline: IngestPipeline,
    private readonly tickMs: number,
    private readonly onWatermark: WatermarkListener,
  ) {}

  async push(value: Buffer): Promise<void> {
    if (!this.started) {
      await this.pipeline.ensurePartition(LOCAL_TOPIC, 0);
      this.started = true;
    }
    this.pipeline.ingest(LOCAL_TOPIC, 0, { key: null, value, offset: String(this.offset++) });
    const wm = this.pipeline.watermark();
    if (wm === null) return;
    if (this.nextTick === -Infinity) this.nextTick = wm - (wm % this.tickMs) + this.tickMs;
    if (wm >= this.nextTick) {
      await this.pipeline.flush();
      this.nextTick = wm - (wm % this.tickMs) + this.tickMs;
      await this.onWatermark(wm);
    } else if (this.pipeline.shouldFlush()) {
      await this.pipeline.flush();
    }
  }

  /** Flushes what is pending and lets the listener see the final watermark. */
  async end(): Promise<void> {
    if (!this.started) return;
    await this.pipeline.flush();
    const wm = this.pipeline.watermark();
    if (wm !== null) await this.onWatermark(wm);
  }

  get count(): number {
    return this.offset;
  }
}
