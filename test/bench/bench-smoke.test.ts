import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const RUN = join(__dirname, '..', '..', 'dist', 'bench', 'run.js');

type Json = Record<string, unknown>;

/**
 * `npm run bench` end to end on a small input (one repetition): every figure is present and
 * plausible. Performance is not gated here (the machine is shared); docs/performance.md has the figures.
 */
describe('bench smoke', () => {
  let report: Json;

  beforeAll(async () => {
    if (!existsSync(RUN)) throw new Error(`${RUN} is missing: run npm run build first`);
    const { stdout } = await execFileAsync(process.execPath, [RUN, '--json', '--quick', '--events', '20000'], { maxBuffer: 16 << 20, timeout: 280_000 });
    report = JSON.parse(stdout) as Json;
  }, 300_000);

  const positive = ['rawConsumeEventsPerSec', 'pipelineEventsPerSec', 'ratio', 'floorConsumeEventsPerSec', 'floorRatio', 'floorReplayEventsPerSec', 'redisRoundtripsPerEvent', 'redisCommandsPerEvent', 'redisServerCommandsPerEvent', 'serviceCpuUsPerEvent', 'redisCpuUsPerEvent', 'replayEventsPerSec', 'checkPerSec', 'checkP99Ms', 'rssMb', 'redisBytesPerActiveAccount'];

  it.each(positive)('reports %s as a positive finite number', (field) => {
    const v = report[field];
    expect(typeof v).toBe('number');
    expect(Number.isFinite(v)).toBe(true);
    expect(v as number).toBeGreaterThan(0);
  });

  it('relates the figures as their definitions say', () => {
    expect(report.ratio as number).toBeCloseTo((report.pipelineEventsPerSec as number) / (report.rawConsumeEventsPerSec as number), 6);
    expect(report.floorRatio as number).toBeCloseTo((report.floorConsumeEventsPerSec as number) / (report.rawConsumeEventsPerSec as number), 6);
    // a flush is at least one round trip and one command per shard written, for many events
    expect(report.redisRoundtripsPerEvent as number).toBeLessThanOrEqual(report.redisCommandsPerEvent as number);
    expect(report.redisCommandsPerEvent as number).toBeLessThan(1);
    // inside the scripts every event touches several hash fields
    expect(report.redisServerCommandsPerEvent as number).toBeGreaterThan(1);
    expect(report.rssMb as number).toBeGreaterThan(20);
    expect(report.rssMb as number).toBeLessThan(4096);
    expect(report.checkP99Ms as number).toBeLessThan(10_000);
  });

  it('records the machine, the load and the input', () => {
    const machine = report.machine as { cores: number; loadAverage: Record<string, number[]> };
    expect(machine.cores).toBeGreaterThan(0);
    for (const phase of ['start', 'consume', 'replay', 'memory', 'check', 'end']) expect(machine.loadAverage[phase]).toHaveLength(3);
    const params = report.params as { events: number; reps: number; partitions: number };
    expect(params).toMatchObject({ events: 20000, reps: 1 });
    expect(params.partitions).toBeGreaterThanOrEqual(8);
    const memory = report.memory as { activeAccounts: number; linkingKeys: number; events: number };
    expect(memory.activeAccounts).toBeGreaterThan(0);
    expect(memory.linkingKeys).toBeGreaterThan(0);
    expect(memory.events).toBeGreaterThan(0);
    expect(memory.events).toBeLessThanOrEqual(20000);
    // one run of each measurement
    const runs = report.runs as Record<string, unknown[]>;
    for (const figure of ['rawConsumeEventsPerSec', 'floorConsumeEventsPerSec', 'pipeline', 'replayEventsPerSec', 'floorReplayEventsPerSec', 'check']) expect(runs[figure]).toHaveLength(1);
    expect(Object.keys(report.redisCommandMix as Json)).toContain('evalsha');
  });
});

describe('store-write bench smoke', () => {
  it('prints one row per flush size with plausible figures', async () => {
    const bench = join(__dirname, '..', '..', 'dist', 'bench', 'store-write.bench.js');
    const { stdout } = await execFileAsync(process.execPath, [bench, '--events', '3000', '--flush', '1000,500'], { timeout: 120_000 });
    const rows = stdout.split('\n').filter((l) => /^\d+ \|/.test(l)).map((l) => l.split(' | ').map(Number));
    expect(rows.map((r) => r[0])).toEqual([1000, 500]);
    for (const [, eventsPerSec, lockstepCpu, redisCpu, commands, rss] of rows) {
      expect(eventsPerSec).toBeGreaterThan(0);
      expect(lockstepCpu).toBeGreaterThan(0);
      expect(redisCpu).toBeGreaterThan(0);
      // every event touches several hash fields inside the script
      expect(commands).toBeGreaterThan(1);
      expect(rss).toBeGreaterThan(20);
    }
  }, 150_000);
});
