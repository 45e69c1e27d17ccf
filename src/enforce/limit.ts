/** A limit on one account, as stored (Redis hash / JSON) and served. Times are epoch ms. */
export interface LimitRecord {
  accountId: string;
  limitRpm: number;
  /** capabilities the limit applies to; empty = every request of the account */
  capabilities: string[];
  reason: string;
  alertId: string;
  fleetId: string;
  /** escalation level: 0 = first limit */
  level: number;
  /** when the current level was set: escalation counts from here */
  levelSince: number;
  createdAt: number;
  expiresAt: number;
  /** decided in dry run: computed and published, never enforced */
  dryRun: boolean;
}

/** Value of a message on the enforcement topic (key = accountId). */
export interface EnforcementMessage {
  action: 'limit' | 'release';
  accountId: string;
  /** null on release */
  limitRpm: number | null;
  capabilities: string[];
  reason: string;
  alertId: string;
  fleetId: string;
  /** null on release */
  expiresAt: number | null;
  dryRun: boolean;
}

export type AuditAction = 'limit' | 'release' | 'skip' | 'cap';
export type AuditActor = 'lockstep' | 'admin';

/** One entry of the audit trail: every decision, release and override, with its alert and reason. */
export interface AuditEntry {
  action: AuditAction;
  actor: AuditActor;
  at: number;
  reason: string;
  dryRun: boolean;
  accountId?: string;
  alertId?: string;
  fleetId?: string;
  limitRpm?: number;
  level?: number;
  expiresAt?: number;
}

export interface StoredAuditEntry extends AuditEntry {
  /** stream id "<ms>-<seq>": ordered, usable as a cursor */
  id: string;
}

/** A limit is enforced only when it was decided outside dry run and enforcement is on now. */
export function isEnforced(record: LimitRecord, enforcementEnabled: boolean): boolean {
  return enforcementEnabled && !record.dryRun;
}

export function encodeRecord(r: LimitRecord): string {
  return JSON.stringify(r);
}

export function decodeRecord(text: string): LimitRecord {
  return JSON.parse(text) as LimitRecord;
}

/** Fields of the per-account Redis hash ls:{enf}:limit:<accountId>, for readers outside lockstep. */
export function limitHashFields(r: LimitRecord): string[] {
  return [
    'accountId', r.accountId,
    'limitRpm', String(r.limitRpm),
    'capabilities', JSON.stringify(r.capabilities),
    'reason', r.reason,
    'alertId', r.alertId,
    'fleetId', r.fleetId,
    'level', String(r.level),
    'levelSince', String(r.levelSince),
    'createdAt', String(r.createdAt),
    'expiresAt', String(r.expiresAt),
    'dryRun', r.dryRun ? 'true' : 'false',
  ];
}

const NUMERIC_AUDIT_FIELDS = new Set(['at', 'limitRpm', 'level', 'expiresAt']);

/** Flat field/value list of an audit entry (a Redis stream entry). */
export function auditFields(e: AuditEntry): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(e)) if (v !== undefined) out.push(k, String(v));
  return out;
}

export function parseAuditFields(id: string, fields: string[]): StoredAuditEntry {
  const raw: Record<string, string | number | boolean> = { id };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = fields[i];
    const v = fields[i + 1];
    raw[k] = k === 'dryRun' ? v === 'true' : NUMERIC_AUDIT_FIELDS.has(k) ? Number(v) : v;
  }
  return raw as unknown as StoredAuditEntry;
}
