import { PassThrough, Readable } from 'node:stream';
import type { Alert } from '../../src/alerts/alert';
import { generateEvents, labelsOf } from '../../src/sim/generate';
import type { Scenario } from '../../src/sim/scenario';
import { runReplay } from '../../src/embedded/replay';
import { evaluate, type EvalReport } from '../../src/eval/metrics';
import { parseAlerts } from '../../src/eval/input';

/** A scenario through simulate -> replay -> eval, in process, as scripts/scenario-suite.sh runs it. */
export async function replayAndEvaluate(scenario: Scenario, seed: number): Promise<{ report: EvalReport; alerts: Alert[]; invalid: number }> {
  const lines = [...generateEvents(scenario, seed)].map((e) => JSON.stringify(e)).join('\n');
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const summary = await runReplay(Readable.from([lines]), { stdin: process.stdin, stdout, stderr: new PassThrough() }, { log: { level: 'silent' } }, false);
  const text = Buffer.concat(chunks).toString('utf8');
  const alerts = text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Alert);
  return { report: evaluate(labelsOf(scenario, seed), parseAlerts(text, 'replay')), alerts, invalid: summary.invalid };
}
