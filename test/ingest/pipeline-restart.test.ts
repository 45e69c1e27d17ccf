import { defaultConfig } from '../../src/config/config';
import { ManualClock } from '../../src/clock';
import { IngestPipeline } from '../../src/ingest/pipeline';
import { MemoryDeadLetterSink } from '../../src/ingest/dead-letter';
import { Metrics } from '../../src/metrics/metrics';
import { MemoryWindowStore } from '../../src/windows/memory-store';
import { WindowKeys } from '../../src/windows/keys';
import type { Flush } from '../../src/windows/store';
import { storeWithApply } from '../support/window-store';

/**
 * A crash in the middle of a flush's write: the scripts of some shards ran (the partition's home
 * shard among them, with the partition's new watermark), the others never arrived. The restarted
 * instance reads the same messages again; each event must end up counted once on every shard,
 * including events older than the new watermark minus the allowed lateness.
 */
describe('IngestPipeline after a crash mid-flush', () => {
  const cfg = defaultConfig({ redis: { shards: 4 }, ingest: { allowedLatenessMs: 60_000 } });
  const keys = new WindowKeys('ls', cfg.redis.shards);
  const T = Date.UTC(2026, 0, 15);
  const hour = cfg.windows.scales[1];

  it('counts every event of a half-landed flush once, though the batch spans more than the allowed lateness', async () => {
    const inner = new MemoryWindowStore(keys);
    const home = keys.homeShard(0);
    let crashing = true;
    // while "crashing", only the home shard's script arrives
    const store = storeWithApply(inner, (flush: Flush) => inner.apply(crashing ? { ...flush, shards: flush.shards.filter((w) => w.shard === home) } : flush));
    // 40 events over 10 minutes of event time, each linked by one of 8 ASNs (spread over the shards)
    const messages = Array.from({ length: 40 }, (_, i) => ({
      key: null,
      value: Buffer.from(JSON.stringify({ ts: T + i * 15_000, accountId: `a${i % 5}`, capability: 'coding', asn: 64500 + (i % 8) })),
      offset: String(i),
    }));
    const run = async (): Promise<void> => {
      const p = new IngestPipeline(cfg, store, new MemoryDeadLetterSink(), new Metrics({ defaultMetrics: false }), new ManualClock(T + 3_600_000));
      await p.ensurePartition('in', 0);
      for (const m of messages) p.ingest('in', 0, m);
      await p.flush();
    };
    await run();
    expect(new Set([...Array(8).keys()].map((i) => keys.shardOf('asn', String(64500 + i)))).size).toBeGreaterThan(1);
    crashing = false;
    await run(); // the restarted instance: nothing was committed, every message comes again

    const asns = [...Array(8).keys()].map((i) => ({ type: 'asn' as const, value: String(64500 + i) }));
    const buckets = await inner.readBuckets(asns, hour, T, T);
    expect(buckets.map(([b]) => b.requests)).toEqual(Array(8).fill(5));
    const [[population]] = await inner.readBuckets([{ type: 'population', value: '*' }], hour, T, T);
    expect(population.requests).toBe(40);
  });
});
