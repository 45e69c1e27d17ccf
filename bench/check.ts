import { spawn } from 'node:child_process';
import path from 'node:path';

export interface CheckScenario {
  name: string;
  decisionsPerSec: number;
  p99Ms: number;
}

export interface CheckResult {
  /** the lowest saturated decisions/s over the scenarios: what one process sustains in the worst case */
  checkPerSec: number;
  /** the highest wrk p99 over the paced runs (about 5-6k decisions/s, the target rate) */
  checkP99Ms: number;
  scenarios: CheckScenario[];
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v);
  if (!m) return NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as 'us' | 'ms' | 's' | 'm'];
}

/** Parses check.bench's report lines: "<scenario>: <n> decisions/s, wrk p50 <t>, p99 <t>, denied <n>". */
export function parseCheckBench(out: string): CheckResult {
  const scenarios: CheckScenario[] = [];
  for (const m of out.matchAll(/^(.+): ([\d.]+) decisions\/s, wrk p50 \S+, p99 (\S+), denied \d+$/gm)) {
    scenarios.push({ name: m[1], decisionsPerSec: Number(m[2]), p99Ms: toMs(m[3]) });
  }
  if (scenarios.length === 0) throw new Error(`check bench printed no results:\n${out.slice(-2000)}`);
  const saturated = scenarios.filter((s) => s.name.includes('saturated'));
  const paced = scenarios.filter((s) => s.name.includes('paced'));
  return {
    checkPerSec: Math.min(...saturated.map((s) => s.decisionsPerSec)),
    checkP99Ms: Math.max(...paced.map((s) => s.p99Ms)),
    scenarios,
  };
}

/** Runs bench/check.bench (wrk against the gateway check over a real Redis) and reads its report. */
export function measureCheck(seconds: number): Promise<CheckResult> {
  const script = path.join(__dirname, 'check.bench.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, String(seconds), '8', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`check bench exited ${code}: ${out.slice(-2000)}`));
      try {
        resolve(parseCheckBench(out));
      } catch (err) {
        reject(err);
      }
    });
  });
}
