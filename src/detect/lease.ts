import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { AlertBookState } from './alert-book';

/**
 * Who evaluates: one instance at a time holds the detector lease, so that every fleet key is
 * evaluated once per tick however many instances share the consumer group. The holder checkpoints
 * the alert book, so that a successor continues the same episodes (same alertIds) instead of
 * firing duplicates or forgetting to resolve.
 */
export interface DetectorLease {
  /** 'renewed' when this instance held the lease since its last call, 'taken' when it just got it, null when another holds it */
  acquire(): Promise<'renewed' | 'taken' | null>;
  release(): Promise<void>;
  loadState(): Promise<AlertBookState | null>;
  saveState(state: AlertBookState): Promise<void>;
}

/** One process: always the holder. */
export class LocalLease implements DetectorLease {
  private state: AlertBookState | null = null;
  private held = false;
  async acquire(): Promise<'renewed' | 'taken'> {
    const r = this.held ? 'renewed' : 'taken';
    this.held = true;
    return r;
  }
  async release(): Promise<void> {}
  async loadState(): Promise<AlertBookState | null> {
    return this.state;
  }
  async saveState(state: AlertBookState): Promise<void> {
    this.state = state;
  }
}

const ACQUIRE_LUA = `
-- KEYS[1] lease key; ARGV[1] owner; ARGV[2] ttl ms.
-- Returns 1 when ARGV[1] held the lease and renewed it, 2 when it took a free lease, 0 when another holds it.
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0`;

const RELEASE_LUA = `
-- KEYS[1] lease key; ARGV[1] owner. Deletes the lease only if ARGV[1] holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The lease in Redis: a key with an owner and a TTL the holder renews at every evaluation. */
export class RedisLease implements DetectorLease {
  private readonly leaseKey: string;
  private readonly stateKey: string;

  constructor(
    private readonly client: Redis | Cluster,
    prefix: string,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {
    // one hash tag for both keys: same slot in Cluster
    this.leaseKey = `${prefix}:{detector}:lease`;
    this.stateKey = `${prefix}:{detector}:state`;
  }

  async acquire(): Promise<'renewed' | 'taken' | null> {
    const r = await this.client.eval(ACQUIRE_LUA, 1, this.leaseKey, this.owner, this.ttlMs);
    return r === 1 ? 'renewed' : r === 2 ? 'taken' : null;
  }

  async release(): Promise<void> {
    await this.client.eval(RELEASE_LUA, 1, this.leaseKey, this.owner);
  }

  async loadState(): Promise<AlertBookState | null> {
    const raw = await this.client.get(this.stateKey);
    return raw === null ? null : (JSON.parse(raw) as AlertBookState);
  }

  async saveState(state: AlertBookState): Promise<void> {
    await this.client.set(this.stateKey, JSON.stringify(state), 'PX', 7 * 86_400_000);
  }
}
