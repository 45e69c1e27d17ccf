import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { hasExited, spawnServer, stopProcess } from '../test/support/process';

/**
 * The repository root, found by walking up from this file: the bench runs compiled from
 * dist/bench, where test/support's own `__dirname`-relative paths do not lead back to the repo.
 */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'scripts', 'dev-stack.sh'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`lockstep bench: no scripts/dev-stack.sh above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** The built service entry point (`npm run build`). */
export function serviceMain(): string {
  return path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
}

export interface BenchKafka {
  brokers: string[];
  stop(): Promise<void>;
}

/**
 * The librdkafka mock cluster with fixed partition counts, as test/support's startKafka starts it
 * (same helper binary, compiled by `scripts/dev-stack.sh helper`, the one place with the gcc command).
 */
export async function startBenchKafka(topics: Record<string, number>, brokers = 1): Promise<BenchKafka> {
  const bin = execFileSync('bash', [path.join(repoRoot(), 'scripts', 'dev-stack.sh'), 'helper'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const args = ['--brokers', String(brokers)];
  for (const [name, n] of Object.entries(topics)) args.push('--topic', `${name}:${n}`);
  const child: ChildProcess = spawnServer(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mock-cluster did not start: ${stderr}`)), 10_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', () => reject(new Error(`mock-cluster exited: ${stderr}`)));
  });
  const m = /^bootstrap\.servers=(.+)$/.exec(first);
  if (!m) {
    await stopProcess(child, 'SIGKILL');
    throw new Error(`mock-cluster: unexpected first line "${first}"`);
  }
  return {
    brokers: m[1].split(','),
    async stop() {
      if (hasExited(child)) return;
      child.stdin?.end();
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const timer = setTimeout(() => void stopProcess(child, 'SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
