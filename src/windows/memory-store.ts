import type { ScaleConfig } from '../config/config';
import type { KeyType } from '../events/request-event';
import type { ApplyResult, BucketData, BucketWrite, Flush, KeyRef, WindowStore } from './store';
import { WindowKeys } from './keys';
import { emptyBucket, parseRef } from './bucket-fields';

/**
 * A bucket held in memory: its read form (BucketData) itself, kept current by every apply, so the
 * detector reads it again and again without decoding anything.
 */
interface MemoryBucket extends BucketData {
  byCapability: Map<string, number>;
  requests: number;
  members: Map<string, number>;
  young: Set<string>;
  overflow: number;
  distinct: number;
  /** member fields held: m: and y: count apart, as Redis's 'd' does (the cap counts fields) */
  fields: number;
  /** requests by a member while young (its y: field), to tell its m: field from its y: one */
  youngRequests: Map<string, number> | null;
}

/** Shared by buckets without members until their first; never written to */
const NO_MEMBERS = new Map<string, number>();
const NO_YOUNG = new Set<string>();

/** One bucket start of one scale: every key's counts there, and the keys that became candidates. */
interface Slot {
  /** type -> value -> bucket: found by the flush's own strings, no "type:value" key is built */
  keys: Map<KeyType, Map<string, MemoryBucket>>;
  candidates: Set<string>;
}

/**
 * The window store in process memory: the embedded default and replay. Same semantics as the
 * Redis script (apply-flush.lua), checked by the shared store test suite; laid out by scale and
 * bucket rather than by Redis key, so that a flush builds no key strings. Buckets expire in event
 * time: a scale keeps the buckets within its TTL of the newest bucket it has seen.
 */
export class MemoryWindowStore implements WindowStore {
  readonly kind = 'memory' as const;
  /** scale -> bucketStart -> slot */
  private readonly slots = new Map<string, Map<number, Slot>>();
  private readonly applied = new Map<number, Map<string, number>>();
  private readonly newest = new Map<string, number>();

  constructor(readonly keys: WindowKeys) {}

  async apply(flush: Flush): Promise<ApplyResult> {
    return this.applySync(flush);
  }

  private slot(scale: string, start: number): Slot {
    let byStart = this.slots.get(scale);
    if (!byStart) this.slots.set(scale, (byStart = new Map()));
    let slot = byStart.get(start);
    if (!slot) {
      byStart.set(start, (slot = { keys: new Map(), candidates: new Set() }));
      if (start > (this.newest.get(scale) ?? -Infinity)) this.newest.set(scale, start);
    }
    return slot;
  }

  /** Synchronous apply: replay calls it directly to stay off the microtask queue. */
  applySync(flush: Flush): ApplyResult {
    const result: ApplyResult = { conflicts: [], membersCapped: 0, roundtrips: 0, commands: 0 };
    for (const w of flush.shards) {
      const markers = this.applied.get(w.shard) ?? new Map<string, number>();
      const advances = flush.advances.get(w.shard) ?? [];
      if (advances.some((a) => (markers.get(a.field) ?? -1) !== a.expected)) {
        result.conflicts.push(w.shard);
        continue;
      }
      for (const a of advances) markers.set(a.field, a.next);
      for (const [field, wm] of flush.watermarks.get(w.shard) ?? []) markers.set(WindowKeys.watermarkField(field), wm);
      this.applied.set(w.shard, markers);
      for (const bw of w.buckets) {
        const slot = this.slot(bw.scale, bw.bucketStart);
        let byValue = slot.keys.get(bw.type);
        if (!byValue) slot.keys.set(bw.type, (byValue = new Map()));
        let b = byValue.get(bw.value);
        if (!b) {
          // most buckets (every account's and the population's) never get a member: they share empty collections
          b = { start: bw.bucketStart, byCapability: new Map(), requests: 0, members: NO_MEMBERS, young: NO_YOUNG, overflow: 0, distinct: 0, fields: 0, youngRequests: null };
          byValue.set(bw.value, b);
        }
        this.add(b, bw, flush.maxMembersPerBucket, result);
        if (bw.linked && b.fields >= flush.candidateMinMembers) slot.candidates.add(bw.ref);
      }
    }
    this.expire(flush);
    return result;
  }

  private add(b: MemoryBucket, bw: BucketWrite, maxMembers: number, result: ApplyResult): void {
    for (const [cap, inc] of bw.capabilities) {
      b.byCapability.set(cap, (b.byCapability.get(cap) ?? 0) + inc);
      b.requests += inc;
    }
    if (b.members === NO_MEMBERS && (bw.members !== null || bw.youngMembers !== null)) b.members = new Map();
    if (bw.members) for (const [a, inc] of bw.members) this.addMember(b, a, inc, false, maxMembers, result);
    if (bw.youngMembers) for (const [a, inc] of bw.youngMembers) this.addMember(b, a, inc, true, maxMembers, result);
    b.distinct = b.members.size;
  }

  /** One member field's increment: a new field is kept while the bucket holds fewer than maxMembers. */
  private addMember(b: MemoryBucket, account: string, inc: number, young: boolean, maxMembers: number, result: ApplyResult): void {
    const total = b.members.get(account) ?? 0;
    const youngRequests = b.youngRequests?.get(account) ?? 0;
    const hasField = young ? youngRequests > 0 : total > youngRequests;
    if (!hasField) {
      if (b.fields >= maxMembers) {
        b.overflow += inc;
        result.membersCapped++;
        return;
      }
      b.fields++;
    }
    b.members.set(account, total + inc);
    if (young) {
      if (b.young === NO_YOUNG) b.young = new Set();
      b.young.add(account);
      (b.youngRequests ??= new Map()).set(account, youngRequests + inc);
    }
  }

  private expire(flush: Flush): void {
    for (const [scale, byStart] of this.slots) {
      const ttl = flush.ttlMs.get(scale);
      const newest = this.newest.get(scale);
      if (ttl === undefined || newest === undefined) continue;
      for (const start of byStart.keys()) if (start < newest - ttl) byStart.delete(start);
    }
  }

  async readPartition(field: string): Promise<{ markers: number[]; watermark: number | null }> {
    const markers: number[] = [];
    let watermark: number | null = null;
    for (let s = 0; s < this.keys.shards; s++) {
      const m = this.applied.get(s);
      markers.push(m?.get(field) ?? -1);
      const wm = m?.get(WindowKeys.watermarkField(field));
      if (wm !== undefined) watermark = wm;
    }
    return { markers, watermark };
  }

  async readWatermarks(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const markers of this.applied.values()) {
      for (const [field, v] of markers) {
        const partition = WindowKeys.partitionOfWatermark(field);
        if (partition !== null) out.set(partition, v);
      }
    }
    return out;
  }

  async readBuckets(keys: KeyRef[], scale: ScaleConfig, fromStart: number, toStart: number): Promise<BucketData[][]> {
    const byStart = this.slots.get(scale.name);
    const out = keys.map((): BucketData[] => []);
    // bucket by bucket, so that each slot is looked up once for all keys, and its empty bucket made once
    for (let t = fromStart; t <= toStart; t += scale.bucketMs) {
      const slot = byStart?.get(t);
      const empty = emptyBucket(t);
      for (let i = 0; i < keys.length; i++) out[i].push(bucketIn(slot, keys[i]) ?? empty);
    }
    return out;
  }

  async readMemberFieldsPeak(keys: KeyRef[], scale: ScaleConfig, fromStart: number, toStart: number): Promise<number[]> {
    const byStart = this.slots.get(scale.name);
    const out = keys.map(() => 0);
    for (let t = fromStart; t <= toStart; t += scale.bucketMs) {
      const slot = byStart?.get(t);
      for (let i = 0; i < keys.length; i++) out[i] = Math.max(out[i], bucketIn(slot, keys[i])?.fields ?? 0);
    }
    return out;
  }

  async readCandidates(scale: ScaleConfig, bucketStarts: number[]): Promise<KeyRef[]> {
    const refs = new Set<string>();
    const byStart = this.slots.get(scale.name);
    for (const t of bucketStarts) for (const r of byStart?.get(t)?.candidates ?? []) refs.add(r);
    return [...refs].map((r) => {
      const { type, value } = parseRef(r);
      return { type: type as KeyType, value };
    });
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}

  /** bucket entries held (for memory-bound tests and the bench) */
  get bucketCount(): number {
    let n = 0;
    for (const byStart of this.slots.values()) for (const slot of byStart.values()) for (const byValue of slot.keys.values()) n += byValue.size;
    return n;
  }
}

/** A key's bucket in one slot, if it has one there. */
function bucketIn(slot: Slot | undefined, key: KeyRef): MemoryBucket | undefined {
  return slot?.keys.get(key.type)?.get(key.value);
}
