import { LockstepError } from '../../src/errors';
import { durationMs, listScenarioNames, loadScenario, validateScenario } from '../../src/sim/scenario';
import { everyKind } from './fixtures';

const fieldOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(LockstepError);
    expect((err as LockstepError).code).toBe('CONFIG_INVALID');
    return (err as LockstepError).field;
  }
  throw new Error('expected an error');
};

describe('scenario', () => {
  it('parses durations', () => {
    expect(durationMs('90s')).toBe(90000);
    expect(durationMs('1h30m')).toBe(5400000);
    expect(durationMs('1.5d')).toBe(129600000);
    expect(durationMs(250)).toBe(250);
    expect(() => durationMs('5 minutes')).toThrow(LockstepError);
  });

  it('rejects bad scenarios naming the field', () => {
    const clone = (): Record<string, unknown> => structuredClone(everyKind) as unknown as Record<string, unknown>;
    const withCampaign = (patch: Record<string, unknown>): unknown => {
      const s = clone();
      (s.campaigns as Record<string, unknown>[])[0] = { ...(s.campaigns as Record<string, unknown>[])[0], ...patch };
      return s;
    };
    expect(fieldOf(() => validateScenario({ ...clone(), extra: 1 }))).toBe('(root)');
    expect(fieldOf(() => validateScenario(withCampaign({ start: 'soon' })))).toBe('campaigns.0.start');
    expect(fieldOf(() => validateScenario(withCampaign({ share: { ip: 'sometimes' } })))).toBe('campaigns.0.share.ip');
    // an account's own attributes cannot change per request
    expect(fieldOf(() => validateScenario(withCampaign({ share: { payment: 'per_request' } })))).toBe('campaigns.0.share.payment');
    expect(() => validateScenario(withCampaign({ share: { ip: 'per_request', userAgent: 'per_request', promptTemplate: 'per_request' } }))).not.toThrow();
    expect(fieldOf(() => validateScenario(withCampaign({ end: '3h' })))).toBe('campaigns.0');
    expect(fieldOf(() => validateScenario(withCampaign({ id: 'campus' })))).toBe('campaigns.0.id');
    expect(fieldOf(() => validateScenario(withCampaign({ timing: { mode: 'jittered', burstEvery: '1m', burstLength: '10s' } })))).toBe('campaigns.0.timing');
    expect(validateScenario(clone())).toEqual(everyKind);
  });

  it('ships a suite covering every campaign kind and confounder, plus small and demo', () => {
    const names = listScenarioNames();
    for (const n of ['small', 'demo', 'sync-shared-ip', 'rotated-ip-shared-template', 'behavior-only', 'slow-and-low', 'camouflaged', 'churn',
      'university-nat', 'enterprise-cron', 'viral-surge', 'ci-bots', 'agent-framework-ua', 'device-apps', 'per-request-rotation', 'mixed']) expect(names).toContain(n);
    const scenarios = names.map(loadScenario);
    const confounders = new Set(scenarios.flatMap((s) => (s.confounders ?? []).map((c) => c.kind)));
    expect([...confounders].sort()).toEqual(['agent_framework_ua', 'ci_bots', 'device_apps', 'enterprise_cron', 'university_nat', 'viral_surge']);
    const modes = new Set(scenarios.flatMap((s) => (s.campaigns ?? []).map((c) => c.timing.mode)));
    expect([...modes].sort()).toEqual(['jittered', 'steady', 'synchronized']);
    expect(scenarios.some((s) => (s.campaigns ?? []).some((c) => c.accountLifetime !== undefined))).toBe(true);
    const demo = loadScenario('demo');
    expect(Math.min(...(demo.campaigns ?? []).map((c) => durationMs(c.start ?? 0)))).toBeLessThanOrEqual(10 * 60000);
  });
});
