import type { Alert } from '../alerts/alert';
import type { Config } from '../config/config';
import type { LimitRecord } from './limit';

type EnforcementConfig = Config['enforcement'];

/** Why an alert does not limit its accounts, or null when it does. */
export function whyNotEnforceable(alert: Alert, cfg: EnforcementConfig): string | null {
  if (alert.status !== 'firing') return `alert is ${alert.status}`;
  if (!cfg.severities.includes(alert.severity)) return `severity ${alert.severity} not in enforcement.severities`;
  if (alert.score < cfg.minScore) return `score ${alert.score} below enforcement.minScore ${cfg.minScore}`;
  if (!cfg.linkTypes.includes(alert.link.type)) return `link type ${alert.link.type} not in enforcement.linkTypes`;
  return null;
}

/** Requests per minute at an escalation level: limitRpm, times factor per level, never below minRpm. */
export function rpmAtLevel(cfg: EnforcementConfig, level: number): number {
  return Math.max(cfg.escalation.minRpm, Math.floor(cfg.limitRpm * cfg.escalation.factor ** level));
}

export type LimitChange = 'new' | 'escalate' | 'extend' | 'takeover';

export interface LimitDecision {
  change: LimitChange;
  record: LimitRecord;
}

function describe(alert: Alert): string {
  const why = alert.evidence?.reason ? `: ${alert.evidence.reason}` : '';
  return `${alert.severity} fleet alert, score ${alert.score.toFixed(2)}, ${alert.accountCount} accounts linked by ${alert.link.type}=${alert.link.value}${why}`;
}

/**
 * What a firing alert means for one of its accounts, given the account's live limit (if any). The
 * one place for the escalation rule:
 *  - no live limit: a new limit at level 0;
 *  - a live limit of the same alert: escalate one level once escalation.afterMs passed at the current
 *    level (up to maxLevel), else extend when less than half the ttl remains or the dry-run mode
 *    changed, else nothing;
 *  - a live limit of another alert: this alert takes it over, never loosening it (the lower rate, and
 *    the whole account if either limit covered it).
 * Every written limit expires ttlMs from now.
 */
export function decideLimit(cfg: EnforcementConfig, alert: Alert, accountId: string, live: LimitRecord | null, now: number, dryRun: boolean): LimitDecision | null {
  const expiresAt = now + cfg.ttlMs;
  const capabilities = cfg.capabilitiesOnly ? [...alert.targetedCapabilities].sort() : [];
  const base = { accountId, alertId: alert.alertId, fleetId: alert.fleetId, expiresAt, dryRun };
  if (live === null || live.expiresAt <= now) {
    return { change: 'new', record: { ...base, limitRpm: rpmAtLevel(cfg, 0), capabilities, level: 0, levelSince: now, createdAt: now, reason: `limited: ${describe(alert)}` } };
  }
  if (live.alertId !== alert.alertId) {
    const whole = capabilities.length === 0 || live.capabilities.length === 0;
    return {
      change: 'takeover',
      record: {
        ...base,
        limitRpm: Math.min(live.limitRpm, rpmAtLevel(cfg, 0)),
        capabilities: whole ? [] : [...new Set([...live.capabilities, ...capabilities])].sort(),
        level: 0, levelSince: now, createdAt: live.createdAt,
        reason: `limited (taken over from alert ${live.alertId}): ${describe(alert)}`,
      },
    };
  }
  if (live.level < cfg.escalation.maxLevel && now - live.levelSince >= cfg.escalation.afterMs) {
    const level = live.level + 1;
    return { change: 'escalate', record: { ...live, ...base, limitRpm: rpmAtLevel(cfg, level), level, levelSince: now, reason: `escalated to level ${level}, fleet still firing: ${describe(alert)}` } };
  }
  if (live.expiresAt - now < cfg.ttlMs / 2 || live.dryRun !== dryRun) {
    return { change: 'extend', record: { ...live, ...base, limitRpm: live.limitRpm, reason: live.reason } };
  }
  return null;
}
