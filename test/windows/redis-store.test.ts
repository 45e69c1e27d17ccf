import { WindowKeys } from '../../src/windows/keys';
import { RedisWindowStore } from '../../src/windows/redis-store';
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
