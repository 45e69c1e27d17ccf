import type { ScaleConfig } from '../config/config';
import type { KeyType, RequestEvent } from '../events/request-event';
import type { BucketWrite, Flush, PartitionAdvance, ShardWrite } from './store';
import { WindowKeys } from './keys';

/** A key the event counts toward. */
export interface KeyLink {
  type: KeyType;
  value: string;
}

interface KeyAggregate {
  type: KeyType;
  value: string;
  ref: string;
  shard: number;
  linked: boolean;
  /**
   * The key's bucket writes in this flush, and the scale index of each: a few (one per scale, more
   * when the flush spans bucket boundaries), so arrays searched from the newest rather than a Map
   * per scale: a flush makes these for nearly every key it touches.
   */
  writes: BucketWrite[];
  scaleOf: number[];
}

/** Per input partition in this flush: the shards it touched and its last offset. */
interface PartitionAggregate {
  markers: number[];
  lastOffset: number;
  shards: Set<number>;
  watermark: number | null;
  home: number;
}

/**
 * Pre-aggregates a flush in memory: every event adds to its account, the population and each of
 * its links, in every scale's bucket; the store then receives one write per shard. An event is left
 * out of a shard whose marker for its partition already covers its offset, which is what makes a
 * redelivered batch count once.
 */
export class FlushBuilder {
  /** type -> value -> aggregate: looked up by the event's own strings, so no "type:value" is built per event */
  private readonly keys = new Map<KeyType, Map<string, KeyAggregate>>();
  private readonly partitions = new Map<string, PartitionAggregate>();
  /** per scale: the bucket start of the event being added */
  private readonly starts: number[];
  /** per scale: whether accounts' own buckets are kept there (windows.accountScales) */
  private readonly accountAt: boolean[];
  private readonly anyAccountScale: boolean;
  private events = 0;

  constructor(
    private readonly windowKeys: WindowKeys,
    private readonly scales: readonly ScaleConfig[],
    private readonly youngAccountAgeMs: number,
    accountScales: readonly string[] = scales.map((s) => s.name),
  ) {
    this.starts = scales.map(() => 0);
    this.accountAt = scales.map((s) => accountScales.includes(s.name));
    this.anyAccountScale = this.accountAt.includes(true);
  }

  get size(): number {
    return this.events;
  }

  /** Registers a partition's markers for this flush; call before add() for that partition. */
  partition(field: string, partition: number, markers: number[], lastOffset: number, watermark: number | null): void {
    const p = this.partitions.get(field);
    if (p) {
      p.lastOffset = Math.max(p.lastOffset, lastOffset);
      p.watermark = watermark;
      return;
    }
    this.partitions.set(field, { markers, lastOffset, shards: new Set(), watermark, home: this.windowKeys.homeShard(partition) });
  }

  add(e: RequestEvent, field: string, offset: number, links: readonly KeyLink[]): void {
    const p = this.begin(e, field);
    const young = this.isYoung(e);
    if (this.anyAccountScale) this.addTo(p, offset, 'account', e.accountId, e.capability, null, young);
    this.addTo(p, offset, 'population', '*', e.capability, null, young);
    for (let i = 0; i < links.length; i++) this.addTo(p, offset, links[i].type, links[i].value, e.capability, e.accountId, young);
  }

  /** add() with the links as parallel arrays, entries [from, to): the pipeline keeps them so, without an object per link. */
  addLinks(e: RequestEvent, field: string, offset: number, types: readonly KeyType[], values: readonly string[], from: number, to: number): void {
    const p = this.begin(e, field);
    const young = this.isYoung(e);
    if (this.anyAccountScale) this.addTo(p, offset, 'account', e.accountId, e.capability, null, young);
    this.addTo(p, offset, 'population', '*', e.capability, null, young);
    for (let i = from; i < to; i++) this.addTo(p, offset, types[i], values[i], e.capability, e.accountId, young);
  }

  private begin(e: RequestEvent, field: string): PartitionAggregate {
    const p = this.partitions.get(field);
    if (!p) throw new Error(`partition ${field} not registered`);
    this.events++;
    for (let s = 0; s < this.scales.length; s++) this.starts[s] = e.ts - (e.ts % this.scales[s].bucketMs);
    return p;
  }

  private isYoung(e: RequestEvent): boolean {
    return e.accountCreatedTs !== undefined && e.ts - e.accountCreatedTs < this.youngAccountAgeMs;
  }

  private addTo(p: PartitionAggregate, offset: number, type: KeyType, value: string, capability: string, member: string | null, young: boolean): void {
    let byValue = this.keys.get(type);
    if (!byValue) this.keys.set(type, (byValue = new Map()));
    let k = byValue.get(value);
    if (!k) {
      k = { type, value, ref: type + ':' + value, shard: this.windowKeys.shardOf(type, value), linked: type !== 'account' && type !== 'population', writes: [], scaleOf: [] };
      byValue.set(value, k);
    }
    if (offset <= p.markers[k.shard]) return;
    p.shards.add(k.shard);
    for (let s = 0; s < this.scales.length; s++) {
      if (type === 'account' && !this.accountAt[s]) continue;
      const start = this.starts[s];
      let w = writeOf(k, s, start);
      if (w === null) {
        w = { type, value, ref: k.ref, scale: this.scales[s].name, bucketStart: start, linked: k.linked, capabilities: new Map(), members: null, youngMembers: null };
        k.writes.push(w);
        k.scaleOf.push(s);
      }
      w.capabilities.set(capability, (w.capabilities.get(capability) ?? 0) + 1);
      if (member === null) continue;
      const into = young ? (w.youngMembers ??= new Map()) : (w.members ??= new Map());
      into.set(member, (into.get(member) ?? 0) + 1);
    }
  }

  build(opts: { maxMembersPerBucket: number; candidateMinMembers: number; lateness: number }): Flush {
    const shards = new Map<number, ShardWrite>();
    const shardOf = (n: number): ShardWrite => {
      let w = shards.get(n);
      if (!w) {
        w = { shard: n, buckets: [] };
        shards.set(n, w);
      }
      return w;
    };
    const ttlMs = new Map<string, number>();
    for (const sc of this.scales) ttlMs.set(sc.name, sc.bucketMs * (sc.buckets + 1) + opts.lateness);
    for (const byValue of this.keys.values()) {
      for (const k of byValue.values()) {
        const into = shardOf(k.shard).buckets;
        for (const w of k.writes) into.push(w);
      }
    }
    const advances = new Map<number, PartitionAdvance[]>();
    const watermarks = new Map<number, Map<string, number>>();
    for (const [field, p] of this.partitions) {
      p.shards.add(p.home);
      for (const s of p.shards) {
        // a redelivered flush whose offsets a shard already covers leaves that shard's marker alone
        if (p.lastOffset <= p.markers[s]) continue;
        shardOf(s);
        let list = advances.get(s);
        if (!list) advances.set(s, (list = []));
        list.push({ field, expected: p.markers[s], next: p.lastOffset });
      }
      if (p.watermark !== null && p.lastOffset > p.markers[p.home]) {
        let m = watermarks.get(p.home);
        if (!m) watermarks.set(p.home, (m = new Map()));
        m.set(field, p.watermark);
      }
    }
    return {
      shards: [...shards.values()],
      advances,
      watermarks,
      ttlMs,
      maxMembersPerBucket: opts.maxMembersPerBucket,
      candidateMinMembers: opts.candidateMinMembers,
    };
  }
}

/** The key's write to bucket `start` of scale `s`, or null; searched from the newest (events mostly come in time order). */
function writeOf(k: KeyAggregate, s: number, start: number): BucketWrite | null {
  for (let i = k.writes.length - 1; i >= 0; i--) if (k.scaleOf[i] === s && k.writes[i].bucketStart === start) return k.writes[i];
  return null;
}
