import { parseArgs } from 'node:util';
import { LockstepError } from '../errors';
import type { CommandIo } from '../sim/cli';
import { readAlerts, readLabels } from './input';
import type { EvalReport } from './metrics';
import { evaluate } from './metrics';
import { formatReport } from './report';

const USAGE = `usage: lockstep eval --labels FILE --alerts FILE|- [--json]
                     [--min-recall R] [--min-precision P] [--min-account-recall R] [--max-false-per-day N]
Scores alerts (NDJSON, "-" = stdin) against the labels \`lockstep simulate --labels\` wrote.
Exit 0 = every given threshold met, 1 = a threshold missed, 2 = bad usage or unreadable input.
  --json                 one JSON object instead of tables
  --min-recall           campaign recall (share of campaigns caught), 0..1
  --min-precision        account precision, 0..1
  --min-account-recall   account recall, 0..1
  --max-false-per-day    false alerts per simulated day
`;

interface Threshold {
  flag: string;
  limit: number;
  metric: (r: EvalReport) => number | null;
  /** true: the metric must not exceed the limit; false: must reach it */
  isMaximum: boolean;
}

/** A metric that is null (nothing to measure: no campaigns, no alerts) passes. */
function meets(t: Threshold, actual: number | null): boolean {
  return actual === null || (t.isMaximum ? actual <= t.limit : actual >= t.limit);
}

function fraction(flag: string, raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0 || (flag !== 'max-false-per-day' && v > 1)) {
    throw new LockstepError('CONFIG_INVALID', `--${flag} must be ${flag === 'max-false-per-day' ? 'a number >= 0' : 'a number in [0, 1]'}, got "${raw}"`, { field: flag });
  }
  return v;
}

export async function runEvalCommand(argv: string[], io: CommandIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        labels: { type: 'string' }, alerts: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        'min-recall': { type: 'string' }, 'min-precision': { type: 'string' }, 'min-account-recall': { type: 'string' },
        'max-false-per-day': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr.write(`lockstep eval: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (typeof values.labels !== 'string' || typeof values.alerts !== 'string') {
    io.stderr.write(`lockstep eval: --labels and --alerts are required\n${USAGE}`);
    return 2;
  }
  let report: EvalReport;
  const thresholds: Threshold[] = [];
  try {
    const at = (flag: string, metric: Threshold['metric']): void => {
      const raw = values[flag];
      if (typeof raw === 'string') thresholds.push({ flag, limit: fraction(flag, raw), metric, isMaximum: flag.startsWith('max-') });
    };
    at('min-recall', (r) => r.campaignRecall);
    at('min-precision', (r) => r.accountPrecision);
    at('min-account-recall', (r) => r.accountRecall);
    at('max-false-per-day', (r) => r.falseAlertsPerDay);
    report = evaluate(readLabels(values.labels), readAlerts(values.alerts));
  } catch (err) {
    io.stderr.write(`lockstep eval: ${(err as Error).message}\n`);
    return 2;
  }
  io.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatReport(report));
  let missed = false;
  for (const t of thresholds) {
    const actual = t.metric(report);
    if (!meets(t, actual)) {
      missed = true;
      io.stderr.write(`lockstep eval: threshold missed: --${t.flag} ${t.limit}, actual ${actual === null ? 'n/a' : +actual.toFixed(4)}\n`);
    }
  }
  return missed ? 1 : 0;
}
