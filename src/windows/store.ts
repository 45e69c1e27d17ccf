import type { KeyType } from '../events/request-event';
import type { ScaleConfig } from '../config/config';

/** One linking key (or account, or population) as the store addresses it. */
export interface KeyRef {
  type: KeyType;
  value: string;
}

/** Increments for one bucket of one key. Stores derive their own addresses (Redis keys, fields) from it. */
export interface BucketWrite {
  type: KeyType;
  value: string;
  /** "type:value", the candidates set member */
  ref: string;
  /** the scale name (its TTL group) */
  scale: string;
  bucketStart: number;
  /** a linking key (may become a detector candidate), not an account or the population */
  linked: boolean;
  /** capability -> requests (field c:<capability>) */
  capabilities: Map<string, number>;
  /** linking keys only: member account -> requests while it was not young (field m:<account>) */
  members: Map<string, number> | null;
  /** linking keys only: member account -> requests while it was young (field y:<account>) */
  youngMembers: Map<string, number> | null;
}

/**
 * Increments for one shard in one flush, pre-aggregated. Built by FlushBuilder; applied
 * atomically per shard by a WindowStore.
 */
export interface ShardWrite {
  shard: number;
  buckets: BucketWrite[];
}

/** Exactly-once guard for one input partition in one flush (compare-and-set on the shard marker). */
export interface PartitionAdvance {
  field: string;
  /** marker the writer believes is stored (-1 = none) */
  expected: number;
  /** last offset of this flush's events for the partition */
  next: number;
}

export interface Flush {
  shards: ShardWrite[];
  /** per shard: the partitions whose marker this flush advances there */
  advances: Map<number, PartitionAdvance[]>;
  /** per home shard: partition watermark to store, field -> watermark ms */
  watermarks: Map<number, Map<string, number>>;
  /** TTL of bucket keys per scale name (ms) */
  ttlMs: Map<string, number>;
  maxMembersPerBucket: number;
  /** distinct members that make a bucket's key a detector candidate */
  candidateMinMembers: number;
}

/** Status codes returned by the apply script; one enum maps them (see lua/apply-flush.lua). */
export enum ApplyStatus {
  Applied = 1,
  Conflict = -1,
}

export interface ApplyResult {
  /** shards whose marker did not match: nothing was written to them; refresh and retry */
  conflicts: number[];
  /** member fields not kept because a bucket was full */
  membersCapped: number;
  roundtrips: number;
  commands: number;
}

/**
 * One bucket of one key, as the detector and the HTTP API read it. Read-only: the memory store
 * hands out its own buckets (read them before the next apply), the Redis store fresh ones.
 */
export interface BucketData {
  readonly start: number;
  /** capability -> requests (a Map: the detector walks thousands of these per tick, and a Map's iteration is cheap) */
  readonly byCapability: ReadonlyMap<string, number>;
  /** requests in this bucket (the sum of byCapability) */
  readonly requests: number;
  /** accountId -> requests in this bucket */
  readonly members: ReadonlyMap<string, number>;
  /** members that were young accounts */
  readonly young: ReadonlySet<string>;
  /** requests whose member was not kept (cap reached) */
  readonly overflow: number;
  /** distinct members kept */
  readonly distinct: number;
}

/**
 * The window store: sliding-window counters in event time. Two implementations share one test
 * suite (test/windows/store-contract.ts): RedisWindowStore (standalone or Cluster) and
 * MemoryWindowStore (the embedded default and replay).
 */
export interface WindowStore {
  readonly kind: 'redis' | 'memory';
  /** Applies a flush; each shard atomically and only if its partition markers are as expected. */
  apply(flush: Flush): Promise<ApplyResult>;
  /** Markers of one partition on every shard (-1 where none), and its stored watermark. */
  readPartition(field: string): Promise<{ markers: number[]; watermark: number | null }>;
  /** The stored watermark of every input partition any writer flushed: partition field -> ms. */
  readWatermarks(): Promise<Map<string, number>>;
  /** Buckets [fromStart, toStart] of each key at one scale, in one round trip; missing buckets are empty. */
  readBuckets(keys: KeyRef[], scale: ScaleConfig, fromStart: number, toStart: number): Promise<BucketData[][]>;
  /**
   * Per key, the most member fields (m: and y:, the `d` of the Redis layout) any one of its buckets
   * in [fromStart, toStart] holds: one number per bucket read instead of every member, so that the
   * detector can set aside keys shared too widely before reading their buckets. A member seen both
   * young and not holds two fields, so this is at most twice the distinct members.
   */
  readMemberFieldsPeak(keys: KeyRef[], scale: ScaleConfig, fromStart: number, toStart: number): Promise<number[]>;
  /** Keys whose bucket reached candidateMinMembers in any of the given buckets of a scale (the detector's work list). */
  readCandidates(scale: ScaleConfig, bucketStarts: number[]): Promise<KeyRef[]>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
