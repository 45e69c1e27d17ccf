import { defaultConfig } from '../../src/config/config';
import { createLogger } from '../../src/log';
import { Metrics } from '../../src/metrics/metrics';
import { Detector } from '../../src/detect/detector';
import { LocalLease } from '../../src/detect/lease';
import { MemoryWindowStore } from '../../src/windows/memory-store';
import { WindowKeys } from '../../src/windows/keys';
import { FlushBuilder } from '../../src/windows/flush-builder';
import type { KeyRef, WindowStore } from '../../src/windows/store';
import { storeWith } from '../support/window-store';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const MINUTES = 30;
const WIDE = { type: 'asn', value: '16509' } as const;
const NARROW = { type: 'user_agent', value: 'fleet-client/0.1' } as const;

/**
 * 1,500 accounts on one ASN (a cloud provider) chatting every minute; 20 of them, fresh accounts on
 * one rare user agent, also burst together on coding every third minute (a fleet the detector names).
 */
async function filledStore(): Promise<MemoryWindowStore> {
  const cfg = defaultConfig();
  const keys = new WindowKeys(cfg.redis.keyPrefix, cfg.redis.shards);
  const store = new MemoryWindowStore(keys);
  const field = WindowKeys.partitionField('t', 0);
  let offset = 0;
  for (let m = 0; m < MINUTES; m++) {
    const b = new FlushBuilder(keys, cfg.windows.scales, cfg.windows.youngAccountAgeMs);
    const bursting = m % 3 === 0;
    const events = 1500 + (bursting ? 20 * 10 : 0);
    b.partition(field, 0, (await store.readPartition(field)).markers, offset + events - 1, T0 + m * 60_000 + 59_000);
    for (let a = 0; a < 1500; a++) {
      b.add({ ts: T0 + m * 60_000 + (a % 50) * 1000, accountId: `acct-${a}`, capability: 'chat', accountCreatedTs: T0 - 30 * 86_400_000 }, field, offset++, a < 20 ? [WIDE, NARROW] : [WIDE]);
    }
    if (bursting) {
      for (let a = 0; a < 20; a++) for (let r = 0; r < 10; r++) b.add({ ts: T0 + m * 60_000 + r * 1000, accountId: `acct-${a}`, capability: 'coding', accountCreatedTs: T0 - 3_600_000 }, field, offset++, [WIDE, NARROW]);
    }
    store.applySync(b.build({ maxMembersPerBucket: 5000, candidateMinMembers: 8, lateness: 0 }));
  }
  return store;
}

async function judge(store: WindowStore): Promise<{ read: Set<string>; messages: unknown[] }> {
  const read = new Set<string>();
  const recording = storeWith(store, {
    readBuckets: (keys: KeyRef[], scale, from, to) => {
      for (const k of keys) read.add(`${k.type}:${k.value}`);
      return store.readBuckets(keys, scale, from, to);
    },
  });
  const detector = new Detector(defaultConfig(), recording, new Metrics({ defaultMetrics: false }), new LocalLease(), createLogger('silent'));
  const messages: unknown[] = [];
  for (let m = 2; m <= MINUTES; m++) messages.push(...(await detector.evaluate(T0 + m * 60_000)));
  return { read, messages };
}

describe('detector: keys shared too widely', () => {
  it('are set aside on their member-field peak, never read whole, and nothing else changes', async () => {
    const store = await filledStore();
    const { read, messages } = await judge(store);
    expect(read.has(`${WIDE.type}:${WIDE.value}`)).toBe(false);
    expect(read.has(`${NARROW.type}:${NARROW.value}`)).toBe(true);
    expect(messages.length).toBeGreaterThan(0);
    // the same judgement when nothing is set aside (every peak read as 0): the full check rejects the wide key itself
    const unfiltered = await judge(storeWith(store, { readMemberFieldsPeak: async (keys) => keys.map(() => 0) }));
    expect(unfiltered.read.has(`${WIDE.type}:${WIDE.value}`)).toBe(true);
    expect(messages).toEqual(unfiltered.messages);
  });
});
