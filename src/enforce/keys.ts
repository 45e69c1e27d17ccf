/**
 * The one place that builds every enforcement key in Redis. Layout (prefix `ls` by default):
 *
 *   ls:{enf}:limit:<accountId>   hash    the account's limit (fields of LimitRecord, arrays as JSON);
 *                                        PEXPIREAT at expiresAt: the key exists exactly while the limit
 *                                        is live. What another gateway or service reads.
 *   ls:{enf}:active              hash    accountId -> LimitRecord JSON, every limit not yet swept;
 *                                        what each lockstep's in-process cache loads
 *   ls:{enf}:expiry              zset    accountId scored by expiresAt: the expiry sweep's work list
 *   ls:{enf}:alert:<alertId>     hash    accountId -> "limited" | "released" for every account the alert
 *                                        limited (per-alert cap, release of a whole alert, and the
 *                                        human releases the alert must not undo); PEXPIRE alertStateTtlMs
 *   ls:{enf}:recent              zset    one member per new limit, scored by its time: the sliding
 *                                        hourly cap; members older than an hour are pruned; PEXPIRE 1 h
 *   ls:{enf}:version             string  counter bumped by every change: caches reload only when it moved
 *   ls:{enf}:audit               stream  the append-only audit trail, XADD MAXLEN ~ auditMaxLen
 *   ls:{rl:<accountId>}          hash    token bucket of a limited account {tk: tokens, ts: last refill ms};
 *                                        PEXPIRE two minutes after its last request
 *
 * The control keys share the hash tag {enf} so that each script touching several of them is legal in
 * Redis Cluster (one slot); they change only when alerts fire, so one slot carries them easily. The
 * token buckets, hit on every request of a limited account, carry the account in their tag and so
 * spread over the cluster.
 */
export class EnforcementKeys {
  private readonly control: string;

  constructor(readonly prefix: string) {
    this.control = `${prefix}:{enf}:`;
  }

  limit(accountId: string): string {
    return `${this.control}limit:${accountId}`;
  }

  active(): string {
    return `${this.control}active`;
  }

  expiry(): string {
    return `${this.control}expiry`;
  }

  alert(alertId: string): string {
    return `${this.control}alert:${alertId}`;
  }

  recent(): string {
    return `${this.control}recent`;
  }

  version(): string {
    return `${this.control}version`;
  }

  audit(): string {
    return `${this.control}audit`;
  }

  bucket(accountId: string): string {
    return `${this.prefix}:{rl:${accountId}}`;
  }
}

/** Values of the per-alert hash. */
export const ALERT_MEMBER_LIMITED = 'limited';
export const ALERT_MEMBER_RELEASED = 'released';
