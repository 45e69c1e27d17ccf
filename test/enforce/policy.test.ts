import { decideLimit, rpmAtLevel, whyNotEnforceable } from '../../src/enforce/policy';
import type { LimitRecord } from '../../src/enforce/limit';
import { enforcementConfig, makeAlert } from './fixtures';

const MIN = 60_000;
const cfg = enforcementConfig({ limitRpm: 60, ttlMs: 60 * MIN, escalation: { afterMs: 15 * MIN, factor: 0.5, minRpm: 5, maxLevel: 3 } }).enforcement;
const alert = makeAlert(['a', 'b'], { targetedCapabilities: ['coding', 'agentic'] });

describe('whyNotEnforceable', () => {
  it('takes firing alerts of the configured severities, score and link types only', () => {
    expect(whyNotEnforceable(alert, cfg)).toBeNull();
    expect(whyNotEnforceable({ ...alert, status: 'resolved' }, cfg)).toMatch(/resolved/);
    expect(whyNotEnforceable({ ...alert, severity: 'warning' }, cfg)).toMatch(/severity/);
    expect(whyNotEnforceable({ ...alert, score: 0.79 }, cfg)).toMatch(/minScore/);
    const ipOnly = enforcementConfig({ linkTypes: ['payment'] }).enforcement;
    expect(whyNotEnforceable(alert, ipOnly)).toMatch(/link type ip_prefix/);
    const warnings = enforcementConfig({ severities: ['warning', 'critical'], minScore: 0.5 }).enforcement;
    expect(whyNotEnforceable({ ...alert, severity: 'warning', score: 0.6 }, warnings)).toBeNull();
  });
});

describe('decideLimit', () => {
  const t = 1_000_000;
  const live = (over: Partial<LimitRecord>): LimitRecord => ({
    accountId: 'a', limitRpm: 60, capabilities: [], reason: 'r', alertId: alert.alertId, fleetId: alert.fleetId,
    level: 0, levelSince: t, createdAt: t, expiresAt: t + 60 * MIN, dryRun: false, ...over,
  });

  it('limits an account without a limit at level 0, for the whole account unless capabilitiesOnly', () => {
    const d = decideLimit(cfg, alert, 'a', null, t, true);
    expect(d?.change).toBe('new');
    expect(d?.record).toMatchObject({ accountId: 'a', limitRpm: 60, capabilities: [], level: 0, expiresAt: t + 60 * MIN, dryRun: true, alertId: alert.alertId });
    expect(d?.record.reason).toMatch(/critical fleet alert, score 0.93.*ip_prefix=203.0.113.0\/24: synchronized burst/);
    const scoped = enforcementConfig({ capabilitiesOnly: true }).enforcement;
    expect(decideLimit(scoped, alert, 'a', null, t, false)?.record.capabilities).toEqual(['agentic', 'coding']);
  });

  it('escalates a still-firing fleet one level per afterMs, halving the rate down to minRpm, up to maxLevel', () => {
    expect(decideLimit(cfg, alert, 'a', live({}), t + 15 * MIN - 1, false)).toBeNull();
    const up = decideLimit(cfg, alert, 'a', live({}), t + 15 * MIN, false);
    expect(up?.change).toBe('escalate');
    expect(up?.record).toMatchObject({ level: 1, limitRpm: 30, levelSince: t + 15 * MIN, expiresAt: t + 75 * MIN, createdAt: t });
    expect([0, 1, 2, 3, 4].map((l) => rpmAtLevel(cfg, l))).toEqual([60, 30, 15, 7, 5]);
    const top = live({ level: 3, limitRpm: 7, expiresAt: t + 100 * MIN });
    expect(decideLimit(cfg, alert, 'a', top, t + 50 * MIN, false)).toBeNull();
  });

  it('extends a limit when less than half its ttl remains, or when the dry-run mode changed', () => {
    const ext = decideLimit(cfg, alert, 'a', live({ expiresAt: t + 29 * MIN }), t, false);
    expect(ext?.change).toBe('extend');
    expect(ext?.record).toMatchObject({ level: 0, limitRpm: 60, expiresAt: t + 60 * MIN });
    expect(decideLimit(cfg, alert, 'a', live({ expiresAt: t + 31 * MIN }), t, false)).toBeNull();
    expect(decideLimit(cfg, alert, 'a', live({ dryRun: true }), t, false)?.record.dryRun).toBe(false);
  });

  it('another alert takes a live limit over without loosening it', () => {
    const other = makeAlert(['a'], { alertId: 'alert-2', fleetId: 'fleet-2' });
    const strict = decideLimit(cfg, other, 'a', live({ limitRpm: 15, capabilities: ['coding'] }), t, false);
    expect(strict?.change).toBe('takeover');
    expect(strict?.record).toMatchObject({ alertId: 'alert-2', fleetId: 'fleet-2', limitRpm: 15, capabilities: [] });
    const scoped = enforcementConfig({ capabilitiesOnly: true, limitRpm: 10 }).enforcement;
    const merged = decideLimit(scoped, { ...other, targetedCapabilities: ['agentic'] }, 'a', live({ capabilities: ['coding'] }), t, false);
    expect(merged?.record).toMatchObject({ limitRpm: 10, capabilities: ['agentic', 'coding'] });
  });

  it('an expired limit is replaced by a new one', () => {
    expect(decideLimit(cfg, alert, 'a', live({ expiresAt: t }), t, false)?.change).toBe('new');
  });
});
