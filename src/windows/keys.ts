import type { KeyType } from '../events/request-event';

/**
 * The one place that builds every Redis key. Layout (prefix `ls` by default; {N} is the hash-tag
 * shard, so that every key one atomic write touches lives in one Redis Cluster slot):
 *
 *   ls:{N}:w:<scale>:<bucketStartMs>:<type>:<value>   hash, one key's counts in one bucket
 *       c:<capability>  requests on that capability
 *       m:<accountId>   requests by a member account (linking keys only)
 *       y:<accountId>   same, for a member that was young (created < youngAccountAgeMs before)
 *       d               distinct members kept (m: and y: fields)
 *       o               requests whose member was not kept (bucket reached maxMembersPerBucket)
 *   ls:{N}:applied                                      hash, per input partition <topic>/<partition>:
 *       the last offset applied to shard N, and <topic>/<partition>|wm the partition's watermark
 *   ls:{N}:cand:<scale>:<bucketStartMs>                set of "<type>:<value>" whose bucket reached
 *                                                      candidateMinMembers members (the detector's
 *                                                      work list; never a key scan)
 *
 * The shard of a key is fnv1a(type:value) mod shards.
 */
export class WindowKeys {
  constructor(
    readonly prefix: string,
    readonly shards: number,
  ) {}

  shardOf(type: KeyType, value: string): number {
    return fnv1a(type, value) % this.shards;
  }

  bucket(shard: number, scale: string, bucketStart: number, type: KeyType, value: string): string {
    return `${this.prefix}:{${shard}}:w:${scale}:${bucketStart}:${type}:${value}`;
  }

  applied(shard: number): string {
    return `${this.prefix}:{${shard}}:applied`;
  }

  candidates(shard: number, scale: string, bucketStart: number): string {
    return `${this.prefix}:{${shard}}:cand:${scale}:${bucketStart}`;
  }

  /** field of the applied hash holding a partition's last offset */
  static partitionField(topic: string, partition: number): string {
    return `${WindowKeys.partitionFieldPrefix(topic)}${partition}`;
  }

  /** what every partition field of a topic starts with */
  static partitionFieldPrefix(topic: string): string {
    return `${topic}/`;
  }

  /** field of the applied hash holding a partition's watermark (on its home shard) */
  static watermarkField(partitionField: string): string {
    return partitionField + WATERMARK_SUFFIX;
  }

  /** the partition field a watermark field belongs to, or null for a marker field */
  static partitionOfWatermark(field: string): string | null {
    return field.endsWith(WATERMARK_SUFFIX) ? field.slice(0, -WATERMARK_SUFFIX.length) : null;
  }

  /** home shard of a partition: where its watermark is kept */
  homeShard(partition: number): number {
    return partition % this.shards;
  }
}

const WATERMARK_SUFFIX = '|wm';

/** 32-bit FNV-1a over "type:value", without allocating the joined string. */
export function fnv1a(type: string, value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < type.length; i++) {
    h ^= type.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= 58; // ':'
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
