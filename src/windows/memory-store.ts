import type { ScaleConfig } from '../config/config';
import type { KeyType } from '../events/request-event';
import type { ApplyResult, BucketData, Flush, KeyRef, WindowStore } from './store';
import { WindowKeys } from './keys';
import { decodeBucket, parseRef } from './bucket-fields';

interface Bucket {
  fields: Map<string, number>;
  distinct: number;
}

/**
 * The window store in process memory: the embedded default and replay. Same semantics as the
 * Redis script (apply-flush.lua), checked by the shared store test suite. Buckets expire in event
 * time: a scale keeps the buckets within its TTL of the newest bucket it has seen.
 */
export class MemoryWindowStore implements WindowStore {
  readonly kind = 'memory' as const;
  private readonly buckets = new Map<string, Bucket>();
  private readonly candidates = new Map<string, Set<string>>();
  private readonly applied = new Map<number, Map<string, number>>();
  /** scale -> bucketStart -> keys written there (bucket hashes and candidate sets), for expiry */
  private readonly byBucket = new Map<string, Map<number, Set<string>>>();
  private readonly newest = new Map<string, number>();

  constructor(readonly keys: WindowKeys) {}

  async apply(flush: Flush): Promise<ApplyResult> {
    return this.applySync(flush);
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
      for (const [field, wm] of flush.watermarks.get(w.shard) ?? []) markers.set(field + '|wm', wm);
      this.applied.set(w.shard, markers);
      for (const [key, bw] of w.buckets) {
        let b = this.buckets.get(key);
        if (!b) {
          b = { fields: new Map(), distinct: 0 };
          this.buckets.set(key, b);
          this.track(bw.scale, bw.bucketStart, key);
        }
        for (const [field, inc] of bw.fields) {
          const kind = field.charCodeAt(0);
          if (kind === 109 || kind === 121) {
            const cur = b.fields.get(field);
            if (cur === undefined && b.distinct >= flush.maxMembersPerBucket) {
              b.fields.set('o', (b.fields.get('o') ?? 0) + inc);
              result.membersCapped++;
              continue;
            }
            if (cur === undefined) b.distinct++;
            b.fields.set(field, (cur ?? 0) + inc);
          } else {
            b.fields.set(field, (b.fields.get(field) ?? 0) + inc);
          }
        }
        if (bw.candidatesKey !== null && b.distinct >= flush.candidateMinMembers) {
          let set = this.candidates.get(bw.candidatesKey);
          if (!set) {
            set = new Set();
            this.candidates.set(bw.candidatesKey, set);
            this.track(bw.scale, bw.bucketStart, bw.candidatesKey);
          }
          set.add(bw.ref);
        }
      }
    }
    this.expire(flush);
    return result;
  }

  private track(scale: string, start: number, key: string): void {
    let m = this.byBucket.get(scale);
    if (!m) this.byBucket.set(scale, (m = new Map()));
    let set = m.get(start);
    if (!set) m.set(start, (set = new Set()));
    set.add(key);
    if (start > (this.newest.get(scale) ?? -Infinity)) this.newest.set(scale, start);
  }

  private expire(flush: Flush): void {
    for (const [scale, m] of this.byBucket) {
      const ttl = flush.ttlMs.get(scale);
      const newest = this.newest.get(scale);
      if (ttl === undefined || newest === undefined) continue;
      for (const [start, keys] of m) {
        if (start >= newest - ttl) continue;
        for (const k of keys) {
          this.buckets.delete(k);
          this.candidates.delete(k);
        }
        m.delete(start);
      }
    }
  }

  async readPartition(field: string): Promise<{ markers: number[]; watermark: number | null }> {
    const markers: number[] = [];
    let watermark: number | null = null;
    for (let s = 0; s < this.keys.shards; s++) {
      const m = this.applied.get(s);
      markers.push(m?.get(field) ?? -1);
      const wm = m?.get(field + '|wm');
      if (wm !== undefined) watermark = wm;
    }
    return { markers, watermark };
  }

  async readBuckets(keys: KeyRef[], scale: ScaleConfig, fromStart: number, toStart: number): Promise<BucketData[][]> {
    return keys.map((k) => {
      const shard = this.keys.shardOf(k.type, k.value);
      const out: BucketData[] = [];
      for (let t = fromStart; t <= toStart; t += scale.bucketMs) {
        const b = this.buckets.get(this.keys.bucket(shard, scale.name, t, k.type, k.value));
        out.push(decodeBucket(t, b ? b.fields : []));
      }
      return out;
    });
  }

  async readCandidates(scale: ScaleConfig, bucketStarts: number[]): Promise<KeyRef[]> {
    const refs = new Set<string>();
    for (let s = 0; s < this.keys.shards; s++) {
      for (const t of bucketStarts) {
        for (const r of this.candidates.get(this.keys.candidates(s, scale.name, t)) ?? []) refs.add(r);
      }
    }
    return [...refs].map((r) => {
      const { type, value } = parseRef(r);
      return { type: type as KeyType, value };
    });
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}

  /** bucket hashes held (for memory-bound tests and the bench) */
  get bucketCount(): number {
    return this.buckets.size;
  }
}
