import { evaluate, percentile } from '../../src/eval/metrics';
import { alerts, labels } from './fixtures';

describe('evaluate', () => {
  const r = evaluate(labels, alerts);

  it('scores campaigns: caught when firing alerts cover at least half of the accounts', () => {
    expect(r.perCampaign.map((c) => [c.id, c.covered, c.coverage, c.caught])).toEqual([
      ['A', 3, 0.75, true],
      ['B', 1, 0.5, true],
      ['C', 1, 0.25, false],
    ]);
    expect(r.campaignRecall).toBeCloseTo(2 / 3);
    expect([r.campaignsCaught, r.campaigns]).toEqual([2, 3]);
  });

  it('scores accounts over the union of firing messages', () => {
    // alerted: a1 a2 a3 n1 b1 u1 u2 u3 n3 c1 n4 n5 zz = 13, of which a1 a2 a3 b1 c1 are campaign
    expect(r.alertedAccounts).toBe(13);
    expect(r.alertedCampaignAccounts).toBe(5);
    expect(r.accountPrecision).toBeCloseTo(5 / 13);
    expect(r.accountRecall).toBeCloseTo(5 / 10);
    expect(r.unknownAccounts).toBe(1);
  });

  it('counts false alerts (mostly non-campaign accounts) per simulated day', () => {
    expect([r.alerts, r.trueAlerts, r.falseAlerts]).toEqual([5, 3, 2]); // Z and W are false; Y is a tie, so true
    expect(r.simulatedDays).toBe(2);
    expect(r.falseAlertsPerDay).toBe(1);
  });

  it('measures time to detect from campaign start to the first true alert naming one of its accounts', () => {
    expect(r.perCampaign.map((c) => c.timeToDetectMs)).toEqual([300_000, 500_000, null]);
    expect(r.timeToDetectP50Ms).toBe(300_000);
    expect(r.timeToDetectP90Ms).toBe(500_000);
  });

  it('breaks down by campaign kind and by confounder', () => {
    expect(r.perKind).toEqual([
      { kind: 'sync', campaigns: 2, caught: 2, recall: 1, accountRecall: 4 / 6, timeToDetectP50Ms: 300_000 },
      { kind: 'slow', campaigns: 1, caught: 0, recall: 0, accountRecall: 0.25, timeToDetectP50Ms: null },
    ]);
    expect(r.perConfounder).toEqual([
      { id: 'campus', kind: 'university_nat', accounts: 3, alerts: 2, alertedAccounts: 3 }, // Y (half campus) and Z
      { id: 'surge', kind: 'viral_surge', accounts: 0, alerts: 1, alertedAccounts: 0 }, // W fired during it
    ]);
  });

  it('reports n/a rather than a number when there is nothing to measure', () => {
    const none = evaluate({ ...labels, campaigns: [], accounts: { n1: { label: 'benign', group: 'benign' } } }, []);
    expect(none.campaignRecall).toBeNull();
    expect(none.accountPrecision).toBeNull();
    expect(none.accountRecall).toBeNull();
    expect(none.timeToDetectP50Ms).toBeNull();
    expect(none.falseAlertsPerDay).toBe(0);
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([7], 0.9)).toBe(7);
    expect(percentile([], 0.5)).toBeNull();
  });
});
