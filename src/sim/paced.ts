import type { Clock } from '../clock';
import type { RequestEvent } from '../events/request-event';
import { generateEvents } from './generate';
import type { Scenario } from './scenario';

export interface PaceOptions {
  /** simulated ms per wall-clock ms (config sim.speedup) */
  speedup: number;
  clock: Clock;
  /** how to wait; default setTimeout (tests pass one that moves a ManualClock) */
  sleep?: (ms: number) => Promise<void>;
  /** most events handed over at once */
  maxBatch?: number;
  /** ends the stream when true, checked between waits too: a stop need not wait for the next event to fall due */
  stopped?: () => boolean;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The scenario replayed against the wall clock for the live demo: event-time offset / speedup
 * after the first call. Yields batches of every event that is due (event time stays the
 * scenario's own; only delivery is paced), so the caller ingests a batch at a time.
 */
export async function* pacedEvents(scenario: Scenario, seed: number, opts: PaceOptions): AsyncGenerator<RequestEvent[]> {
  const sleep = opts.sleep ?? defaultSleep;
  const maxBatch = opts.maxBatch ?? 5000;
  const wallStart = opts.clock.now();
  const dueAt = (ts: number): number => wallStart + (ts - scenario.start) / opts.speedup;
  const events = generateEvents(scenario, seed);
  let pending = events.next();
  while (!pending.done && !opts.stopped?.()) {
    const now = opts.clock.now();
    const batch: RequestEvent[] = [];
    while (!pending.done && batch.length < maxBatch && dueAt(pending.value.ts) <= now) {
      batch.push(pending.value);
      pending = events.next();
    }
    if (batch.length > 0) yield batch;
    else if (!pending.done) await sleep(Math.min(1000, Math.max(1, dueAt(pending.value.ts) - now)));
  }
}
