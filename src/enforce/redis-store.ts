import fs from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { LockstepError } from '../errors';
import { EnforcementKeys, ALERT_MEMBER_LIMITED } from './keys';
import { auditFields, decodeRecord, encodeRecord, limitHashFields, parseAuditFields, type AuditEntry, type LimitRecord, type StoredAuditEntry } from './limit';
import { ScriptStatus, statusName } from './status';
import { BUCKET_IDLE_TTL_MS, CAP_WINDOW_MS, type ApplyLimitRequest, type ApplyLimitStatus, type LimitStore, type ReleaseResult, type TakeResult } from './store';

type Reply = [number, ...(string | number)[]];

interface ScriptedClient {
  applyLimit(...args: (string | number)[]): Promise<Reply>;
  releaseLimit(...args: (string | number)[]): Promise<Reply>;
  expireLimits(...args: (string | number)[]): Promise<Reply>;
  takeToken(...args: (string | number)[]): Promise<Reply>;
}

/** Script name -> file; the number in the file name is its KEYS count. */
const SCRIPTS = {
  applyLimit: 'apply-limit-6.lua',
  releaseLimit: 'release-limit-5.lua',
  expireLimits: 'expire-limits-3.lua',
  takeToken: 'take-token-1.lua',
} as const;

function loadScript(file: string): { lua: string; numberOfKeys: number } {
  const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
  return { lua: fs.readFileSync(path.join(__dirname, 'lua', file), 'utf8'), numberOfKeys };
}

const APPLIED_STATUSES = new Set<number>([ScriptStatus.Created, ScriptStatus.Updated, ScriptStatus.CapPerAlert, ScriptStatus.CapPerHour, ScriptStatus.ReleasedByHuman]);

function unexpected(script: string, status: number): LockstepError {
  return new LockstepError('STORE_UNAVAILABLE', `${script} returned unexpected status ${statusName(status)}`);
}

/** Limits in Redis (standalone or Cluster): the key layout is in keys.ts, the rules in lua/. */
export class RedisLimitStore implements LimitStore {
  readonly kind = 'redis' as const;
  private readonly scripted: ScriptedClient;

  constructor(
    readonly client: Redis | Cluster,
    readonly keys: EnforcementKeys,
  ) {
    for (const [name, file] of Object.entries(SCRIPTS)) client.defineCommand(name, loadScript(file));
    this.scripted = client as unknown as ScriptedClient;
  }

  async applyLimit(req: ApplyLimitRequest): Promise<ApplyLimitStatus> {
    const r = req.record;
    const [status] = await this.scripted.applyLimit(
      this.keys.limit(r.accountId), this.keys.active(), this.keys.expiry(), this.keys.alert(r.alertId), this.keys.recent(), this.keys.version(),
      r.accountId, req.now, r.expiresAt, encodeRecord(r), req.capPerAlert, req.capPerHour, req.alertStateTtlMs, CAP_WINDOW_MS,
      ...limitHashFields(r),
    );
    if (!APPLIED_STATUSES.has(status)) throw unexpected('apply-limit', status);
    return status as ApplyLimitStatus;
  }

  async get(accountId: string, now: number): Promise<LimitRecord | null> {
    const text = await this.client.hget(this.keys.active(), accountId);
    if (text === null) return null;
    const record = decodeRecord(text);
    return record.expiresAt > now ? record : null;
  }

  async listActive(): Promise<LimitRecord[]> {
    const all = await this.client.hgetall(this.keys.active());
    return Object.values(all).map(decodeRecord);
  }

  async version(): Promise<string> {
    return (await this.client.get(this.keys.version())) ?? '0';
  }

  async release(accountId: string, expectedAlertId: string, byHuman: boolean, alertStateTtlMs: number): Promise<ReleaseResult> {
    const [status, text] = await this.scripted.releaseLimit(
      this.keys.limit(accountId), this.keys.active(), this.keys.expiry(), this.keys.alert(expectedAlertId), this.keys.version(),
      accountId, expectedAlertId, byHuman ? 1 : 0, alertStateTtlMs,
    );
    if (status !== ScriptStatus.Released && status !== ScriptStatus.NotFound && status !== ScriptStatus.Conflict) throw unexpected('release-limit', status);
    return { status, record: typeof text === 'string' ? decodeRecord(text) : null };
  }

  async accountsOfAlert(alertId: string): Promise<string[]> {
    const members = await this.client.hgetall(this.keys.alert(alertId));
    return Object.keys(members).filter((a) => members[a] === ALERT_MEMBER_LIMITED);
  }

  async sweepExpired(now: number, max: number): Promise<LimitRecord[]> {
    const [, ...texts] = await this.scripted.expireLimits(this.keys.active(), this.keys.expiry(), this.keys.version(), now, max);
    return texts.map((t) => decodeRecord(String(t)));
  }

  async take(accountId: string, limitRpm: number, now: number): Promise<TakeResult> {
    const [status, retry] = await this.scripted.takeToken(this.keys.bucket(accountId), limitRpm, now, BUCKET_IDLE_TTL_MS);
    if (status === ScriptStatus.Allowed) return { allowed: true, retryAfterMs: 0 };
    if (status === ScriptStatus.Denied) return { allowed: false, retryAfterMs: Number(retry) };
    throw unexpected('take-token', status);
  }

  async appendAudit(entry: AuditEntry, maxLen: number): Promise<string> {
    const id = await this.client.xadd(this.keys.audit(), 'MAXLEN', '~', maxLen, '*', ...auditFields(entry));
    return String(id);
  }

  async readAudit(limit: number, before?: string): Promise<StoredAuditEntry[]> {
    const rows = await this.client.xrevrange(this.keys.audit(), before ? `(${before}` : '+', '-', 'COUNT', limit);
    return rows.map(([id, fields]) => parseAuditFields(id, fields));
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }
}
