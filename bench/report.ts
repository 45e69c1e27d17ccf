import type { CheckResult } from './check';
import type { MemoryRun } from './memory';
import type { PipelineRun } from './pipeline';

export interface BenchReport {
  machine: { cores: number; cpuModel: string; node: string; platform: string; loadAverage: Record<string, [number, number, number]> };
  params: { events: number; reps: number; scenario: string; seed: number; partitions: number; bytesPerEvent: number; eventTimeSpanMs: number; checkSeconds: number };
  rawConsumeEventsPerSec: number;
  pipelineEventsPerSec: number;
  ratio: number;
  /** the same consumer as the raw figure doing the floor's work (bench/floor.ts) instead of JSON.parse */
  floorConsumeEventsPerSec: number;
  /** floor consume / raw consume: the highest ratio any design that counts members per link in the consumer can reach */
  floorRatio: number;
  redisRoundtripsPerEvent: number;
  redisCommandsPerEvent: number;
  redisServerCommandsPerEvent: number;
  serviceCpuUsPerEvent: number;
  redisCpuUsPerEvent: number;
  /** Redis calls per event by command, from the median pipeline run */
  redisCommandMix: Record<string, number>;
  replayEventsPerSec: number;
  replayAlerts: number;
  /** the floor's work over the replay's file, one process: the fastest any replay could be */
  floorReplayEventsPerSec: number;
  checkPerSec: number;
  checkP99Ms: number;
  rssMb: number;
  redisBytesPerActiveAccount: number;
  memory: MemoryRun;
  /** the check run at the median (the upper one for an even count) of the runs' worst paced p99: its scenarios */
  check: CheckResult;
  runs: { rawConsumeEventsPerSec: number[]; floorConsumeEventsPerSec: number[]; pipeline: PipelineRun[]; replayEventsPerSec: number[]; floorReplayEventsPerSec: number[]; check: CheckResult[] };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The targets of docs/performance.md, judged on one report. `ceiling` is what the floor allows any
 * design on this machine, where it bounds the figure.
 */
export function targets(r: BenchReport): { name: string; target: string; value: string; reached: boolean; ceiling?: string }[] {
  const f = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  return [
    { name: 'pipeline / raw consume', target: '>= 0.8', value: f(r.ratio, 2), reached: r.ratio >= 0.8, ceiling: f(r.floorRatio, 2) },
    { name: 'Redis round trips / event', target: '<= 0.01', value: r.redisRoundtripsPerEvent.toExponential(2), reached: r.redisRoundtripsPerEvent <= 0.01 },
    { name: 'Redis commands / event', target: '< 0.1', value: r.redisCommandsPerEvent.toExponential(2), reached: r.redisCommandsPerEvent < 0.1 },
    { name: 'replay events/s', target: '>= 200,000', value: f(r.replayEventsPerSec), reached: r.replayEventsPerSec >= 200_000, ceiling: f(r.floorReplayEventsPerSec) },
    { name: 'check decisions/s', target: '>= 5,000', value: f(r.checkPerSec), reached: r.checkPerSec >= 5_000 },
    { name: 'check p99 at ~5k/s', target: '<= 5 ms', value: `${f(r.checkP99Ms, 2)} ms`, reached: r.checkP99Ms <= 5 },
  ];
}

export function formatReport(r: BenchReport): string {
  const f = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows: [string, string][] = [
    ['raw kafkajs consume (events/s)', f(r.rawConsumeEventsPerSec)],
    ['lockstep pipeline (events/s)', f(r.pipelineEventsPerSec)],
    ['ratio', f(r.ratio, 2)],
    ['floor consume (events/s: decode, links, members counted)', f(r.floorConsumeEventsPerSec)],
    ['floor ratio (floor consume / raw consume)', f(r.floorRatio, 2)],
    ['Redis round trips / event', r.redisRoundtripsPerEvent.toExponential(2)],
    ['Redis commands sent / event', r.redisCommandsPerEvent.toExponential(2)],
    ['Redis commands executed / event (scripts inside)', f(r.redisServerCommandsPerEvent, 2)],
    ['lockstep CPU / event (µs)', f(r.serviceCpuUsPerEvent, 1)],
    ['Redis CPU / event (µs)', f(r.redisCpuUsPerEvent, 2)],
    ['service RSS (MB, max while draining)', f(r.rssMb)],
    ['replay (events/s, one process)', f(r.replayEventsPerSec)],
    ['floor replay (events/s, one process)', f(r.floorReplayEventsPerSec)],
    ['check (decisions/s, worst scenario, saturated)', f(r.checkPerSec)],
    ['check p99 (ms, worst scenario, paced)', f(r.checkP99Ms, 2)],
    [`Redis bytes / active account (${f(r.memory.activeAccounts)} accounts, ${f(r.memory.linkingKeys)} linking keys, ${f(r.memory.spanMs / 60_000)} min)`, f(r.redisBytesPerActiveAccount)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const m = r.machine;
  let out = `lockstep bench: ${f(r.params.events)} events of ${r.params.scenario} (seed ${r.params.seed}, ${r.params.bytesPerEvent} B/event, ${r.params.partitions} partitions), median of ${r.params.reps}\n`;
  out += `machine: ${m.cores} cores (${m.cpuModel}), node ${m.node}; load average ${Object.entries(m.loadAverage).map(([k, v]) => `${k} ${v.join('/')}`).join(', ')}\n\n`;
  for (const [k, v] of rows) out += `${k.padEnd(w)}  ${v.padStart(12)}\n`;
  out += '\ntargets:\n';
  for (const t of targets(r)) out += `  ${t.reached ? 'reached' : 'MISSED '}  ${t.name} ${t.target} (${t.value}${t.ceiling ? `; the floor allows at most ${t.ceiling}` : ''})\n`;
  out += '\ncheck scenarios:\n';
  for (const s of r.check.scenarios) out += `  ${s.name}: ${f(s.decisionsPerSec)} decisions/s, p99 ${f(s.p99Ms, 2)} ms\n`;
  out += '\nRedis calls per event by command (pipeline, scripts inside):\n';
  out += '  ' + Object.entries(r.redisCommandMix).map(([c, v]) => `${c} ${f(v, 3)}`).join(', ') + '\n';
  out += `\nRedis memory by scale (used_memory grew ${f(r.memory.usedMemoryBytes / 2 ** 20, 1)} MiB for ${f(r.memory.events)} events):\n`;
  for (const [scale, s] of Object.entries(r.memory.byScale)) out += `  ${scale}: ${f(s.keys)} keys, ${f(s.bytes / 2 ** 20, 1)} MiB (MEMORY USAGE)${s.accountBuckets > 0 ? `, ${f(s.accountBuckets)} (account, bucket) pairs: ${f(s.bytes / s.accountBuckets)} B each` : ''}\n`;
  return out;
}
