import { LockstepError } from '../errors';
import { bandKeys, combineHash, createSignature, fnv1aString, resetSignature, rowsPerBand, updateSignature } from './minhash';

/**
 * The "behavior" linking key: accounts whose recent activity (when, on what, how hard) is nearly the
 * same get the same LSH band keys, so the window store groups them like accounts sharing an IP.
 * SynchroTrap-style MinHash/LSH, made streaming: one signature per account per tumbling window.
 *
 * Tokens. A cell is (floor(ts / tokenBucketMs), capability). Presence of cells alone cannot tell a
 * fleet from developers who code all through office hours: anyone active in every bucket has the
 * same cell set. So each cell also contributes one token per power of two its request count
 * reaches, (cell, level) for level = 0, 1, 2, … ⌊log2 count⌋. The MinHash then estimates a weighted
 * Jaccard over per-bucket intensity profiles: scripted accounts fired by one scheduler stay alike,
 * humans whose per-bucket volume varies by orders of magnitude drift apart.
 * See docs/detector-math.md ("Behavior fingerprint").
 */

export interface BehaviorConfig {
  tokenBucketMs: number;
  windowMs: number;
  signatureSize: number;
  bands: number;
  /** distinct cells (bucket × capability) an account needs in its window before it gets keys */
  minTokens: number;
  maxAccounts: number;
}

/** Returned while an account has no fingerprint yet: shared and frozen, never allocated per event. */
const NO_KEYS: readonly string[] = Object.freeze([]);
/** Cell hash 0 marks an empty slot of the count table. */
const EMPTY_CELL = 0;
const INITIAL_CELL_CAPACITY = 16;

/** One account's state in its current window. Reused on eviction, so steady state allocates nothing. */
class AccountBehavior {
  window: number;
  readonly signature: Uint32Array;
  /** distinct cells seen in the window */
  cells = 0;
  /** open-addressing table of [cellHash, count] pairs; capacity is a power of two */
  private table = new Uint32Array(INITIAL_CELL_CAPACITY * 2);
  private used = 0;
  /** band keys of the current signature, null when the signature changed since they were built */
  keys: readonly string[] | null = null;

  constructor(signatureSize: number, window: number) {
    this.signature = createSignature(signatureSize);
    this.window = window;
  }

  reset(window: number): void {
    this.window = window;
    this.cells = 0;
    this.used = 0;
    this.table.fill(0);
    this.keys = null;
    resetSignature(this.signature);
  }

  /** Adds one request to a cell; returns the cell's new count. */
  increment(cell: number): number {
    if ((this.used + 1) * 2 > this.capacity()) this.grow();
    const slot = this.slotOf(cell);
    if (this.table[slot] === EMPTY_CELL) {
      this.table[slot] = cell;
      this.used++;
    }
    return ++this.table[slot + 1];
  }

  private capacity(): number {
    return this.table.length >>> 1;
  }

  /** Index of the cell's pair, or of the empty pair where it belongs (linear probing). */
  private slotOf(cell: number): number {
    const mask = this.capacity() - 1;
    let i = cell & mask;
    while (this.table[i * 2] !== EMPTY_CELL && this.table[i * 2] !== cell) i = (i + 1) & mask;
    return i * 2;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] === EMPTY_CELL) continue;
      const slot = this.slotOf(old[i]);
      this.table[slot] = old[i];
      this.table[slot + 1] = old[i + 1];
    }
  }
}

function requirePositiveInteger(config: BehaviorConfig, field: keyof BehaviorConfig): void {
  const v = config[field];
  if (!(Number.isInteger(v) && v >= 1)) {
    throw new LockstepError('CONFIG_INVALID', `${field} must be a positive integer, got ${v}`, { field: `detector.behavior.${field}` });
  }
}

export class BehaviorTracker {
  /** insertion order = recency: an account is re-inserted on every event, the first is the oldest */
  private readonly accounts = new Map<string, AccountBehavior>();

  constructor(private readonly config: BehaviorConfig) {
    for (const field of ['tokenBucketMs', 'windowMs', 'minTokens', 'maxAccounts'] as const) requirePositiveInteger(config, field);
    createSignature(config.signatureSize); // validates the size
    rowsPerBand(config.signatureSize, config.bands); // validates bands against it
  }

  /** accounts currently tracked (the lockstep_behavior_accounts_tracked gauge) */
  get size(): number {
    return this.accounts.size;
  }

  /**
   * Records one request and returns the account's current band keys: empty until it has minTokens
   * distinct cells in the window of `ts`. The array is cached and only rebuilt when the signature
   * changed; callers must not mutate it. A late event from an earlier window than the account's
   * current one changes nothing and gets no keys (its behaviour at that time is no longer known).
   */
  observe(accountId: string, ts: number, capability: string): readonly string[] {
    const window = Math.floor(ts / this.config.windowMs);
    const state = this.touch(accountId, window);
    if (window < state.window) return NO_KEYS;
    if (window > state.window) state.reset(window);

    const cell = combineHash(fnv1aString(capability), Math.floor(ts / this.config.tokenBucketMs)) || 1;
    const count = state.increment(cell);
    if ((count & (count - 1)) === 0) {
      if (count === 1) state.cells++;
      const level = 31 - Math.clz32(count);
      if (updateSignature(state.signature, combineHash(cell, level))) state.keys = null;
    }

    if (state.cells < this.config.minTokens) return NO_KEYS;
    if (state.keys === null) state.keys = Object.freeze(bandKeys(state.signature, this.config.bands));
    return state.keys;
  }

  /** The account's state, now the most recently seen; a new account may evict (and reuse) the oldest. */
  private touch(accountId: string, window: number): AccountBehavior {
    const existing = this.accounts.get(accountId);
    if (existing !== undefined) {
      this.accounts.delete(accountId);
      this.accounts.set(accountId, existing);
      return existing;
    }
    let state: AccountBehavior;
    if (this.accounts.size >= this.config.maxAccounts) {
      const [oldestId, oldest] = this.accounts.entries().next().value as [string, AccountBehavior];
      this.accounts.delete(oldestId);
      oldest.reset(window);
      state = oldest;
    } else {
      state = new AccountBehavior(this.config.signatureSize, window);
    }
    this.accounts.set(accountId, state);
    return state;
  }
}
