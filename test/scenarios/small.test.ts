import { PassThrough, Readable } from 'node:stream';
import { generateEvents, labelsOf } from '../../src/sim/generate';
import { loadScenario } from '../../src/sim/scenario';
import { runReplay } from '../../src/embedded/replay';
import { evaluate } from '../../src/eval/metrics';
import { parseAlerts } from '../../src/eval/input';

/**
 * The CI guard on detection quality: the `small` scenario (two campaigns among a university NAT
 * and an enterprise's cron jobs) through simulate -> replay -> eval. The build fails when
 * detection regresses below these floors. The full suite's figures are in the README.
 */
const FLOORS = { campaignRecall: 1, accountPrecision: 0.95, accountRecall: 0.9, falseAlertsPerDay: 0, timeToDetectP90Ms: 15 * 60_000 };

describe('scenario suite: small (CI)', () => {
  it('catches both campaigns, alerts on no confounder, within minutes', async () => {
    const scenario = loadScenario('small');
    const lines = [...generateEvents(scenario, 42)].map((e) => JSON.stringify(e)).join('\n');
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c));
    const summary = await runReplay(Readable.from([lines]), { stdin: process.stdin, stdout, stderr: new PassThrough() }, { log: { level: 'silent' } }, false);
    expect(summary.invalid).toBe(0);
    const report = evaluate(labelsOf(scenario, 42), parseAlerts(Buffer.concat(chunks).toString('utf8'), 'replay'));
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
