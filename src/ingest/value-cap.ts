import type { Config } from '../config/config';
import { ATTRIBUTE_LINK_TYPES, type LinkType } from '../events/request-event';

/**
 * The value an account's link counts under once it has used its share of distinct values of that
 * type in one period: every account past its share on a type meets on this one key, bounded like
 * any other, instead of adding a key per request.
 */
export const ROTATING_VALUE = '(rotating)';

/** One account's distinct link values in its current period, as parallel arrays (a few entries). */
interface AccountValues {
  period: number;
  types: LinkType[];
  values: string[];
}

/**
 * Bounds the window keys one account can create. Each distinct link value is a key in every scale's
 * bucket, so a client that changes a value on every request (a rotating user agent or prompt
 * template, a residential proxy pool's /24s, an app calling from its users' devices) would add keys,
 * and Redis memory, in proportion to its requests rather than to its accounts. Here an account keeps
 * at most its share of distinct values of each attribute type per period (the longest scale's
 * bucket); later new values count under ROTATING_VALUE. The share is maxValues, or the type's own in
 * maxValuesByType (a smaller share puts accounts that rotate a value on one key sooner, and more
 * honest ones with them: docs/resilience.md). State is per process and per period: an account whose
 * state was evicted, or whose events another instance reads, may add up to its share again.
 */
export class AccountValueCap {
  /** accountId -> values this period; insertion order is the order periods began, oldest first */
  private readonly accounts = new Map<string, AccountValues>();
  private current: AccountValues | null = null;
  /** the latest period any event was in */
  private latest = -Infinity;
  /** link type -> the distinct values an account keeps of it per period */
  private readonly share: Readonly<Record<LinkType, number>>;

  constructor(
    private readonly config: Config['ingest']['valueCap'],
    private readonly periodMs: number,
  ) {
    this.share = valueShares(config);
  }

  /** Starts an event of `accountId` at event time `ts`: the following admit() calls are its links. */
  begin(accountId: string, ts: number): void {
    const period = Math.floor(ts / this.periodMs);
    if (period > this.latest) {
      this.latest = period;
      this.forgetBefore(period);
    }
    let state = this.accounts.get(accountId);
    if (state === undefined) {
      if (this.accounts.size >= this.config.maxAccounts) {
        const oldest = this.accounts.keys().next().value as string;
        this.accounts.delete(oldest);
      }
      state = { period, types: [], values: [] };
      this.accounts.set(accountId, state);
    } else if (period > state.period) {
      // a new period for this account: it moves to the back of the eviction order
      this.accounts.delete(accountId);
      this.accounts.set(accountId, state);
      state.period = period;
      state.types.length = 0;
      state.values.length = 0;
    }
    // an event of an earlier period than the account's (late) counts against the current one: still bounded
    this.current = state;
  }

  /** The value the current event's link counts under: its own, or ROTATING_VALUE past the account's share. */
  admit(type: LinkType, value: string): string {
    const state = this.current;
    if (state === null) throw new Error('AccountValueCap.admit() before begin()');
    let ofType = 0;
    for (let i = 0; i < state.types.length; i++) {
      if (state.types[i] !== type) continue;
      if (state.values[i] === value) return value;
      ofType++;
    }
    if (ofType >= this.share[type]) return ROTATING_VALUE;
    state.types.push(type);
    state.values.push(value);
    return value;
  }

  /**
   * Drops the accounts not seen since an earlier period began: their next event would start them
   * afresh anyway. They are at the front (an account moves to the back when its period begins), so
   * the walk stops at the first current one: the state held is the accounts active this period.
   */
  private forgetBefore(period: number): void {
    for (const [accountId, state] of this.accounts) {
      if (state.period >= period) return;
      this.accounts.delete(accountId);
    }
  }

  /** accounts tracked (for tests) */
  get size(): number {
    return this.accounts.size;
  }
}

/** Each attribute link type's share of distinct values per account and period. */
export function valueShares(config: Config['ingest']['valueCap']): Readonly<Record<LinkType, number>> {
  const share = {} as Record<LinkType, number>;
  for (const type of ATTRIBUTE_LINK_TYPES) share[type] = config.maxValuesByType[type] ?? config.maxValues;
  return share;
}
