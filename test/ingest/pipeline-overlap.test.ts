import { defaultConfig } from '../../src/config/config';
import { ManualClock } from '../../src/clock';
import { IngestPipeline, type FlushReport } from '../../src/ingest/pipeline';
import { MemoryDeadLetterSink } from '../../src/ingest/dead-letter';
import { Metrics } from '../../src/metrics/metrics';
import { MemoryWindowStore } from '../../src/windows/memory-store';
import { WindowKeys } from '../../src/windows/keys';
import type { ApplyResult, Flush, WindowStore } from '../../src/windows/store';
import { storeWithApply } from '../support/window-store';

/**
 * Two flushes out at once: the second is built and sent while the first is in the store. A store
 * that takes writes in the order sent (as one Redis connection does), whose answers the test
 * releases by hand, and can lose: a write never executed, or executed with its answer lost.
 */
type Fate = 'ok' | 'not-executed' | 'answer-lost';

class OrderedStore {
  readonly inner: MemoryWindowStore;
  readonly fates: Fate[] = [];
  private readonly answers: (() => void)[] = [];

  constructor(keys: WindowKeys) {
    this.inner = new MemoryWindowStore(keys);
  }

  asStore(): WindowStore {
    return storeWithApply(this.inner, (flush) => this.apply(flush));
  }

  private apply(flush: Flush): Promise<ApplyResult> {
    const fate = this.fates.shift() ?? 'ok';
    const result = fate === 'not-executed' ? null : this.inner.applySync(flush);
    return new Promise((resolve, reject) => {
      this.answers.push(() => (result === null || fate === 'answer-lost' ? reject(new Error('connection closed')) : resolve(result)));
    });
  }

  /** Releases the answers of every write sent so far, oldest first. */
  answerAll(): void {
    for (const answer of this.answers.splice(0)) answer();
  }
}

describe('IngestPipeline with two flushes out', () => {
  const cfg = defaultConfig({ redis: { shards: 4 } });
  const T = Date.UTC(2026, 0, 1);
  const keys = new WindowKeys('ls', cfg.redis.shards);
  const minute = cfg.windows.scales[0];

  function setup(): { store: OrderedStore; pipeline: IngestPipeline; send: (from: number, to: number) => void } {
    const store = new OrderedStore(keys);
    const pipeline = new IngestPipeline(cfg, store.asStore(), new MemoryDeadLetterSink(), new Metrics({ defaultMetrics: false }), new ManualClock(T + 60_000));
    const send = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        const value = Buffer.from(JSON.stringify({ ts: T + i, accountId: `a${i % 7}`, capability: 'coding', ip: `198.51.100.${i % 5}` }));
        pipeline.ingest('in', 0, { key: null, value, offset: String(i) });
      }
    };
    return { store, pipeline, send };
  }

  async function counted(store: OrderedStore): Promise<number> {
    const [[b]] = await store.inner.readBuckets([{ type: 'population', value: '*' }], minute, T, T);
    return b.requests;
  }

  async function settle<T>(p: Promise<T>): Promise<T | Error> {
    return p.catch((e: Error) => e);
  }

  it('sends the second before the first is answered, and reports both in order', async () => {
    const { store, pipeline, send } = setup();
    await pipeline.ensurePartition('in', 0);
    const order: number[] = [];
    pipeline.onFlush((r) => order.push(r.events));
    send(0, 10);
    const first = pipeline.flush();
    send(10, 25);
    const second = pipeline.flush();
    send(25, 27);
    expect(pipeline.watermark()).toBe(T + 26);
    expect(pipeline.durableWatermark()).toBeNull();
    // both writes reached the store before either was answered
    await new Promise((r) => setImmediate(r));
    expect(await counted(store)).toBe(25);
    store.answerAll();
    const [a, b] = (await Promise.all([first, second])) as FlushReport[];
    expect(a.commits).toEqual([{ topic: 'in', partition: 0, offset: '10' }]);
    // each report's watermark is that of what is in the store, not of events read since (the detector judges up to it)
    expect(a.watermark).toBe(T + 9);
    expect(b.watermark).toBe(T + 24);
    expect(b.commits).toEqual([{ topic: 'in', partition: 0, offset: '25' }]);
    expect(order).toEqual([10, 15]);
    expect((await store.inner.readPartition('in/0')).markers.filter((m) => m >= 0).every((m) => m === 24)).toBe(true);
    expect(pipeline.durableWatermark()).toBe(T + 24);
  });

  it.each<[Fate, string]>([
    ['not-executed', 'the first write never ran: the second, expecting its markers, is refused by the store'],
    ['answer-lost', 'the first write ran but its answer was lost: the retry finds its events applied'],
  ])('counts every event once when the first of two fails (%s): %s', async (fate) => {
    const { store, pipeline, send } = setup();
    await pipeline.ensurePartition('in', 0);
    store.fates.push(fate);
    send(0, 10);
    const first = settle(pipeline.flush());
    send(10, 25);
    const second = settle(pipeline.flush());
    await new Promise((r) => setImmediate(r));
    store.answerAll();
    expect(await first).toBeInstanceOf(Error);
    // the second cannot trust its own answer after the first failed: it fails too, its events stay pending
    const err = await second;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/earlier flush failed/);
    expect(pipeline.pendingCount).toBe(25);
    send(25, 30);
    const retry = pipeline.flush();
    await new Promise((r) => setImmediate(r));
    store.answerAll();
    const report = await retry;
    expect(report.commits).toEqual([{ topic: 'in', partition: 0, offset: '30' }]);
    expect(await counted(store)).toBe(30);
    const [[ip]] = await store.inner.readBuckets([{ type: 'ip_prefix', value: '198.51.100.0/24' }], minute, T, T);
    expect([...ip.members.values()].reduce((x, y) => x + y, 0)).toBe(30);
  });
});
