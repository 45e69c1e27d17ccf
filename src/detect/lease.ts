import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { Alert } from '../alerts/alert';
import type { AlertBookState } from './alert-book';

/**
 * What the lease holder saves at every evaluation: the alert book, and the outbox: alert messages
 * emitted but not yet confirmed by every listener (sinks delivered or gave up, enforcement acted).
 * A successor sends the outbox again, so that a holder's crash loses no message (it may repeat one:
 * a message is identified by alertId, status and detectedAt).
 */
export interface DetectorCheckpoint {
  book: AlertBookState;
  outbox: Alert[];
}

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
  loadState(): Promise<DetectorCheckpoint | null>;
  /** Saves only while this instance holds the lease (false when another does: its judgement counts, not ours). */
  saveState(state: DetectorCheckpoint): Promise<boolean>;
}

/** One process: always the holder. */
export class LocalLease implements DetectorLease {
  private state: DetectorCheckpoint | null = null;
  private held = false;
  async acquire(): Promise<'renewed' | 'taken'> {
    const r = this.held ? 'renewed' : 'taken';
    this.held = true;
    return r;
  }
  async release(): Promise<void> {}
  async loadState(): Promise<DetectorCheckpoint | null> {
    return this.state;
  }
  async saveState(state: DetectorCheckpoint): Promise<boolean> {
    this.state = state;
    return true;
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

const SAVE_STATE_LUA = `
-- KEYS[1] lease key, KEYS[2] book key, KEYS[3] outbox key; ARGV[1] owner, ARGV[2] book JSON,
-- ARGV[3] outbox JSON, ARGV[4] ttl ms.
-- Returns 1 when saved, 0 when ARGV[1] does not hold the lease (nothing written): a holder whose
-- lease lapsed mid-evaluation must not overwrite its successor's checkpoint.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
return 1`;

const RELEASE_LUA = `
-- KEYS[1] lease key; ARGV[1] owner. Deletes the lease only if ARGV[1] holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** how long a checkpoint outlives its last holder */
const STATE_TTL_MS = 7 * 86_400_000;

/** The lease in Redis: a key with an owner and a TTL the holder renews at every evaluation. */
export class RedisLease implements DetectorLease {
  private readonly leaseKey: string;
  /** the alert book alone, as versions before the outbox wrote it: they can still read it during a rolling upgrade */
  private readonly stateKey: string;
  private readonly outboxKey: string;

  constructor(
    private readonly client: Redis | Cluster,
    prefix: string,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {
    // one hash tag for both keys: same slot in Cluster
    this.leaseKey = `${prefix}:{detector}:lease`;
    this.stateKey = `${prefix}:{detector}:state`;
    this.outboxKey = `${prefix}:{detector}:outbox`;
  }

  async acquire(): Promise<'renewed' | 'taken' | null> {
    const r = await this.client.eval(ACQUIRE_LUA, 1, this.leaseKey, this.owner, this.ttlMs);
    return r === 1 ? 'renewed' : r === 2 ? 'taken' : null;
  }

  async release(): Promise<void> {
    await this.client.eval(RELEASE_LUA, 1, this.leaseKey, this.owner);
  }

  async loadState(): Promise<DetectorCheckpoint | null> {
    const [book, outbox] = await this.client.mget(this.stateKey, this.outboxKey);
    if (book === null) return null;
    return { book: JSON.parse(book) as AlertBookState, outbox: outbox === null ? [] : (JSON.parse(outbox) as Alert[]) };
  }

  async saveState(state: DetectorCheckpoint): Promise<boolean> {
    const saved = await this.client.eval(SAVE_STATE_LUA, 3, this.leaseKey, this.stateKey, this.outboxKey, this.owner, JSON.stringify(state.book), JSON.stringify(state.outbox), STATE_TTL_MS);
    return saved === 1;
  }
}
