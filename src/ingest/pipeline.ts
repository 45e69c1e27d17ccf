import type { Config } from '../config/config';
import type { Clock } from '../clock';
import type { KeyType, LinkType, RequestEvent } from '../events/request-event';
import { decodeEvent, type DecoderOptions } from '../events/decode';
import type { Metrics } from '../metrics/metrics';
import { FlushBuilder } from '../windows/flush-builder';
import { WindowKeys } from '../windows/keys';
import type { WindowStore } from '../windows/store';
import { LockstepError } from '../errors';
import { attributeLinks } from './links';
import type { DeadLetter, DeadLetterSink } from './dead-letter';

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
  /** the watermark lateness is judged against during the current flush */
  flushWatermark: number | null;
  /** last offset seen in the pending flush (-1 none) */
  lastOffset: number;
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
  // pending flush: parallel arrays, retained until the store has them (a conflict rebuilds from them)
  private pendingEvents: RequestEvent[] = [];
  private pendingEarliest: number | null = null;
  private pendingFields: string[] = [];
  private pendingOffsets: number[] = [];
  /** links of the pending events, flat: event i's are entries [pendingLinkEnds[i-1], pendingLinkEnds[i]) */
  private pendingLinkTypes: KeyType[] = [];
  private pendingLinkValues: string[] = [];
  private pendingLinkEnds: number[] = [];
  private readonly emitLink = (type: LinkType, value: string): void => {
    this.pendingLinkTypes.push(type);
    this.pendingLinkValues.push(value);
  };
  private pendingLetters: DeadLetter[] = [];
  private pendingSince: number | null = null;
  private readonly flushListeners: ((r: FlushReport) => void)[] = [];
  /** partitions assigned to this instance, and since when (wall clock) */
  private assigned: { fields: Set<string>; since: number } | null = null;

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
      p = { topic, partition, field, markers: null, watermark: null, flushWatermark: null, lastOffset: -1 };
      this.partitions.set(field, p);
    }
    if (p.markers !== null) return;
    const stored = await this.store.readPartition(field);
    p.markers = stored.markers;
    if (stored.watermark !== null && (p.watermark === null || stored.watermark > p.watermark)) p.watermark = stored.watermark;
    p.flushWatermark = p.watermark;
  }

  /** Takes one message of a partition whose state ensurePartition() loaded. */
  ingest(topic: string, partition: number, msg: IncomingMessage): void {
    const field = WindowKeys.partitionField(topic, partition);
    const p = this.partitions.get(field);
    if (!p || p.markers === null) throw new LockstepError('STORE_CONFLICT', `partition ${field} used before ensurePartition()`);
    const offset = Number(msg.offset);
    if (offset > p.lastOffset) p.lastOffset = offset;
    if (this.pendingSince === null) this.pendingSince = this.clock.now();
    // already processed by a flush that reached the store (redelivery): its letters and metrics are done
    const redelivered = offset <= p.markers[this.windowKeys.homeShard(partition)];
    const decoded = decodeEvent(msg.value, this.decoderOptions, this.clock.now());
    if (!decoded.ok) {
      if (redelivered) return;
      this.metrics.eventsTotal.inc({ result: 'invalid' });
      this.metrics.deadLetteredTotal.inc({ reason: decoded.reason });
      this.pendingLetters.push({ topic, partition, offset: msg.offset, key: msg.key, value: msg.value, reason: decoded.reason, detail: decoded.detail });
      return;
    }
    const e = decoded.event;
    if (p.flushWatermark !== null && e.ts < p.flushWatermark - this.config.ingest.allowedLatenessMs) {
      if (!redelivered) this.metrics.eventsTotal.inc({ result: 'late' });
      return;
    }
    if (p.watermark === null || e.ts > p.watermark) p.watermark = e.ts;
    if (!redelivered) this.metrics.eventsTotal.inc({ result: 'ok' });
    this.pendingEvents.push(e);
    if (this.pendingEarliest === null || e.ts < this.pendingEarliest) this.pendingEarliest = e.ts;
    this.pendingFields.push(field);
    this.pendingOffsets.push(offset);
    this.addLinks(e);
  }

  private addLinks(e: RequestEvent): void {
    attributeLinks(e, this.linkTypes, this.emitLink);
    if (this.behavior !== null && this.linkTypes.has('behavior')) {
      for (const band of this.behavior.observe(e.accountId, e.ts, e.capability)) this.emitLink('behavior', band);
    }
    this.pendingLinkEnds.push(this.pendingLinkTypes.length);
  }

  get pendingCount(): number {
    return this.pendingEvents.length + this.pendingLetters.length;
  }

  /** True when the pending flush is large or old enough. */
  shouldFlush(): boolean {
    if (this.pendingSince === null) return false;
    return this.pendingEvents.length >= this.config.ingest.flushMaxEvents || this.clock.now() - this.pendingSince >= this.config.ingest.flushIntervalMs;
  }

  /** Tells the flush listeners the current watermark without a flush (nothing pending). */
  announceWatermark(): void {
    const report: FlushReport = { events: 0, commits: [], watermark: this.watermark(), earliest: null };
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
    let wm: number | null = null;
    const waiting = this.assigned !== null && this.clock.now() - this.assigned.since < this.config.ingest.idlePartitionMs;
    for (const field of this.assigned?.fields ?? this.partitions.keys()) {
      const p = this.partitions.get(field);
      if (p === undefined || p.watermark === null) {
        if (waiting) return null;
        continue;
      }
      if (wm === null || p.watermark < wm) wm = p.watermark;
    }
    return wm;
  }

  /**
   * Writes the pending flush: dead letters first, then the counters, so that nothing is committed
   * before it is durable. Returns the offsets that may now be committed. Throws when the store is
   * unreachable; the pending flush is kept and the next call retries it.
   */
  async flush(): Promise<FlushReport> {
    const touched = [...this.partitions.values()].filter((p) => p.lastOffset >= 0);
    if (touched.length === 0 && this.pendingLetters.length === 0) return { events: 0, commits: [], watermark: this.watermark(), earliest: null };
    const started = process.hrtime.bigint();
    if (this.pendingLetters.length > 0) {
      await this.deadLetters.send(this.pendingLetters);
      this.pendingLetters = [];
    }
    for (let attempt = 0; ; attempt++) {
      const builder = new FlushBuilder(this.windowKeys, this.config.windows.scales, this.config.windows.youngAccountAgeMs);
      for (const p of touched) {
        if (p.markers === null) await this.ensurePartition(p.topic, p.partition);
        builder.partition(p.field, p.partition, p.markers as number[], p.lastOffset, p.watermark);
      }
      for (let i = 0; i < this.pendingEvents.length; i++) {
        builder.addLinks(this.pendingEvents[i], this.pendingFields[i], this.pendingOffsets[i], this.pendingLinkTypes, this.pendingLinkValues, i === 0 ? 0 : this.pendingLinkEnds[i - 1], this.pendingLinkEnds[i]);
      }
      const flush = builder.build({
        maxMembersPerBucket: this.config.windows.maxMembersPerBucket,
        candidateMinMembers: this.config.detector.minFleetSize,
        lateness: this.config.ingest.allowedLatenessMs,
      });
      let result;
      try {
        result = await this.store.apply(flush);
      } catch (cause) {
        this.metrics.redisErrorsTotal.inc();
        throw new LockstepError('STORE_UNAVAILABLE', `window store write failed: ${(cause as Error).message}`, { cause });
      }
      this.metrics.redisRoundtripsTotal.inc(result.roundtrips);
      this.metrics.redisCommandsTotal.inc(result.commands);
      if (result.membersCapped > 0) this.metrics.membersCappedTotal.inc(result.membersCapped);
      // shards that took the write now hold `next` for each advanced partition
      const conflicted = new Set(result.conflicts);
      for (const [shard, advs] of flush.advances) {
        if (conflicted.has(shard)) continue;
        for (const a of advs) {
          const p = this.partitions.get(a.field);
          if (p?.markers) p.markers[shard] = a.next;
        }
      }
      if (conflicted.size === 0) break;
      this.metrics.storeConflictsTotal.inc(conflicted.size);
      if (attempt >= MAX_CONFLICT_RETRIES) throw new LockstepError('STORE_CONFLICT', `flush kept conflicting on shards ${[...conflicted].join(',')}`);
      // another writer advanced these partitions: read the markers again; the rebuild skips what it wrote
      for (const p of touched) p.markers = null;
    }
    const events = this.pendingEvents.length;
    const earliest = this.pendingEarliest;
    this.pendingEarliest = null;
    const commits = touched.map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.lastOffset + 1) }));
    for (const p of touched) {
      p.lastOffset = -1;
      p.flushWatermark = p.watermark;
    }
    this.pendingEvents = [];
    this.pendingFields = [];
    this.pendingOffsets = [];
    this.pendingLinkTypes = [];
    this.pendingLinkValues = [];
    this.pendingLinkEnds = [];
    this.pendingSince = null;
    this.metrics.batchDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.metrics.batchEvents.observe(events);
    const wm = this.watermark();
    if (wm !== null) {
      this.metrics.watermarkSeconds.set(wm / 1000);
      this.metrics.watermarkLagSeconds.set(Math.max(0, (this.clock.now() - wm) / 1000));
    }
    if (this.behavior !== null) this.metrics.behaviorAccountsTracked.set(this.behavior.size);
    const report: FlushReport = { events, commits, watermark: wm, earliest };
    for (const l of this.flushListeners) l(report);
    return report;
  }

  /** Drops the state of partitions this instance no longer owns. */
  forgetPartition(topic: string, partition: number): void {
    this.partitions.delete(WindowKeys.partitionField(topic, partition));
  }
}
