import { ALERT_MEMBER_LIMITED, ALERT_MEMBER_RELEASED } from './keys';
import type { AuditEntry, LimitRecord, StoredAuditEntry } from './limit';
import { ScriptStatus } from './status';
import { BUCKET_IDLE_TTL_MS, CAP_WINDOW_MS, type ApplyLimitRequest, type ApplyLimitStatus, type LimitStore, type ReleaseResult, type TakeResult } from './store';

interface Bucket {
  tokens: number;
  last: number;
  touched: number;
}

/**
 * Limits in process memory, for embedded mode: the same rules as the Lua scripts in lua/ (read them
 * side by side), checked by the shared suite in test/enforce/limit-store.test.ts.
 */
export class MemoryLimitStore implements LimitStore {
  readonly kind = 'memory' as const;
  private readonly active = new Map<string, LimitRecord>();
  private readonly alerts = new Map<string, Map<string, string>>();
  /** times of new limits, oldest first */
  private recent: number[] = [];
  private readonly buckets = new Map<string, Bucket>();
  private readonly audit: StoredAuditEntry[] = [];
  private changes = 0;
  private auditSeq = 0;

  async applyLimit(req: ApplyLimitRequest): Promise<ApplyLimitStatus> {
    const r = req.record;
    const members = this.alerts.get(r.alertId) ?? new Map<string, string>();
    const state = members.get(r.accountId);
    if (state === ALERT_MEMBER_RELEASED) return ScriptStatus.ReleasedByHuman;
    const current = this.active.get(r.accountId);
    const live = current !== undefined && current.expiresAt > req.now;
    if (state === undefined && members.size >= req.capPerAlert) return ScriptStatus.CapPerAlert;
    const windowStart = req.now - CAP_WINDOW_MS;
    if (!live && this.recent.filter((t) => t > windowStart).length >= req.capPerHour) return ScriptStatus.CapPerHour;

    this.active.set(r.accountId, { ...r, capabilities: [...r.capabilities] });
    members.set(r.accountId, ALERT_MEMBER_LIMITED);
    this.alerts.set(r.alertId, members);
    this.changes++;
    if (live) return ScriptStatus.Updated;
    this.recent = this.recent.filter((t) => t > windowStart);
    this.recent.push(req.now);
    return ScriptStatus.Created;
  }

  async get(accountId: string, now: number): Promise<LimitRecord | null> {
    const r = this.active.get(accountId);
    return r !== undefined && r.expiresAt > now ? { ...r } : null;
  }

  async listActive(): Promise<LimitRecord[]> {
    return [...this.active.values()].map((r) => ({ ...r }));
  }

  async version(): Promise<string> {
    return String(this.changes);
  }

  async release(accountId: string, expectedAlertId: string, byHuman: boolean): Promise<ReleaseResult> {
    const current = this.active.get(accountId);
    if (current === undefined) return { status: ScriptStatus.NotFound, record: null };
    if (current.alertId !== expectedAlertId) return { status: ScriptStatus.Conflict, record: { ...current } };
    this.active.delete(accountId);
    if (byHuman) {
      const members = this.alerts.get(expectedAlertId) ?? new Map<string, string>();
      members.set(accountId, ALERT_MEMBER_RELEASED);
      this.alerts.set(expectedAlertId, members);
    }
    this.changes++;
    return { status: ScriptStatus.Released, record: current };
  }

  async accountsOfAlert(alertId: string): Promise<string[]> {
    const out: string[] = [];
    for (const [account, state] of this.alerts.get(alertId) ?? []) if (state === ALERT_MEMBER_LIMITED) out.push(account);
    return out;
  }

  async sweepExpired(now: number, max: number): Promise<LimitRecord[]> {
    const due = [...this.active.values()].filter((r) => r.expiresAt <= now).sort((a, b) => a.expiresAt - b.expiresAt).slice(0, max);
    for (const r of due) this.active.delete(r.accountId);
    if (due.length > 0) this.changes++;
    for (const [account, b] of this.buckets) if (now - b.touched >= BUCKET_IDLE_TTL_MS) this.buckets.delete(account);
    return due;
  }

  async take(accountId: string, limitRpm: number, now: number): Promise<TakeResult> {
    let b = this.buckets.get(accountId);
    if (b === undefined || now - b.touched >= BUCKET_IDLE_TTL_MS) {
      b = { tokens: limitRpm, last: now, touched: now };
      this.buckets.set(accountId, b);
    } else if (now > b.last) {
      b.tokens = Math.min(limitRpm, b.tokens + ((now - b.last) * limitRpm) / 60_000);
      b.last = now;
    }
    if (b.tokens > limitRpm) b.tokens = limitRpm;
    b.touched = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - b.tokens) * 60_000) / limitRpm) };
  }

  async appendAudit(entry: AuditEntry, maxLen: number): Promise<string> {
    const id = `${entry.at}-${this.auditSeq++}`;
    this.audit.push({ ...entry, id });
    if (this.audit.length > maxLen) this.audit.splice(0, this.audit.length - maxLen);
    return id;
  }

  async readAudit(limit: number, before?: string): Promise<StoredAuditEntry[]> {
    let end = this.audit.length;
    if (before !== undefined) {
      const i = this.audit.findIndex((e) => e.id === before);
      if (i >= 0) end = i;
    }
    return this.audit.slice(Math.max(0, end - limit), end).reverse().map((e) => ({ ...e }));
  }

  async ping(): Promise<boolean> {
    return true;
  }
}
