import type { Config } from '../config/config';
import type { Clock } from '../clock';
import { ATTRIBUTE_LINK_TYPES, type LinkType } from '../events/request-event';
import { decodeEvent, type DecoderOptions } from '../events/decode';
import type { Metrics } from '../metrics/metrics';
import { FlushBuilder } from '../windows/flush-builder';
import type { Flush, WindowStore } from '../windows/store';
import { WindowKeys } from '../windows/keys';
import { LockstepError } from '../errors';
import { attributeLinks } from './links';
import { AccountValueCap } from './value-cap';
import type { DeadLetterSink } from './dead-letter';
import { PendingBatch } from './pending-batch';
import { WatermarkStalls } from './watermark-stalls';

/** Derives an account's behaviour links (MinHash/LSH band keys) from its stream of events. */
export interface BehaviorLinker {
  observe(accountId: string, ts: number, capability: string): readonly string[];
  readonly size: number;
}

interface PartitionState {
  topic: string;
  partition: number;
  field: string;
  /** last offset applied per shard (-1 none); null until loaded from the store */
  markers: number[] | null;
  /** max event time of counted events */
  watermark: number | null;
  /** max event time of the events in the store (this instance's flushes that landed, or as read from it) */
  durableWatermark: number | null;
  /** the watermark lateness is judged against while the pending batch fills */
  flushWatermark: number | null;
}

export interface IncomingMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
}

export interface FlushReport {
  events: number;
  /** next offset to commit per partition */
  commits: { topic: string; partition: number; offset: string }[];
  /** the durable watermark (durableWatermark()): the detector may judge event time up to it */
  watermark: number | null;
  /** the earliest event time in the flush (null when it counted no event) */
  earliest: number | null;
}

const MAX_CONFLICT_RETRIES = 5;

/**
 * The ingest path without Kafka: decode, dead-letter, judge lateness, derive links, pre-aggregate,
 * and flush to the window store exactly once. The Kafka consumer, replay and the embedded demo all
 * drive this one class.
 */
export class IngestPipeline {
  private readonly partitions = new Map<string, PartitionState>();
  private readonly windowKeys: WindowKeys;
  private readonly linkTypes: ReadonlySet<LinkType>;
  private readonly decoderOptions: DecoderOptions;
  /** what the next flush takes */
  private pending = new PendingBatch();
  private readonly valueCap: AccountValueCap;
  /** lockstep_link_values_capped_total's series per attribute link type, resolved once: no label object per capped link */
  private readonly cappedLinks: Partial<Record<LinkType, { inc(): void }>>;
  /** whether the event whose links are being emitted counts in metrics (a redelivered one was counted when first read) */
  private countingEvent = true;
  /** an attribute link, under the value the account's share of distinct values lets it count under */
  private readonly emitAttributeLink = (type: LinkType, value: string): void => {
    const admitted = this.valueCap.admit(type, value);
    if (admitted !== value && this.countingEvent) this.cappedLinks[type]?.inc();
    this.pending.addLink(type, admitted);
  };
  /**
   * The flush sent last, while the store has not answered it: the next flush is built and sent
   * meanwhile (so the store's work overlaps the building of the next), expecting the markers this
   * one sets; it trusts its own answer only once this one succeeded.
   */
  private inFlight: Promise<boolean> | null = null;
  /** resolves once the flush started last has sent its write (or given up) */
  private lastSent: Promise<void> = Promise.resolve();
  private readonly flushListeners: ((r: FlushReport) => void)[] = [];
  /** partitions assigned to this instance, and since when (wall clock) */
  private assigned: { fields: Set<string>; since: number } | null = null;
  private readonly stalls: WatermarkStalls;
  /** assignedWatermarks()'s output, reused */
  private readonly scratch: [string, number][] = [];

  constructor(
    private readonly config: Config,
    private readonly store: WindowStore,
    private readonly deadLetters: DeadLetterSink,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    private readonly behavior: BehaviorLinker | null = null,
  ) {
    this.windowKeys = new WindowKeys(config.redis.keyPrefix, config.redis.shards);
    this.linkTypes = new Set(config.ingest.linkTypes);
    this.decoderOptions = { maxMessageBytes: config.ingest.maxMessageBytes, maxFutureMs: config.ingest.maxFutureMs };
    this.stalls = new WatermarkStalls(config.detector.partitionStallMs);
    this.valueCap = new AccountValueCap(config.ingest.valueCap, Math.max(...config.windows.scales.map((s) => s.bucketMs)));
    this.cappedLinks = Object.fromEntries(ATTRIBUTE_LINK_TYPES.map((t) => [t, metrics.linkValuesCappedTotal.labels(t)]));
  }

  onFlush(listener: (r: FlushReport) => void): void {
    this.flushListeners.push(listener);
  }

  /** Forget what is cached about partitions (after a rebalance): markers are read again before use. */
  invalidatePartitions(): void {
    for (const p of this.partitions.values()) p.markers = null;
  }

  /** Loads a partition's markers and watermark from the store if they are not cached. */
  async ensurePartition(topic: string, partition: number): Promise<void> {
    const field = WindowKeys.partitionField(topic, partition);
    let p = this.partitions.get(field);
    if (!p) {
      p = { topic, partition, field, markers: null, watermark: null, durableWatermark: null, flushWatermark: null };
      this.partitions.set(field, p);
    }
    if (p.markers !== null) return;
    const stored = await this.store.readPartition(field);
    p.markers = stored.markers;
    if (stored.watermark !== null && (p.watermark === null || stored.watermark > p.watermark)) p.watermark = stored.watermark;
    if (stored.watermark !== null && (p.durableWatermark === null || stored.watermark > p.durableWatermark)) p.durableWatermark = stored.watermark;
    p.flushWatermark = p.watermark;
  }

  /** Takes one message of a partition whose state ensurePartition() loaded. */
  ingest(topic: string, partition: number, msg: IncomingMessage): void {
    const field = WindowKeys.partitionField(topic, partition);
    const p = this.partitions.get(field);
    if (!p) throw new LockstepError('STORE_CONFLICT', `partition ${field} used before ensurePartition()`);
    const offset = Number(msg.offset);
    const now = this.clock.now();
    this.pending.took(field, offset, now);
    // already processed by a flush that reached the store (redelivery): its letters and metrics are
    // done. Markers being re-read (after a failed flush) count as not processed: a letter may repeat.
    const redelivered = p.markers !== null && offset <= p.markers[this.windowKeys.homeShard(partition)];
    const decoded = decodeEvent(msg.value, this.decoderOptions, now);
    if (!decoded.ok) {
      if (redelivered) return;
      this.metrics.eventsTotal.inc({ result: 'invalid' });
      this.metrics.deadLetteredTotal.inc({ reason: decoded.reason });
      this.pending.letters.push({ topic, partition, offset: msg.offset, key: msg.key, value: msg.value, reason: decoded.reason, detail: decoded.detail });
      return;
    }
    const e = decoded.event;
    // A redelivered event was judged when first read. Judged again, against a watermark that now
    // includes it (a flush that landed on its partition's home shard but not on every shard, then a
    // crash), it would be dropped from the shards that still miss it.
    if (!redelivered && p.flushWatermark !== null && e.ts < p.flushWatermark - this.config.ingest.allowedLatenessMs) {
      this.metrics.eventsTotal.inc({ result: 'late' });
      return;
    }
    if (p.watermark === null || e.ts > p.watermark) p.watermark = e.ts;
    if (!redelivered) this.metrics.eventsTotal.inc({ result: 'ok' });
    this.pending.addEvent(e, field, offset);
    this.valueCap.begin(e.accountId, e.ts);
    this.countingEvent = !redelivered;
    attributeLinks(e, this.linkTypes, this.emitAttributeLink);
    // behaviour bands are bounded per account by the tracker itself
    if (this.behavior !== null && this.linkTypes.has('behavior')) {
      for (const band of this.behavior.observe(e.accountId, e.ts, e.capability)) this.pending.addLink('behavior', band);
    }
    this.pending.endEvent();
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** True when the pending flush is large or old enough. */
  shouldFlush(): boolean {
    if (this.pending.since === null) return false;
    return this.pending.events.length >= this.config.ingest.flushMaxEvents || this.clock.now() - this.pending.since >= this.config.ingest.flushIntervalMs;
  }

  /** Tells the flush listeners the durable watermark without a flush (nothing pending). */
  announceWatermark(): void {
    const report: FlushReport = { events: 0, commits: [], watermark: this.durableWatermark(), earliest: null };
    if (report.watermark === null) return;
    for (const l of this.flushListeners) l(report);
  }

  /**
   * The partitions this instance is assigned (after each rebalance). Until then, and without Kafka,
   * every partition seen counts.
   */
  expectPartitions(topic: string, partitions: readonly number[]): void {
    this.assigned = { fields: new Set(partitions.map((p) => WindowKeys.partitionField(topic, p))), since: this.clock.now() };
  }

  /**
   * The overall watermark: the minimum over the assigned partitions. An assigned partition that has
   * shown no event yet holds it back for ingest.idlePartitionMs: reading a backlog, the first batch
   * of one partition may reach far ahead of the others, and the detector must not judge that time
   * before the others have caught up. A partition silent that long (empty) is left out.
   */
  watermark(): number | null {
    const n = this.assignedWatermarks(watermarkOf);
    if (n < 0) return null;
    let lowest: number | null = null;
    for (let i = 0; i < n; i++) if (lowest === null || this.scratch[i][1] < lowest) lowest = this.scratch[i][1];
    return lowest;
  }

  /**
   * The watermark of what is in the store: as watermark(), over the events of flushes that landed,
   * and leaving out a partition that has not moved for detector.partitionStallMs (a quiet partition
   * must not stop the detector). Flush reports carry it: with a flush in flight, events read since
   * are not yet counted there.
   */
  durableWatermark(): number | null {
    const n = this.assignedWatermarks(durableWatermarkOf);
    return n < 0 ? null : this.stalls.lowest(this.scratch.slice(0, n), this.clock.now());
  }

  /**
   * Puts [field, watermark] of the assigned partitions that have one in scratch[0, n) and returns n;
   * -1 while one that has shown no event is still waited for. The pairs are reused: watermark() runs
   * for every event (it is replay's clock), and must not allocate.
   */
  private assignedWatermarks(of: (p: PartitionState) => number | null): number {
    const waiting = this.assigned !== null && this.clock.now() - this.assigned.since < this.config.ingest.idlePartitionMs;
    let n = 0;
    for (const field of this.assigned?.fields ?? this.partitions.keys()) {
      const p = this.partitions.get(field);
      const pw = p === undefined ? null : of(p);
      if (pw === null) {
        if (waiting) return -1;
        continue;
      }
      const pair = this.scratch[n];
      if (pair === undefined) this.scratch.push([field, pw]);
      else {
        pair[0] = field;
        pair[1] = pw;
      }
      n++;
    }
    return n;
  }

  /**
   * Writes the pending batch: dead letters first, then the counters, so that nothing is committed
   * before it is durable. Resolves, in the order the flushes were started, with the offsets that
   * may now be committed. The counters are sent before the previous flush is answered (its markers
   * taken as set); callers that await each flush (replay, the demo) never have two out. Throws
   * when the store is unreachable or an earlier flush failed: the batch returns to pending and the
   * next call retries it.
   */
  async flush(): Promise<FlushReport> {
    const batch = this.pending;
    if (batch.lastOffsets.size === 0 && batch.letters.length === 0) return { events: 0, commits: [], watermark: this.durableWatermark(), earliest: null };
    this.pending = new PendingBatch();
    for (const field of batch.lastOffsets.keys()) {
      const p = this.partitions.get(field);
      if (!p) continue;
      p.flushWatermark = p.watermark;
      batch.watermarks.set(field, p.watermark);
    }
    const previous = this.inFlight;
    // writes reach the store in the order flushes start: a later one sent first would move the
    // markers past the earlier one's events, which would then be skipped as already counted
    const previousSent = this.lastSent;
    let markSent = (): void => undefined;
    this.lastSent = new Promise<void>((resolve) => (markSent = resolve));
    const run = this.write(batch, previous, previousSent, markSent);
    const settled = run.then(
      () => true,
      () => false,
    );
    this.inFlight = settled;
    void settled.then(() => {
      if (this.inFlight === settled) this.inFlight = null;
    });
    return run;
  }

  private async write(batch: PendingBatch, previous: Promise<boolean> | null, previousSent: Promise<void>, markSent: () => void): Promise<FlushReport> {
    const started = process.hrtime.bigint();
    try {
      if (batch.letters.length > 0) {
        await this.deadLetters.send(batch.letters);
        batch.letters = [];
      }
      await previousSent;
      for (let attempt = 0; ; attempt++) {
        const flush = await this.build(batch);
        const applying = this.store.apply(flush);
        // the next flush, built while this one is in the store, expects the markers this one sets
        this.assumeApplied(flush);
        markSent();
        if (previous !== null && !(await previous)) {
          applying.catch(() => undefined);
          throw new LockstepError('STORE_UNAVAILABLE', 'an earlier flush failed; this one is retried with it');
        }
        previous = null;
        let result;
        try {
          result = await applying;
        } catch (cause) {
          this.metrics.redisErrorsTotal.inc();
          throw new LockstepError('STORE_UNAVAILABLE', `window store write failed: ${(cause as Error).message}`, { cause });
        }
        this.metrics.redisRoundtripsTotal.inc(result.roundtrips);
        this.metrics.redisCommandsTotal.inc(result.commands);
        if (result.membersCapped > 0) this.metrics.membersCappedTotal.inc(result.membersCapped);
        if (result.conflicts.length === 0) break;
        this.metrics.storeConflictsTotal.inc(result.conflicts.length);
        if (attempt >= MAX_CONFLICT_RETRIES) throw new LockstepError('STORE_CONFLICT', `flush kept conflicting on shards ${result.conflicts.join(',')}`);
        // another writer advanced these partitions: read the markers again; the rebuild skips what it wrote
        this.invalidatePartitions();
      }
    } catch (err) {
      markSent();
      // nothing of this batch is known to be in the store: back to pending, and every marker
      // (some were assumed from flushes that did not land) is read again before the next build
      this.pending.absorb(batch);
      this.invalidatePartitions();
      throw err;
    }
    const commits: FlushReport['commits'] = [];
    for (const [field, offset] of batch.lastOffsets) {
      const p = this.partitions.get(field);
      if (!p) continue;
      commits.push({ topic: p.topic, partition: p.partition, offset: String(offset + 1) });
      const wm = batch.watermarks.get(field) ?? null;
      if (wm !== null && (p.durableWatermark === null || wm > p.durableWatermark)) p.durableWatermark = wm;
    }
    this.metrics.batchDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.metrics.batchEvents.observe(batch.events.length);
    const wm = this.durableWatermark();
    if (wm !== null) {
      this.metrics.watermarkSeconds.set(wm / 1000);
      this.metrics.watermarkLagSeconds.set(Math.max(0, (this.clock.now() - wm) / 1000));
    }
    if (this.behavior !== null) this.metrics.behaviorAccountsTracked.set(this.behavior.size);
    const report: FlushReport = { events: batch.events.length, commits, watermark: wm, earliest: batch.earliest };
    for (const l of this.flushListeners) l(report);
    return report;
  }

  /** The store write of a batch, against the partitions' current markers (read first where unknown). */
  private async build(batch: PendingBatch): Promise<Flush> {
    const builder = new FlushBuilder(this.windowKeys, this.config.windows.scales, this.config.windows.youngAccountAgeMs, this.config.windows.accountScales);
    for (const [field, lastOffset] of batch.lastOffsets) {
      const p = this.partitions.get(field);
      if (!p) throw new LockstepError('STORE_CONFLICT', `partition ${field} flushed before ensurePartition()`);
      if (p.markers === null) await this.ensurePartition(p.topic, p.partition);
      builder.partition(field, p.partition, p.markers as number[], lastOffset, batch.watermarks.get(field) ?? null);
    }
    for (let i = 0; i < batch.events.length; i++) {
      builder.addLinks(batch.events[i], batch.fields[i], batch.offsets[i], batch.linkTypes, batch.linkValues, i === 0 ? 0 : batch.linkEnds[i - 1], batch.linkEnds[i]);
    }
    return builder.build({
      maxMembersPerBucket: this.config.windows.maxMembersPerBucket,
      candidateMinMembers: this.config.detector.minFleetSize,
      lateness: this.config.ingest.allowedLatenessMs,
    });
  }

  /** Takes the flush's marker advances as stored; a conflict or failure has every marker read again. */
  private assumeApplied(flush: Flush): void {
    for (const [shard, advs] of flush.advances) {
      for (const a of advs) {
        const p = this.partitions.get(a.field);
        if (p?.markers) p.markers[shard] = a.next;
      }
    }
  }
}

function watermarkOf(p: PartitionState): number | null {
  return p.watermark;
}

function durableWatermarkOf(p: PartitionState): number | null {
  return p.durableWatermark;
}
