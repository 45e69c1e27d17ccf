import { defaultConfig, type Config } from '../../src/config/config';
import type { RequestEvent } from '../../src/events/request-event';
import { FlushBuilder, type KeyLink } from '../../src/windows/flush-builder';
import { WindowKeys } from '../../src/windows/keys';
import type { Flush, WindowStore } from '../../src/windows/store';

/**
 * The window-store contract, run against every store (memory, Redis standalone, Redis Cluster):
 * the same flush must leave the same counts, and a redelivered or stale flush must count nothing twice.
 */
export interface StoreFixture {
  store: WindowStore;
  /** wipe all data between tests */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const FIELD = WindowKeys.partitionField('llm.requests', 0);

export function describeWindowStore(name: string, make: (cfg: Config) => Promise<StoreFixture>): void {
  describe(`window store contract: ${name}`, () => {
    const cfg = defaultConfig({ redis: { shards: 4 }, detector: { minFleetSize: 3 }, windows: { maxMembersPerBucket: 5 } });
    const keys = new WindowKeys(cfg.redis.keyPrefix, cfg.redis.shards);
    const minute = cfg.windows.scales[0];
    let fx: StoreFixture;

    beforeAll(async () => {
      fx = await make(cfg);
    });
    afterAll(async () => fx.close());
    beforeEach(async () => fx.reset());

    function ev(i: number, accountId: string, capability: string, extra: Partial<RequestEvent> = {}): RequestEvent {
      return { ts: T0 + i * 1000, accountId, capability, ...extra };
    }

    function buildFlush(events: { e: RequestEvent; offset: number; links: KeyLink[] }[], markers: number[], lastOffset?: number): Flush {
      const b = new FlushBuilder(keys, cfg.windows.scales, cfg.windows.youngAccountAgeMs);
      b.partition(FIELD, 0, markers, lastOffset ?? Math.max(...events.map((x) => x.offset)), Math.max(...events.map((x) => x.e.ts)));
      for (const x of events) b.add(x.e, FIELD, x.offset, x.links);
      return b.build({ maxMembersPerBucket: cfg.windows.maxMembersPerBucket, candidateMinMembers: cfg.detector.minFleetSize, lateness: cfg.ingest.allowedLatenessMs });
    }

    const none = (): number[] => Array(cfg.redis.shards).fill(-1);
    const ip: KeyLink = { type: 'ip_prefix', value: '203.0.113.0/24' };

    it('counts requests per capability, per member and per account, and reads them back per bucket', async () => {
      const events = [
        { e: ev(0, 'a1', 'coding'), offset: 0, links: [ip] },
        { e: ev(1, 'a1', 'coding'), offset: 1, links: [ip] },
        { e: ev(2, 'a2', 'chat', { accountCreatedTs: T0 - 1000 }), offset: 2, links: [ip] },
        { e: ev(61, 'a3', 'agentic'), offset: 3, links: [ip] },
      ];
      const r = await fx.store.apply(buildFlush(events, none()));
      expect(r.conflicts).toEqual([]);
      const [ipBuckets, acctBuckets, popBuckets] = await fx.store.readBuckets(
        [ip, { type: 'account', value: 'a1' }, { type: 'population', value: '*' }],
        minute,
        T0,
        T0 + 60_000,
      );
      expect(ipBuckets).toHaveLength(2);
      expect(Object.fromEntries(ipBuckets[0].byCapability)).toEqual({ coding: 2, chat: 1 });
      expect(Object.fromEntries(ipBuckets[0].members)).toEqual({ a1: 2, a2: 1 });
      expect([...ipBuckets[0].young]).toEqual(['a2']);
      expect(ipBuckets[0].distinct).toBe(2);
      expect(Object.fromEntries(ipBuckets[1].byCapability)).toEqual({ agentic: 1 });
      expect(Object.fromEntries(acctBuckets[0].byCapability)).toEqual({ coding: 2 });
      expect(acctBuckets[0].members.size).toBe(0);
      expect(Object.fromEntries(popBuckets[0].byCapability)).toEqual({ coding: 2, chat: 1 });
      expect(Object.fromEntries(popBuckets[1].byCapability)).toEqual({ agentic: 1 });
      const hour = cfg.windows.scales[1];
      const [ipHour] = await fx.store.readBuckets([ip], hour, T0, T0);
      expect(Object.fromEntries(ipHour[0].byCapability)).toEqual({ coding: 2, chat: 1, agentic: 1 });
    });

    it('stores the partition markers and watermark, and refuses a flush whose markers are stale', async () => {
      const first = buildFlush([{ e: ev(0, 'a1', 'coding'), offset: 10, links: [ip] }], none());
      expect((await fx.store.apply(first)).conflicts).toEqual([]);
      const part = await fx.store.readPartition(FIELD);
      expect(part.watermark).toBe(T0);
      const touched = [keys.shardOf('account', 'a1'), keys.shardOf('population', '*'), keys.shardOf('ip_prefix', ip.value), keys.homeShard(0)];
      for (let s = 0; s < cfg.redis.shards; s++) expect(part.markers[s]).toBe(touched.includes(s) ? 10 : -1);

      // a second writer that still believes nothing was applied: refused, nothing written
      const stale = buildFlush([{ e: ev(1, 'a1', 'coding'), offset: 11, links: [ip] }], none());
      const r = await fx.store.apply(stale);
      expect(r.conflicts.sort()).toEqual([...new Set(touched)].sort());
      const [[b]] = await fx.store.readBuckets([ip], minute, T0, T0);
      expect(Object.fromEntries(b.byCapability)).toEqual({ coding: 1 });
    });

    it('lists the stored watermark of every partition any writer flushed', async () => {
      expect(await fx.store.readWatermarks()).toEqual(new Map());
      await fx.store.apply(buildFlush([{ e: ev(5, 'a1', 'coding'), offset: 3, links: [ip] }], none()));
      const other = WindowKeys.partitionField('llm.requests', 1);
      const b = new FlushBuilder(keys, cfg.windows.scales, cfg.windows.youngAccountAgeMs);
      b.partition(other, 1, none(), 7, T0 + 9_000);
      b.add(ev(9, 'a2', 'chat'), other, 7, []);
      await fx.store.apply(b.build({ maxMembersPerBucket: cfg.windows.maxMembersPerBucket, candidateMinMembers: cfg.detector.minFleetSize, lateness: cfg.ingest.allowedLatenessMs }));
      expect(await fx.store.readWatermarks()).toEqual(new Map([[FIELD, T0 + 5_000], [other, T0 + 9_000]]));
    });

    it('leaves out events a shard already holds, so a redelivered batch counts once', async () => {
      const batch = [0, 1, 2, 3].map((i) => ({ e: ev(i, `a${i}`, 'coding'), offset: i, links: [ip] }));
      await fx.store.apply(buildFlush(batch.slice(0, 2), none()));
      const { markers } = await fx.store.readPartition(FIELD);
      // redelivery with different batch boundaries: offsets 0..3
      const r = await fx.store.apply(buildFlush(batch, markers));
      expect(r.conflicts).toEqual([]);
      const [[b]] = await fx.store.readBuckets([ip], minute, T0, T0);
      expect(Object.fromEntries(b.byCapability)).toEqual({ coding: 4 });
      expect(b.distinct).toBe(4);
      // and a full replay of what is already there changes nothing
      const again = await fx.store.readPartition(FIELD);
      expect((await fx.store.apply(buildFlush(batch, again.markers))).conflicts).toEqual([]);
      const [[b2]] = await fx.store.readBuckets([ip], minute, T0, T0);
      expect(Object.fromEntries(b2.byCapability)).toEqual({ coding: 4 });
    });

    it('bounds members per bucket and counts the rest as overflow', async () => {
      const batch = Array.from({ length: 8 }, (_, i) => ({ e: ev(0, `m${i}`, 'coding'), offset: i, links: [ip] }));
      const r = await fx.store.apply(buildFlush(batch, none()));
      // 3 members over the cap, in each of the two scales' buckets
      expect(r.membersCapped).toBe(6);
      const [[b]] = await fx.store.readBuckets([ip], minute, T0, T0);
      expect(b.distinct).toBe(5);
      expect(b.members.size).toBe(5);
      expect(b.overflow).toBe(3);
      expect(Object.fromEntries(b.byCapability)).toEqual({ coding: 8 });
    });

    it('takes thousands of members of one bucket in one flush, and keeps the cap across flushes', async () => {
      // more fields than one Lua unpack() can pass: the script must split its reads and writes
      const cap = 12_000;
      const flushOf = (from: number, to: number, markers: number[], accounts: (i: number) => string): Flush => {
        const b = new FlushBuilder(keys, cfg.windows.scales, cfg.windows.youngAccountAgeMs);
        b.partition(FIELD, 0, markers, to - 1, T0);
        for (let i = from; i < to; i++) b.add(ev(0, accounts(i), 'coding'), FIELD, i, [ip]);
        return b.build({ maxMembersPerBucket: cap, candidateMinMembers: cfg.detector.minFleetSize, lateness: cfg.ingest.allowedLatenessMs });
      };
      const first = await fx.store.apply(flushOf(0, 9_000, none(), (i) => `big${i}`));
      expect(first.membersCapped).toBe(0);
      // 10 members already there, then 4,000 new ones of which 3,000 fit
      const { markers } = await fx.store.readPartition(FIELD);
      const second = await fx.store.apply(flushOf(9_000, 13_010, markers, (i) => (i < 9_010 ? `big${i - 9_000}` : `big${i}`)));
      expect(second.membersCapped).toBe(2 * 1_000);
      const [[b]] = await fx.store.readBuckets([ip], minute, T0, T0);
      expect(b.distinct).toBe(cap);
      expect(b.members.size).toBe(cap);
      expect(b.members.get('big0')).toBe(2);
      expect(b.members.get('big9')).toBe(2);
      expect(b.members.get('big10')).toBe(1);
      expect(b.overflow).toBe(1_000);
      expect(Object.fromEntries(b.byCapability)).toEqual({ coding: 13_010 });
      expect(await fx.store.readCandidates(minute, [T0])).toEqual([ip]);
    });

    it('lists a key as a detector candidate once its bucket has candidateMinMembers members', async () => {
      const ua: KeyLink = { type: 'user_agent', value: 'sdk/1.0 (x: y)' };
      const lone: KeyLink = { type: 'asn', value: '64500' };
      const batch = ['a', 'b', 'c'].map((a, i) => ({ e: ev(0, a, 'coding'), offset: i, links: i === 0 ? [ua, lone] : [ua] }));
      await fx.store.apply(buildFlush(batch, none()));
      const cands = await fx.store.readCandidates(minute, [T0, T0 + 60_000]);
      expect(cands).toEqual([{ type: 'user_agent', value: 'sdk/1.0 (x: y)' }]);
      expect(await fx.store.readCandidates(minute, [T0 + 120_000])).toEqual([]);
    });

    it('reads the peak of member fields per key without its members: a member seen young and not holds two', async () => {
      const ua: KeyLink = { type: 'user_agent', value: 'sdk/2' };
      const young = { accountCreatedTs: T0 - 1000 };
      const batch = [
        { e: ev(0, 'a', 'coding'), offset: 0, links: [ip, ua] },
        { e: ev(1, 'b', 'coding', young), offset: 1, links: [ip] },
        { e: ev(2, 'b', 'coding'), offset: 2, links: [ip] },
        { e: ev(61, 'c', 'chat'), offset: 3, links: [ip] },
      ];
      await fx.store.apply(buildFlush(batch, none()));
      const other: KeyLink = { type: 'asn', value: '64501' };
      // minute T0 holds a (m:), b (y: and m:); minute T0+1 holds c
      expect(await fx.store.readMemberFieldsPeak([ip, ua, other], minute, T0 - 120_000, T0 + 60_000)).toEqual([3, 1, 0]);
      expect(await fx.store.readMemberFieldsPeak([ip], minute, T0 + 60_000, T0 + 120_000)).toEqual([1]);
      const [[b]] = await fx.store.readBuckets([ip], minute, T0, T0);
      expect(b.distinct).toBe(2);
    });

    it('answers ping', async () => {
      expect(await fx.store.ping()).toBe(true);
    });
  });
}
