import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { freePort } from './ports';
import { spawnServer, stopProcess, waitForExit } from './process';
import { waitFor } from './wait';

const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

export interface LockstepProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** the process's stdout+stderr (pino JSON lines) so far */
  logs(): string;
  /** its last `n` log lines, one short line each (time, level, message, and error or assignment): for a timeout's message */
  tail(n: number): string;
  /** Prometheus text of /metrics */
  metrics(): Promise<string>;
  /** value of one sample, e.g. metric('lockstep_events_total{result="ok"}') */
  metric(sample: string): Promise<number>;
  /** graceful stop (SIGTERM) */
  stop(): Promise<void>;
  /** crash: SIGKILL */
  kill(): Promise<void>;
}

/**
 * Runs the built service exactly as `npm start` does (node dist/src/cli/main.js run), with env,
 * and waits until its HTTP server answers. `npm test` builds dist/ first.
 */
export async function startLockstep(env: Record<string, string>, opts: { waitReady?: boolean } = {}): Promise<LockstepProcess> {
  const port = await freePort();
  const logFile = join(mkdtempSync(join(tmpdir(), 'lockstep-svc-')), 'out.log');
  const fd = openSync(logFile, 'a');
  const child = spawnServer(process.execPath, [MAIN, 'run'], {
    env: { PATH: process.env.PATH ?? '', HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', fd, fd],
  });
  const url = `http://127.0.0.1:${port}`;
  const logs = (): string => readFileSync(logFile, 'utf8');
  let exited = false;
  void waitForExit(child).then(() => (exited = true));
  await waitFor(
    async () => {
      if (exited) throw new Error(`lockstep exited during start-up:\n${logs().slice(-3000)}`);
      try {
        const r = await fetch(`${url}/${opts.waitReady === false ? 'healthz' : 'readyz'}`);
        return r.status === 200;
      } catch {
        return false;
      }
    },
    { timeoutMs: 30_000, intervalMs: 100, what: 'lockstep to answer' },
  );
  const metrics = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();
  return {
    port,
    url,
    child,
    logs,
    tail: (n) => tailOf(logs(), n),
    metrics,
    async metric(sample: string) {
      const text = await metrics();
      const line = text.split('\n').find((l) => l.startsWith(sample + ' '));
      return line ? Number(line.slice(sample.length + 1)) : 0;
    },
    stop: () => stopProcess(child, 'SIGTERM', 20_000),
    kill: () => stopProcess(child, 'SIGKILL'),
  };
}

/** The last `n` lines of pino output, shortened to time, level, message, and error or assignment. */
function tailOf(output: string, n: number): string {
  return output
    .trimEnd()
    .split('\n')
    .slice(-n)
    .map((line) => {
      try {
        const r = JSON.parse(line) as { time?: string; level?: number; msg?: string; err?: { message?: string }; assignment?: unknown };
        const detail = r.err?.message ? `: ${r.err.message}` : r.assignment ? ` ${JSON.stringify(r.assignment)}` : '';
        return `  ${r.time?.slice(11, 23) ?? ''} ${r.level ?? ''} ${r.msg ?? ''}${detail}`.slice(0, 240);
      } catch {
        return `  ${line.slice(0, 240)}`;
      }
    })
    .join('\n');
}

/** The last log lines of each process, under its port: what a multi-instance test's timeout shows. */
export function tails(procs: readonly LockstepProcess[], n = 6): string {
  return procs.map((p) => `instance :${p.port}${p.child.exitCode !== null || p.child.signalCode !== null ? ' (exited)' : ''}\n${p.tail(n)}`).join('\n');
}
