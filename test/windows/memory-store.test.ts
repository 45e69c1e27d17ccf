import { defaultConfig } from '../../src/config/config';
import { MemoryWindowStore } from '../../src/windows/memory-store';
import { WindowKeys } from '../../src/windows/keys';
import { FlushBuilder } from '../../src/windows/flush-builder';
import { describeWindowStore } from './store-contract';

describeWindowStore('memory', async (cfg) => {
  let store = new MemoryWindowStore(new WindowKeys(cfg.redis.keyPrefix, cfg.redis.shards));
  const fx = {
    get store() {
      return store;
    },
    async reset() {
      store = new MemoryWindowStore(new WindowKeys(cfg.redis.keyPrefix, cfg.redis.shards));
    },
    async close() {},
  };
  return fx;
});

describe('memory store expiry', () => {
  it('drops buckets older than a scale keeps, in event time', async () => {
    const cfg = defaultConfig({ windows: { scales: [{ name: '1m', bucketMs: 60000, buckets: 5 }] }, ingest: { allowedLatenessMs: 0 } });
    const keys = new WindowKeys('ls', cfg.redis.shards);
    const store = new MemoryWindowStore(keys);
    const field = WindowKeys.partitionField('t', 0);
    let markers = Array(cfg.redis.shards).fill(-1);
    for (let minute = 0; minute < 20; minute++) {
      const b = new FlushBuilder(keys, cfg.windows.scales, 0);
      b.partition(field, 0, markers, minute, minute * 60000);
      b.add({ ts: minute * 60000, accountId: 'a', capability: 'coding' }, field, minute, [{ type: 'asn', value: '1' }]);
      await store.applySync(b.build({ maxMembersPerBucket: 10, candidateMinMembers: 2, lateness: 0 }));
      markers = (await store.readPartition(field)).markers;
    }
    // 3 keys (account, population, asn) x (5 buckets + 1 grace)
    expect(store.bucketCount).toBe(3 * 7);
    const [asn] = await store.readBuckets([{ type: 'asn', value: '1' }], cfg.windows.scales[0], 0, 19 * 60000);
    expect(asn.filter((x) => x.byCapability.size > 0).map((x) => x.start / 60000)).toEqual([13, 14, 15, 16, 17, 18, 19]);
  });
});
