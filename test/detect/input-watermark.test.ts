import { defaultConfig } from '../../src/config/config';
import { ManualClock } from '../../src/clock';
import { InputWatermark } from '../../src/detect/input-watermark';
import { FlushBuilder } from '../../src/windows/flush-builder';
import { WindowKeys } from '../../src/windows/keys';
import { MemoryWindowStore } from '../../src/windows/memory-store';

/**
 * Two instances' flushes in one store: the detector may judge only up to the slowest partition of
 * the topic, whoever reads it, and a partition that stopped moving holds it back for stallMs at most.
 */
describe('InputWatermark', () => {
  const cfg = defaultConfig({ redis: { shards: 4 } });
  const keys = new WindowKeys('ls', cfg.redis.shards);
  const T = Date.UTC(2026, 0, 15);
  const STALL = 60_000;

  async function flushOf(store: MemoryWindowStore, topic: string, partition: number, offset: number, ts: number): Promise<void> {
    const field = WindowKeys.partitionField(topic, partition);
    const { markers } = await store.readPartition(field);
    const b = new FlushBuilder(keys, cfg.windows.scales, cfg.windows.youngAccountAgeMs);
    b.partition(field, partition, markers, offset, ts);
    b.add({ ts, accountId: `a${partition}`, capability: 'coding' }, field, offset, []);
    const r = await store.apply(b.build({ maxMembersPerBucket: 100, candidateMinMembers: 3, lateness: 0 }));
    expect(r.conflicts).toEqual([]);
  }

  it('is the slowest partition of the topic, until that one stops moving for stallMs', async () => {
    const store = new MemoryWindowStore(keys);
    const clock = new ManualClock(1_000_000);
    const input = new InputWatermark(store, 'llm.requests', STALL, clock);
    expect(await input.read()).toBeNull();

    // instance A reads partition 0, instance B partition 1; another topic does not count
    await flushOf(store, 'llm.requests', 0, 0, T + 60_000);
    await flushOf(store, 'llm.requests', 1, 0, T + 30_000);
    await flushOf(store, 'other', 0, 0, T);
    expect(await input.read()).toBe(T + 30_000);

    // B dies: A's partition moves on, B's does not; the detector waits for B's partition ...
    clock.advance(20_000);
    await flushOf(store, 'llm.requests', 0, 1, T + 600_000);
    expect(await input.read()).toBe(T + 30_000);
    clock.advance(STALL - 20_000 - 1);
    expect(await input.read()).toBe(T + 30_000);
    // ... for stallMs at most: then it judges without it
    clock.advance(1);
    expect(await input.read()).toBe(T + 600_000);

    // the partition's new owner reads it: it counts again from its first move
    await flushOf(store, 'llm.requests', 1, 1, T + 300_000);
    expect(await input.read()).toBe(T + 300_000);
  });
});
