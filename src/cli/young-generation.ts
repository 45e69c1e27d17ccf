import { spawn } from 'node:child_process';

/**
 * Replay allocates short-lived objects for every event (the decoded event, its link values, the
 * flush's aggregates) and the detector's per-tick reads. With V8's default young generation (16 MiB
 * semi-spaces) those fill it every few thousand events and the survivors of a tick are promoted and
 * collected again as old objects: a third of replay's time went to the collector. 64 MiB
 * semi-spaces make replay 1.2-1.5x faster, the more the sparser its traffic (docs/performance.md).
 * The size is fixed when V8 sets up its heap (v8.setFlagsFromString later has no effect), so replay
 * runs itself again with the flag unless the user gave one.
 */
export const REPLAY_SEMI_SPACE_MB = 64;

const FLAG = '--max-semi-space-size';
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** --inspect, --inspect-brk, --inspect-wait and their =host:port forms; not --inspect-port alone, which starts no debugger */
const INSPECTOR = /^--inspect(-brk|-wait)?(=|$)/;

/**
 * The Node arguments to run this script again with a larger young generation, or null when the
 * process already runs with a semi-space size of the user's (or this) choice, or under a debugger:
 * the debugger listens in this process, and a child given the same flag could not take its port
 * (the user would debug a process that does no work).
 */
export function respawnArgs(execArgv: readonly string[], nodeOptions: string | undefined, script: string, args: readonly string[]): string[] | null {
  const options = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  const sized = (s: string): boolean => s === FLAG || s.startsWith(`${FLAG}=`);
  if (options.some(sized) || options.some((s) => INSPECTOR.test(s))) return null;
  return [`${FLAG}=${REPLAY_SEMI_SPACE_MB}`, ...execArgv, script, ...args];
}

/**
 * Runs the script again as a child that shares stdin, stdout and stderr, forwards the signals that
 * stop it, and answers as the child did: its exit code, or the signal that ended it raised again,
 * so that a shell or a supervisor sees the same outcome as without the hop.
 */
export function respawn(nodeArgs: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const s of FORWARDED_SIGNALS) process.on(s, forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      for (const s of FORWARDED_SIGNALS) process.off(s, forward);
      if (signal !== null) {
        process.kill(process.pid, signal);
        return;
      }
      resolve(code ?? 1);
    });
  });
}
