import { loadScenario, type Scenario } from '../../src/sim/scenario';
import { ROTATING_VALUE } from '../../src/ingest/value-cap';
import { replayAndEvaluate } from './replay-eval';

/**
 * The suite's `per-request-rotation` and `device-apps` scenarios, cut to three hours and a smaller
 * population for CI:
 * a fleet whose every request comes from a new /24 with a new browser string and template is found
 * on the "(rotating)" keys the per-account value cap makes, within 10 minutes (15 beside the apps), and neither the service
 * accounts whose templates are new on every request nor the apps whose requests come from their
 * users' devices (on the same keys) are alerted.
 */
/** A suite scenario cut to three hours, 2,000 benign accounts, and a fleet of 40 from the first hour on. */
function threeHoursOf(name: string): Scenario {
  const full = loadScenario(name);
  return {
    ...full,
    duration: '3h',
    benign: { ...full.benign, accounts: 2000 },
    campaigns: (full.campaigns ?? []).map((c) => ({ ...c, accounts: 40, start: '1h', end: '3h' })),
  };
}

describe('scenario: per-request rotation (CI)', () => {
  it('catches the rotating fleet on a "(rotating)" key, and leaves the cron accounts on the same key alone', async () => {
    const { report, alerts, invalid } = await replayAndEvaluate(threeHoursOf('per-request-rotation'), 42);
    expect(invalid).toBe(0);
    process.stdout.write(`per-request rotation: recall ${report.campaignRecall}, precision ${report.accountPrecision}, account recall ${report.accountRecall}, ttd p90 ${report.timeToDetectP90Ms} ms\n`);
    expect(report.campaignRecall).toBe(1);
    expect(report.accountPrecision).toBeGreaterThanOrEqual(0.95);
    expect(report.accountRecall).toBeGreaterThanOrEqual(0.9);
    // found once its accounts pass their 8 /24s, ASNs and browser strings of the hour (the default
    // shares of those types), in their first burst; with 32, only in their second (15 minutes)
    expect(report.timeToDetectP90Ms).toBeLessThanOrEqual(10 * 60_000);
    expect(report.falseAlertsPerDay).toBe(0);
    expect(report.perConfounder.every((c) => c.alerts === 0)).toBe(true);
    const firing = alerts.filter((a) => a.status === 'firing');
    expect(firing.some((a) => a.links.some((l) => l.value === ROTATING_VALUE))).toBe(true);
  });

  it('tells the fleet from honest apps that rotate the same way (their users\' devices), on the same keys', async () => {
    const { report, alerts } = await replayAndEvaluate(threeHoursOf('device-apps'), 42);
    process.stdout.write(`device apps: recall ${report.campaignRecall}, precision ${report.accountPrecision}, ttd p90 ${report.timeToDetectP90Ms} ms, alerts on apps ${report.perConfounder.map((c) => c.alerts).join('/')}\n`);
    expect(report.campaignRecall).toBe(1);
    expect(report.accountPrecision).toBeGreaterThanOrEqual(0.95);
    expect(report.timeToDetectP90Ms).toBeLessThanOrEqual(15 * 60_000);
    expect(report.perConfounder.map((c) => [c.kind, c.alerts])).toEqual([['device_apps', 0], ['device_apps', 0]]);
    // the apps were on the (rotating) keys the fleet was found on
    const fleetKeys = alerts.filter((a) => a.status === 'firing').flatMap((a) => a.links).filter((l) => l.value === ROTATING_VALUE);
    expect(fleetKeys.length).toBeGreaterThan(0);
  });
});
