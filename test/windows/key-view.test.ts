import { defaultConfig, type Config } from '../../src/config/config';
import { createLogger } from '../../src/log';
import { systemClock } from '../../src/clock';
import { startService } from '../../src/service';
import { MemoryWindowStore } from '../../src/windows/memory-store';
import { WindowKeys } from '../../src/windows/keys';
import { FlushBuilder } from '../../src/windows/flush-builder';
import { readKeyView } from '../../src/windows/key-view';

const T = Date.UTC(2026, 0, 1, 12, 30);

/** Two requests of one account on one ASN, flushed the way the pipeline does with this config. */
async function storeWithTwoRequests(cfg: Config): Promise<MemoryWindowStore> {
  const keys = new WindowKeys(cfg.redis.keyPrefix, cfg.redis.shards);
  const store = new MemoryWindowStore(keys);
  const field = WindowKeys.partitionField('t', 0);
  const b = new FlushBuilder(keys, cfg.windows.scales, cfg.windows.youngAccountAgeMs, cfg.windows.accountScales);
  b.partition(field, 0, Array(cfg.redis.shards).fill(-1), 1, T);
  b.add({ ts: T - 1000, accountId: 'a', capability: 'coding' }, field, 0, [{ type: 'asn', value: '64500' }]);
  b.add({ ts: T, accountId: 'a', capability: 'chat' }, field, 1, [{ type: 'asn', value: '64500' }]);
  store.applySync(b.build({ maxMembersPerBucket: 10, candidateMinMembers: 8, lateness: 0 }));
  return store;
}

describe('windows.accountScales: accounts\' own windows', () => {
  it('are kept at every scale by default', async () => {
    const cfg = defaultConfig();
    expect(cfg.windows.accountScales).toEqual(['1m', '1h']);
    const view = await readKeyView(await storeWithTwoRequests(cfg), cfg, 'account', 'a', T);
    expect(view.windows.map((w) => [w.scale, w.requests])).toEqual([['1m', 2], ['1h', 2]]);
  });

  it('at the scales named only: the view lists those, and linking keys keep every scale and the account as member', async () => {
    const cfg = defaultConfig({ windows: { accountScales: ['1h'] } });
    const store = await storeWithTwoRequests(cfg);
    const view = await readKeyView(store, cfg, 'account', 'a', T);
    expect(view.windows.map((w) => [w.scale, w.requests, w.byCapability])).toEqual([['1h', 2, { coding: 1, chat: 1 }]]);
    const [minute] = await store.readBuckets([{ type: 'account', value: 'a' }], cfg.windows.scales[0], T - (T % 60000), T - (T % 60000));
    expect(minute[0].requests).toBe(0);
    const asn = await readKeyView(store, cfg, 'asn', '64500', T);
    expect(asn.windows.map((w) => [w.scale, w.requests, w.topAccounts])).toEqual([
      ['1m', 2, [{ accountId: 'a', requests: 2 }]],
      ['1h', 2, [{ accountId: 'a', requests: 2 }]],
    ]);
  });

  it('none: GET /v1/keys/account/… says so instead of showing an idle account', async () => {
    const cfg = defaultConfig({ windows: { accountScales: [] }, http: { port: 0, host: '127.0.0.1' }, sim: { speedup: 1 }, log: { level: 'silent' } });
    const service = await startService(cfg, systemClock, createLogger('silent'));
    try {
      const res = await fetch(`http://127.0.0.1:${service.port}/v1/keys/account/a`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('account_windows_off');
      expect((await fetch(`http://127.0.0.1:${service.port}/v1/keys/asn/64500`)).status).toBe(200);
    } finally {
      await service.stop();
    }
  });
});
