import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * Starts a server process that cannot outlive the test process.
 *
 * Each server gets a sidecar shell holding a pipe from this process: when this process exits
 * for any reason (a test forgot stop(), jest was killed, a crash) the pipe closes, `read`
 * returns and the sidecar SIGKILLs the server. An in-process exit hook would not do: jest gives
 * test code a copy of `process` whose 'exit' listeners never fire.
 * Both are unref'd so a forgotten server does not keep jest from exiting.
 */
export function spawnServer(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  if (child.pid === undefined) return child; // spawn failed; the 'error' event reports it

  const sidecar = spawn('sh', ['-c', `read _; kill -9 ${child.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
  sidecar.unref();
  (sidecar.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  // Once the server is gone its pid may be reused: the sidecar must die without acting.
  child.once('exit', () => sidecar.kill('SIGKILL'));
  return child;
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export function waitForExit(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
  });
}

/** Sends `signal`, escalating to SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
  if (hasExited(child)) return;
  const exited = waitForExit(child);
  // A stopped (SIGSTOP) process cannot act on SIGTERM until continued.
  child.kill('SIGCONT');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
