import { loadScenario } from '../../src/sim/scenario';
import { replayAndEvaluate } from './replay-eval';

/**
 * The CI guard on detection quality: the `small` scenario (two campaigns among a university NAT
 * and an enterprise's cron jobs) through simulate -> replay -> eval. The build fails when
 * detection regresses below these floors. The full suite's figures are in the README.
 */
const FLOORS = { campaignRecall: 1, accountPrecision: 0.95, accountRecall: 0.9, falseAlertsPerDay: 0, timeToDetectP90Ms: 15 * 60_000 };

describe('scenario suite: small (CI)', () => {
  it('catches both campaigns, alerts on no confounder, within minutes', async () => {
    const { report, invalid } = await replayAndEvaluate(loadScenario('small'), 42);
    expect(invalid).toBe(0);
    const got = {
      campaignRecall: report.campaignRecall,
      accountPrecision: report.accountPrecision,
      accountRecall: report.accountRecall,
      falseAlertsPerDay: report.falseAlertsPerDay,
      timeToDetectP90Ms: report.timeToDetectP90Ms,
    };
    process.stdout.write(`small scenario: ${JSON.stringify(got)}\n`);
    expect(got.campaignRecall).toBeGreaterThanOrEqual(FLOORS.campaignRecall);
    expect(got.accountPrecision).toBeGreaterThanOrEqual(FLOORS.accountPrecision);
    expect(got.accountRecall).toBeGreaterThanOrEqual(FLOORS.accountRecall);
    expect(got.falseAlertsPerDay).toBeLessThanOrEqual(FLOORS.falseAlertsPerDay);
    expect(got.timeToDetectP90Ms).toBeLessThanOrEqual(FLOORS.timeToDetectP90Ms);
  });
});
