import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { capturedIo as io } from '../support/captured-io';
import { runSimulateCommand } from '../../src/sim/cli';
import { labelsOf } from '../../src/sim/generate';
import { loadScenario } from '../../src/sim/scenario';

describe('lockstep simulate', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-sim-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes byte-identical events and the labels for a seed', async () => {
    const a = path.join(dir, 'a.ndjson');
    const b = path.join(dir, 'b.ndjson');
    const labels = path.join(dir, 'labels.json');
    expect(await runSimulateCommand(['--scenario', 'small', '--seed', '9', '--out', a, '--labels', labels], io())).toBe(0);
    expect(await runSimulateCommand(['--scenario', 'small', '--seed', '9', '--out', b], io())).toBe(0);
    const text = fs.readFileSync(a, 'utf8');
    expect(fs.readFileSync(b, 'utf8')).toBe(text);
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(10000);
    expect(JSON.parse(lines[0])).toHaveProperty('accountId');
    expect(JSON.parse(fs.readFileSync(labels, 'utf8'))).toEqual(labelsOf(loadScenario('small'), 9));
  });

  it('writes to stdout without --out', async () => {
    const t = io();
    expect(await runSimulateCommand(['--scenario', 'small'], t)).toBe(0);
    expect(t.out().split('\n').length).toBeGreaterThan(10000);
  });

  it('stops quietly, with status 0, when the reader closes the pipe (simulate | head)', async () => {
    const stdout = new PassThrough();
    const captured = io();
    stdout.once('data', () => {
      // what a pipe whose reader exited does on the next write
      stdout.write = (() => {
        const err = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
        process.nextTick(() => stdout.emit('error', err));
        return false;
      }) as typeof stdout.write;
    });
    const status = await runSimulateCommand(['--scenario', 'small'], { stdout, stderr: captured.stderr });
    expect(status).toBe(0);
    expect(captured.err()).toBe('');
  });

  it('lists named scenarios', async () => {
    const t = io();
    expect(await runSimulateCommand(['--list'], t)).toBe(0);
    expect(t.out().split('\n')).toEqual(expect.arrayContaining(['small', 'demo', 'churn']));
  });

  it('rejects bad flags and inputs with a clear message', async () => {
    let t = io();
    expect(await runSimulateCommand(['--scenario', 'small', '--bogus'], t)).toBe(2);
    expect(t.err()).toMatch(/--bogus/);
    t = io();
    expect(await runSimulateCommand([], t)).toBe(2);
    expect(t.err()).toMatch(/--scenario is required/);
    t = io();
    expect(await runSimulateCommand(['--scenario', 'small', '--seed', 'x'], t)).toBe(2);
    expect(t.err()).toMatch(/--seed must be an integer/);
    t = io();
    expect(await runSimulateCommand(['--scenario', 'no-such-scenario'], t)).toBe(1);
    expect(t.err()).toMatch(/no scenario file or named scenario "no-such-scenario".*small/);
  });
});
