import { defaultConfig } from '../../src/config/config';
import { FlushBuilder } from '../../src/windows/flush-builder';
import { WindowKeys } from '../../src/windows/keys';
import { RedisWindowStore, scriptArgument } from '../../src/windows/redis-store';
import { startRedis, startRedisCluster } from '../support/redis';
import { describeWindowStore } from './store-contract';

describeWindowStore('redis standalone', async (cfg) => {
  const redis = await startRedis();
  const store = new RedisWindowStore(redis.client(), new WindowKeys(cfg.redis.keyPrefix, cfg.redis.shards));
  return {
    store,
    reset: () => redis.flushAll(),
    async close() {
      await store.close();
      await redis.stop();
    },
  };
});

describeWindowStore('redis cluster (3 masters)', async (cfg) => {
  const cluster = await startRedisCluster();
  const client = cluster.client({ enableAutoPipelining: false });
  const store = new RedisWindowStore(client, new WindowKeys(cfg.redis.keyPrefix, cfg.redis.shards));
  return {
    store,
    async reset() {
      await Promise.all(client.nodes('master').map((n) => n.flushall()));
    },
    async close() {
      await store.close();
      await cluster.stop();
    },
  };
});

describe('redis window store: what the script receives', () => {
  it('applies a flush whose strings hold lone UTF-16 surrogates, stored as UTF-8 carries them (U+FFFD)', async () => {
    const redis = await startRedis();
    const cfg = defaultConfig({ redis: { shards: 2 } });
    const keys = new WindowKeys(cfg.redis.keyPrefix, cfg.redis.shards);
    const store = new RedisWindowStore(redis.client(), keys);
    try {
      const field = WindowKeys.partitionField('llm.requests', 0);
      const ts = Date.UTC(2026, 10, 27, 12, 0, 0);
      const b = new FlushBuilder(keys, cfg.windows.scales, cfg.windows.youngAccountAgeMs);
      b.partition(field, 0, [-1, -1], 1, ts);
      const ua = { type: 'user_agent' as const, value: 'bot\ud800/1' };
      b.add({ ts, accountId: 'acct\udfff', capability: 'coding' }, field, 0, [ua]);
      b.add({ ts, accountId: 'acct2', capability: 'coding' }, field, 1, [ua]);
      const r = await store.apply(b.build({ maxMembersPerBucket: 10, candidateMinMembers: 2, lateness: 0 }));
      expect(r.conflicts).toEqual([]);
      const [[bucket]] = await store.readBuckets([ua], cfg.windows.scales[0], ts, ts);
      expect(Object.fromEntries(bucket.members)).toEqual({ 'acct\ufffd': 1, acct2: 1 });
      expect(await store.readCandidates(cfg.windows.scales[0], [ts])).toEqual([{ type: 'user_agent', value: 'bot\ufffd/1' }]);
    } finally {
      await store.close();
      await redis.stop();
    }
  });

  it('sends plain arguments as they are, and only rewrites lone surrogates', () => {
    expect(JSON.parse(scriptArgument([1, 'a"b\\ud800', 'é\u0000']))).toEqual([1, 'a"b\\ud800', 'é\u0000']);
    expect(JSON.parse(scriptArgument(['x\ud800y', '\ud83d\ude00', 'z\udc00']))).toEqual(['x\ufffdy', '\ud83d\ude00', 'z\ufffd']);
  });
});
