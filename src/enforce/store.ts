import type { ScriptStatus } from './status';
import type { LimitRecord, StoredAuditEntry, AuditEntry } from './limit';

export interface ApplyLimitRequest {
  record: LimitRecord;
  now: number;
  capPerAlert: number;
  capPerHour: number;
  alertStateTtlMs: number;
}

export type ApplyLimitStatus = ScriptStatus.Created | ScriptStatus.Updated | ScriptStatus.CapPerAlert | ScriptStatus.CapPerHour | ScriptStatus.ReleasedByHuman;

export interface ReleaseResult {
  status: ScriptStatus.Released | ScriptStatus.NotFound | ScriptStatus.Conflict;
  /** the released limit, or on Conflict the limit as it now is */
  record: LimitRecord | null;
}

export interface TakeResult {
  allowed: boolean;
  /** ms until the next request would be allowed; 0 when allowed */
  retryAfterMs: number;
}

/**
 * Where limits live: Redis (shared by every lockstep and readable by gateways) or memory (embedded
 * mode). Both implement the same rules; test/enforce/limit-store.test.ts runs one suite on each.
 */
export interface LimitStore {
  readonly kind: 'redis' | 'memory';
  /**
   * Writes a limit unless a rail forbids it, atomically with the checks: the per-alert cap (accounts
   * the alert has limited), the hourly cap (new limits in the last hour; replacing a live limit is not
   * new) and a human release of this account from this alert.
   */
  applyLimit(req: ApplyLimitRequest): Promise<ApplyLimitStatus>;
  /** the account's limit if live at `now` */
  get(accountId: string, now: number): Promise<LimitRecord | null>;
  /** every limit not yet swept (may include some that expired since the last sweep) */
  listActive(): Promise<LimitRecord[]>;
  /** a number that changes whenever a limit is written or removed */
  version(): Promise<string>;
  /**
   * Removes a limit; with `byHuman`, its alert will not limit the account again.
   * `expectedAlertId` guards against a concurrent take-over by another alert (Conflict: read again).
   */
  release(accountId: string, expectedAlertId: string, byHuman: boolean, alertStateTtlMs: number): Promise<ReleaseResult>;
  /** accounts an alert limited and no human released */
  accountsOfAlert(alertId: string): Promise<string[]>;
  /** removes limits whose expiry is at or before `now` (up to `max`) and returns them: each exactly once */
  sweepExpired(now: number, max: number): Promise<LimitRecord[]>;
  /** counts one request against the account's token bucket of `limitRpm` per minute (burst = limitRpm) */
  take(accountId: string, limitRpm: number, now: number): Promise<TakeResult>;
  appendAudit(entry: AuditEntry, maxLen: number): Promise<string>;
  /** newest first; `before` = an id from a previous page */
  readAudit(limit: number, before?: string): Promise<StoredAuditEntry[]>;
  ping(): Promise<boolean>;
}

/** the sliding window of the hourly cap */
export const CAP_WINDOW_MS = 3_600_000;
/** a token bucket untouched this long is dropped (it is full again by then: refill is limitRpm per minute) */
export const BUCKET_IDLE_TTL_MS = 120_000;
