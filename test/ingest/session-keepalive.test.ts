import { whileHeartbeating } from '../../src/ingest/session-keepalive';

const INTERVAL = 3_000;
const SESSION = 6_000;
const ROUND_TRIP = 4;

/**
 * A heartbeat that gates as kafkajs's consumer group does: sent only once the interval has passed
 * since the previous one returned (lastRequest is taken after the answer), one at a time.
 */
function kafkajsLikeHeartbeat(sent: number[]): () => Promise<void> {
  let lastRequest = 0;
  let inFlight: Promise<void> | null = null;
  return () => {
    inFlight ??= (async () => {
      if (Date.now() >= lastRequest + INTERVAL) {
        sent.push(Date.now());
        await new Promise((r) => setTimeout(r, ROUND_TRIP));
        lastRequest = Date.now();
      }
    })().finally(() => (inFlight = null));
    return inFlight;
  };
}

describe('whileHeartbeating', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('keeps heartbeats well inside the session while a batch waits on its store, and stops with it', async () => {
    const sent: number[] = [];
    let finish = (): void => undefined;
    const waiting = whileHeartbeating(kafkajsLikeHeartbeat(sent), INTERVAL, () => new Promise<void>((r) => (finish = r)));
    await jest.advanceTimersByTimeAsync(10 * INTERVAL);
    finish();
    await waiting;
    const after = sent.length;
    await jest.advanceTimersByTimeAsync(3 * INTERVAL);

    expect(sent.length).toBeGreaterThanOrEqual(8);
    const gaps = sent.slice(1).map((t, i) => t - sent[i]);
    // a gap of two intervals would be the whole session: the group would evict the member
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1.25 * INTERVAL + ROUND_TRIP);
    expect(Math.max(...gaps)).toBeLessThan(SESSION);
    expect(sent.length).toBe(after);
  });

  it('passes on what the work throws, and stops heartbeating then too', async () => {
    const sent: number[] = [];
    const failing = whileHeartbeating(kafkajsLikeHeartbeat(sent), INTERVAL, async () => {
      await new Promise((r) => setTimeout(r, 2 * INTERVAL));
      throw new Error('store down');
    });
    const settled = failing.catch((e: Error) => e.message);
    await jest.advanceTimersByTimeAsync(2 * INTERVAL);
    expect(await settled).toBe('store down');
    const after = sent.length;
    await jest.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(sent.length).toBe(after);
  });
});
