import type { RequestEvent } from '../events/request-event';

/** A time-ordered source of events; `nextTs` is Infinity once it is done. */
export interface EventStream {
  readonly nextTs: number;
  /** returns the pending event (ts = nextTs) and moves to the next */
  take(): RequestEvent;
}

/**
 * Merges streams into one event-time-ordered sequence. Ties go to the stream added first, so the
 * merge order (and the output bytes) depend only on the streams, never on timing.
 */
export function* mergeStreams(streams: readonly EventStream[]): Generator<RequestEvent> {
  const heap = streams.map((_, i) => i).filter((i) => streams[i].nextTs !== Infinity);
  const before = (a: number, b: number): boolean => {
    const ta = streams[a].nextTs;
    const tb = streams[b].nextTs;
    return ta < tb || (ta === tb && a < b);
  };
  const siftDown = (from: number): void => {
    let i = from;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && before(heap[r], heap[l]) ? r : l;
      if (!before(heap[c], heap[i])) return;
      const tmp = heap[c];
      heap[c] = heap[i];
      heap[i] = tmp;
      i = c;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
  while (heap.length > 0) {
    const top = streams[heap[0]];
    yield top.take();
    if (top.nextTs === Infinity) {
      heap[0] = heap[heap.length - 1];
      heap.pop();
    }
    siftDown(0);
  }
}
