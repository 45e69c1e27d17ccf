import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { capturedIo as io } from '../support/captured-io';
import { runEvalCommand } from '../../src/eval/cli';
import { alerts, labels } from './fixtures';

describe('lockstep eval', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-eval-'));
  const labelsFile = path.join(dir, 'labels.json');
  const alertsFile = path.join(dir, 'alerts.ndjson');
  fs.writeFileSync(labelsFile, JSON.stringify(labels));
  fs.writeFileSync(alertsFile, alerts.map((a) => JSON.stringify({ ...a, fleetId: 'f', score: 0.9 })).join('\n') + '\n\n');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const base = ['--labels', labelsFile, '--alerts', alertsFile];

  it('prints the report as tables', async () => {
    const t = io();
    expect(await runEvalCommand(base, t)).toBe(0);
    expect(t.out()).toMatch(/campaign recall\s+66\.7% \(2\/3\)/);
    expect(t.out()).toMatch(/account precision\s+38\.5% \(5\/13\)/);
    expect(t.out()).toMatch(/false alerts per day\s+1\.00/);
    expect(t.out()).toMatch(/time to detect p50\s+5m00s/);
    expect(t.out()).toMatch(/campus\s+university_nat\s+3\s+2\s+3/);
  });

  it('prints one JSON object with --json', async () => {
    const t = io();
    expect(await runEvalCommand([...base, '--json'], t)).toBe(0);
    const r = JSON.parse(t.out());
    expect(r.campaignsCaught).toBe(2);
    expect(r.falseAlerts).toBe(2);
    expect(r.perKind).toHaveLength(2);
  });

  it('exits 1 when a threshold is missed, 0 when all are met', async () => {
    expect(await runEvalCommand([...base, '--min-recall', '0.6', '--min-precision', '0.3', '--max-false-per-day', '1'], io())).toBe(0);
    let t = io();
    expect(await runEvalCommand([...base, '--min-recall', '0.7'], t)).toBe(1);
    expect(t.err()).toMatch(/threshold missed: --min-recall 0.7, actual 0.6667/);
    t = io();
    expect(await runEvalCommand([...base, '--max-false-per-day', '0.5'], t)).toBe(1);
    expect(t.err()).toMatch(/--max-false-per-day/);
    expect(await runEvalCommand([...base, '--min-account-recall', '0.6'], io())).toBe(1);
  });

  it('exits 2 on bad usage or unreadable input, saying what is wrong', async () => {
    let t = io();
    expect(await runEvalCommand([...base, '--min-recall', '2'], t)).toBe(2);
    expect(t.err()).toMatch(/--min-recall must be a number in \[0, 1\]/);
    t = io();
    expect(await runEvalCommand(['--labels', labelsFile], t)).toBe(2);
    expect(t.err()).toMatch(/--labels and --alerts are required/);
    t = io();
    expect(await runEvalCommand([...base, '--nope'], t)).toBe(2);
    expect(t.err()).toMatch(/--nope/);
    const broken = path.join(dir, 'broken.ndjson');
    fs.writeFileSync(broken, JSON.stringify(alerts[0]) + '\n{"alertId": 3}\n');
    t = io();
    expect(await runEvalCommand(['--labels', labelsFile, '--alerts', broken], t)).toBe(2);
    expect(t.err()).toMatch(/broken\.ndjson:2: not an alert/);
  });
});
