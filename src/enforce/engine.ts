import type { Alert } from '../alerts/alert';
import type { AlertSource } from '../alerts/source';
import type { Clock } from '../clock';
import type { Config } from '../config/config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import { LimitCache } from './cache';
import { isEnforced, type AuditActor, type AuditEntry, type EnforcementMessage, type LimitRecord } from './limit';
import type { AccountOrgs } from './orgs';
import { decideLimit, whyNotEnforceable, type LimitChange } from './policy';
import type { EnforcementPublisher } from './publisher';
import { ScriptStatus } from './status';
import { CAP_WINDOW_MS, type LimitStore } from './store';

/** Called when the blast-radius cap stops enforcement: the lead wires it to Alertmanager. */
export type PageHuman = (alert: Alert, reason: string) => void | Promise<void>;

export interface EnforcerDeps {
  config: Config;
  store: LimitStore;
  publisher: EnforcementPublisher;
  alerts: AlertSource;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
  orgs: AccountOrgs;
  page?: PageHuman;
}

/** What one alert message led to; for tests and the log. */
export interface AlertOutcome {
  limited: string[];
  skipped: string[];
  capped: 'alert' | 'hour' | null;
}

/** limits swept per store call */
const SWEEP_BATCH = 1000;

/**
 * Turns alerts into limits and keeps them: limits each member account of an enforceable alert,
 * escalates and extends while the fleet keeps firing, releases on expiry, on a human's request or
 * when an account becomes allowlisted. Every change is logged, audited, published and counted.
 * Work is serialized (one alert or sweep at a time) so a process never races itself.
 */
export class Enforcer {
  readonly cache: LimitCache;
  private readonly cfg: Config['enforcement'];
  private readonly log: Logger;
  private queue: Promise<unknown> = Promise.resolve();
  /** "<alertId>/<scope>" -> when a human was last paged about it */
  private readonly paged = new Map<string, number>();

  constructor(private readonly deps: EnforcerDeps) {
    this.cfg = deps.config.enforcement;
    this.log = deps.log;
    this.cache = new LimitCache(deps.store, deps.log, (limits) => this.countLimited(limits));
  }

  get dryRun(): boolean {
    return !this.cfg.enabled;
  }

  /** Runs `work` after everything queued before it; errors are logged, never thrown to the queue. */
  enqueue<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
    const run = this.queue.then(work).catch((err: unknown) => {
      this.log.error({ err }, `enforcement ${what} failed`);
      return undefined;
    });
    this.queue = run;
    return run;
  }

  /** resolves once all queued work is done */
  idle(): Promise<unknown> {
    return this.queue;
  }

  async handleAlert(alert: Alert): Promise<AlertOutcome> {
    const outcome: AlertOutcome = { limited: [], skipped: [], capped: null };
    if (alert.status === 'resolved') {
      this.log.info({ alertId: alert.alertId, fleetId: alert.fleetId }, 'alert resolved: its limits are no longer extended and lapse at their expiry');
      return outcome;
    }
    const why = whyNotEnforceable(alert, this.cfg);
    if (why !== null) {
      this.log.debug({ alertId: alert.alertId, why }, 'alert does not limit its accounts');
      return outcome;
    }
    const now = this.deps.clock.now();
    const dryRun = this.dryRun;
    const live = await Promise.all(alert.accounts.map((a) => this.deps.store.get(a, now)));
    const messages: EnforcementMessage[] = [];
    for (let i = 0; i < alert.accounts.length; i++) {
      const accountId = alert.accounts[i];
      const allowlisted = await this.allowlistReason(accountId);
      if (allowlisted !== null) {
        outcome.skipped.push(accountId);
        await this.audit({ action: 'skip', actor: 'lockstep', at: now, accountId, alertId: alert.alertId, fleetId: alert.fleetId, dryRun, reason: allowlisted });
        continue;
      }
      const decision = decideLimit(this.cfg, alert, accountId, live[i], now, dryRun);
      if (decision === null) continue;
      const status = await this.deps.store.applyLimit({ record: decision.record, now, capPerAlert: this.cfg.caps.perAlert, capPerHour: this.cfg.caps.perHour, alertStateTtlMs: this.cfg.alertStateTtlMs });
      if (status === ScriptStatus.Created || status === ScriptStatus.Updated) {
        outcome.limited.push(accountId);
        messages.push(await this.limited(decision.record, decision.change));
      } else if (status === ScriptStatus.ReleasedByHuman) {
        this.log.debug({ alertId: alert.alertId, accountId }, 'not limited again: a human released it from this alert');
      } else {
        outcome.capped = status === ScriptStatus.CapPerAlert ? 'alert' : 'hour';
        await this.capReached(alert, outcome.capped, alert.accounts.length - i, now, dryRun);
        break;
      }
    }
    await this.deps.publisher.publish(messages);
    return outcome;
  }

  /**
   * Periodic upkeep: releases expired limits (each exactly once across instances), releases
   * accounts allowlisted since they were limited, and extends or escalates the limits of alerts that
   * are still firing.
   */
  async sweep(): Promise<void> {
    const now = this.deps.clock.now();
    const messages: EnforcementMessage[] = [];
    for (;;) {
      const expired = await this.deps.store.sweepExpired(now, SWEEP_BATCH);
      for (const r of expired) messages.push(await this.released(r, 'lockstep', now, 'expired'));
      if (expired.length < SWEEP_BATCH) break;
    }
    await this.cache.refresh();
    for (const record of [...this.cache.all()]) {
      if (record.expiresAt <= now) continue;
      const allowlisted = await this.allowlistReason(record.accountId);
      if (allowlisted !== null) {
        const released = await this.release(record.accountId, 'lockstep', allowlisted, false);
        if (released !== null) messages.push(released.message);
        continue;
      }
      const alert = this.deps.alerts.get(record.alertId);
      if (alert === undefined || whyNotEnforceable(alert, this.cfg) !== null) continue;
      const decision = decideLimit(this.cfg, alert, record.accountId, record, now, this.dryRun);
      if (decision === null) continue;
      const status = await this.deps.store.applyLimit({ record: decision.record, now, capPerAlert: this.cfg.caps.perAlert, capPerHour: this.cfg.caps.perHour, alertStateTtlMs: this.cfg.alertStateTtlMs });
      if (status === ScriptStatus.Created || status === ScriptStatus.Updated) messages.push(await this.limited(decision.record, decision.change));
    }
    await this.deps.publisher.publish(messages);
  }

  /** A human's (or a rule's) release of one account. null = it had no limit. */
  async releaseAccount(accountId: string, actor: AuditActor, reason: string): Promise<LimitRecord | null> {
    const r = await this.release(accountId, actor, reason, actor === 'admin');
    if (r === null) return null;
    await this.deps.publisher.publish([r.message]);
    return r.record;
  }

  /** Releases every account an alert limited; its accounts are not limited again by that alert. */
  async releaseAlert(alertId: string, actor: AuditActor, reason: string): Promise<LimitRecord[]> {
    const out: LimitRecord[] = [];
    const messages: EnforcementMessage[] = [];
    for (const accountId of await this.deps.store.accountsOfAlert(alertId)) {
      const r = await this.release(accountId, actor, reason, actor === 'admin', alertId);
      if (r === null) continue;
      out.push(r.record);
      messages.push(r.message);
    }
    await this.deps.publisher.publish(messages);
    return out;
  }

  private async release(accountId: string, actor: AuditActor, reason: string, byHuman: boolean, onlyAlertId?: string): Promise<{ record: LimitRecord; message: EnforcementMessage } | null> {
    const now = this.deps.clock.now();
    let current = await this.deps.store.get(accountId, now);
    // a concurrent take-over by another alert: read again, a few times at most
    for (let attempt = 0; attempt < 3 && current !== null; attempt++) {
      if (onlyAlertId !== undefined && current.alertId !== onlyAlertId) return null;
      const r = await this.deps.store.release(accountId, current.alertId, byHuman, this.cfg.alertStateTtlMs);
      if (r.status === ScriptStatus.Released && r.record !== null) return { record: r.record, message: await this.released(r.record, actor, now, reason) };
      if (r.status === ScriptStatus.NotFound) break;
      current = r.record;
    }
    this.cache.remove(accountId);
    return null;
  }

  private async limited(record: LimitRecord, change: LimitChange): Promise<EnforcementMessage> {
    this.cache.put(record);
    this.deps.metrics.enforcementActionsTotal.inc({ action: 'limit', dry_run: String(record.dryRun) });
    const entry: AuditEntry = {
      action: 'limit', actor: 'lockstep', at: this.deps.clock.now(),
      accountId: record.accountId, alertId: record.alertId, fleetId: record.fleetId, limitRpm: record.limitRpm, level: record.level,
      expiresAt: record.expiresAt, dryRun: record.dryRun, reason: `${change}: ${record.reason}`,
    };
    await this.audit(entry);
    return { action: 'limit', accountId: record.accountId, limitRpm: record.limitRpm, capabilities: record.capabilities, reason: entry.reason, alertId: record.alertId, fleetId: record.fleetId, expiresAt: record.expiresAt, dryRun: record.dryRun };
  }

  private async released(record: LimitRecord, actor: AuditActor, now: number, reason: string): Promise<EnforcementMessage> {
    this.cache.remove(record.accountId);
    this.deps.metrics.enforcementActionsTotal.inc({ action: 'release', dry_run: String(record.dryRun) });
    const text = `released (${actor}): ${reason}`;
    await this.audit({ action: 'release', actor, at: now, accountId: record.accountId, alertId: record.alertId, fleetId: record.fleetId, limitRpm: record.limitRpm, level: record.level, dryRun: record.dryRun, reason: text });
    return { action: 'release', accountId: record.accountId, limitRpm: null, capabilities: [], reason: text, alertId: record.alertId, fleetId: record.fleetId, expiresAt: null, dryRun: record.dryRun };
  }

  private async capReached(alert: Alert, scope: 'alert' | 'hour', notLimited: number, now: number, dryRun: boolean): Promise<void> {
    const cap = scope === 'alert' ? `enforcement.caps.perAlert (${this.cfg.caps.perAlert} accounts per alert)` : `enforcement.caps.perHour (${this.cfg.caps.perHour} new limits per hour)`;
    const reason = `blast-radius cap ${cap} reached${dryRun ? ' in dry run' : ''}: ${notLimited} accounts of fleet ${alert.fleetId} (alert ${alert.alertId}) not limited; a human must decide`;
    this.deps.metrics.enforcementCapReachedTotal.inc({ scope });
    this.log.error({ alertId: alert.alertId, fleetId: alert.fleetId, scope, notLimited, dryRun }, reason);
    await this.audit({ action: 'cap', actor: 'lockstep', at: now, alertId: alert.alertId, fleetId: alert.fleetId, dryRun, reason });
    const key = `${alert.alertId}/${scope}`;
    const last = this.paged.get(key);
    if (this.deps.page === undefined || (last !== undefined && now - last < CAP_WINDOW_MS)) return;
    this.paged.set(key, now);
    for (const [k, t] of this.paged) if (now - t >= CAP_WINDOW_MS) this.paged.delete(k);
    try {
      await this.deps.page(alert, reason);
    } catch (err) {
      this.log.error({ err, alertId: alert.alertId }, 'paging a human about the enforcement cap failed');
    }
  }

  private async allowlistReason(accountId: string): Promise<string | null> {
    const allow = this.cfg.allowlist;
    if (allow.accounts.includes(accountId)) return 'allowlisted account (enforcement.allowlist.accounts)';
    if (allow.orgs.length === 0) return null;
    const org = await this.deps.orgs.orgOf(accountId);
    return org !== undefined && allow.orgs.includes(org) ? `allowlisted org ${org} (enforcement.allowlist.orgs)` : null;
  }

  private async audit(entry: AuditEntry): Promise<void> {
    this.log.info({ audit: entry }, `enforcement ${entry.action}${entry.accountId ? ` ${entry.accountId}` : ''}`);
    try {
      await this.deps.store.appendAudit(entry, this.cfg.auditMaxLen);
    } catch (err) {
      this.log.error({ err, audit: entry }, 'could not append to the audit trail');
    }
  }

  private countLimited(limits: ReadonlyMap<string, LimitRecord>): void {
    const now = this.deps.clock.now();
    let enforced = 0;
    let dry = 0;
    for (const r of limits.values()) {
      if (r.expiresAt <= now) continue;
      if (isEnforced(r, this.cfg.enabled)) enforced++;
      else dry++;
    }
    this.deps.metrics.accountsLimited.set({ dry_run: 'false' }, enforced);
    this.deps.metrics.accountsLimited.set({ dry_run: 'true' }, dry);
  }
}
