export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** what is awaited, for the timeout message */
  what?: string;
  /** the state that explains a timeout (e.g. the processes' last log lines), added to its message */
  context?: () => string | Promise<string>;
}

/**
 * Polls `predicate` until it returns a truthy value and resolves to that value. A predicate that
 * throws counts as "not yet"; its last error is reported if the wait times out.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() >= deadline) {
      const why = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      const explain = opts.context;
      const context = explain ? `\n${await Promise.resolve().then(explain).catch((err: unknown) => `(no context: ${String(err)})`)}` : '';
      throw new Error(`waitFor: timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${why}${context}`);
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
