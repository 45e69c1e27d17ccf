import { ManualClock } from '../../src/clock';
import type { RequestEvent } from '../../src/events/request-event';
import { generateEvents } from '../../src/sim/generate';
import { pacedEvents } from '../../src/sim/paced';
import { everyKind } from './fixtures';

describe('pacedEvents', () => {
  it('hands over each event once its scaled event time has passed on the clock, in order, all of them', async () => {
    const clock = new ManualClock(1000);
    const sleeps: number[] = [];
    const sleep = async (ms: number): Promise<void> => {
      sleeps.push(ms);
      clock.advance(ms);
    };
    const speedup = 600;
    const delivered: RequestEvent[] = [];
    for await (const batch of pacedEvents(everyKind, 7, { speedup, clock, sleep, maxBatch: 500 })) {
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(500);
      for (const e of batch) expect(1000 + (e.ts - everyKind.start) / speedup).toBeLessThanOrEqual(clock.now());
      delivered.push(...batch);
      clock.advance(1); // the consumer takes some time
    }
    expect(delivered).toEqual([...generateEvents(everyKind, 7)]);
    // 2 simulated hours at 600x = 12 s of (manual) wall time
    expect(clock.now() - 1000).toBeGreaterThan(11000);
    expect(clock.now() - 1000).toBeLessThan(12000 + 1000);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(1000);
  });

  it('ends while waiting for the next event once told to stop, whatever the clock does', async () => {
    const clock = new ManualClock(1000);
    let stop = false;
    let waits = 0;
    // a clock that never moves: without the stop check the stream would wait forever
    const sleep = async (): Promise<void> => {
      if (++waits === 3) stop = true;
    };
    const batches: RequestEvent[][] = [];
    for await (const batch of pacedEvents(everyKind, 7, { speedup: 1, clock, sleep, stopped: () => stop })) batches.push(batch);
    expect(waits).toBe(3);
    expect(batches.flat().length).toBeLessThan([...generateEvents(everyKind, 7)].length);
  });
});
