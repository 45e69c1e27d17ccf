import { spawn } from 'node:child_process';
import { serviceMain } from './stack';

/**
 * `lockstep replay FILE` (the CLI, one process, one core): the same pipeline and detector over the
 * in-memory store. Returns the events/s replay reports for itself (reading, not start-up, included).
 */
export function measureReplay(ndjsonFile: string, cpuProfileDir?: string): Promise<{ eventsPerSec: number; events: number; alerts: number }> {
  const args = [...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []), serviceMain(), 'replay', ndjsonFile];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const m = /replay: done: (\d+) events \(\d+ invalid\), (\d+) alert messages in [\d.]+ s \((\d+) events\/s\)/.exec(stderr);
      if (code !== 0 || !m) return reject(new Error(`lockstep replay exited ${code}: ${stderr.slice(-2000)}`));
      resolve({ events: Number(m[1]), alerts: Number(m[2]), eventsPerSec: Number(m[3]) });
    });
  });
}
