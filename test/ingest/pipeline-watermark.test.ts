import { defaultConfig } from '../../src/config/config';
import { ManualClock } from '../../src/clock';
import { IngestPipeline } from '../../src/ingest/pipeline';
import { MemoryDeadLetterSink } from '../../src/ingest/dead-letter';
import { Metrics } from '../../src/metrics/metrics';
import { MemoryWindowStore } from '../../src/windows/memory-store';
import { WindowKeys } from '../../src/windows/keys';

describe('IngestPipeline watermark across assigned partitions', () => {
  const cfg = defaultConfig({ ingest: { idlePartitionMs: 10_000 } });
  const T = Date.UTC(2026, 0, 1);
  const msg = (ts: number, offset: number) => ({ key: null, value: Buffer.from(JSON.stringify({ ts, accountId: 'a', capability: 'coding' })), offset: String(offset) });

  it('waits for every assigned partition, then leaves out one that stays empty', async () => {
    const clock = new ManualClock(T + 3_600_000);
    const p = new IngestPipeline(cfg, new MemoryWindowStore(new WindowKeys('ls', cfg.redis.shards)), new MemoryDeadLetterSink(), new Metrics({ defaultMetrics: false }), clock);
    p.expectPartitions('in', [0, 1, 2]);
    await p.ensurePartition('in', 0);
    await p.ensurePartition('in', 1);
    // partition 0's first batch reaches far ahead: the watermark must not follow it alone
    p.ingest('in', 0, msg(T + 3_000_000, 0));
    expect(p.watermark()).toBeNull();
    p.ingest('in', 1, msg(T + 60_000, 0));
    expect(p.watermark()).toBeNull(); // partition 2 not heard from yet
    clock.advance(10_000);
    // partition 2 stayed empty past the grace period: the slowest partition with data sets the pace
    expect(p.watermark()).toBe(T + 60_000);
    // a partition no longer assigned no longer counts
    p.expectPartitions('in', [0]);
    expect(p.watermark()).toBe(T + 3_000_000);
  });

  it('stops holding the durable watermark back on a partition that has not moved for detector.partitionStallMs', async () => {
    const clock = new ManualClock(T + 3_600_000);
    const quiet = defaultConfig({ detector: { partitionStallMs: 60_000 } });
    const p = new IngestPipeline(quiet, new MemoryWindowStore(new WindowKeys('ls', quiet.redis.shards)), new MemoryDeadLetterSink(), new Metrics({ defaultMetrics: false }), clock);
    await p.ensurePartition('in', 0);
    await p.ensurePartition('in', 1);
    p.ingest('in', 0, msg(T + 60_000, 0));
    p.ingest('in', 1, msg(T + 30_000, 0));
    expect((await p.flush()).watermark).toBe(T + 30_000);
    // partition 1 goes quiet while partition 0 moves on
    for (let i = 1; i <= 6; i++) {
      clock.advance(10_000);
      p.ingest('in', 0, msg(T + 60_000 + i * 60_000, i));
      const report = await p.flush();
      expect(report.watermark).toBe(i < 6 ? T + 30_000 : T + 420_000);
    }
    // ... and counts again once it moves
    p.ingest('in', 1, msg(T + 400_000, 1));
    expect((await p.flush()).watermark).toBe(T + 400_000);
  });

  it('without an assignment (replay, the demo), every partition seen counts', async () => {
    const clock = new ManualClock(T + 3_600_000);
    const p = new IngestPipeline(cfg, new MemoryWindowStore(new WindowKeys('ls', cfg.redis.shards)), new MemoryDeadLetterSink(), new Metrics({ defaultMetrics: false }), clock);
    await p.ensurePartition('local', 0);
    p.ingest('local', 0, msg(T, 0));
    expect(p.watermark()).toBe(T);
  });
});
