import { BehaviorConfig, BehaviorTracker } from '../../src/detect/behavior';
import { mulberry32 } from '../../src/detect/stats';

const BUCKET = 300_000;
const WINDOW = 3_600_000;
const CONFIG: BehaviorConfig = { tokenBucketMs: BUCKET, windowMs: WINDOW, signatureSize: 16, bands: 4, minTokens: 4, maxAccounts: 10_000 };
/** start of an epoch-aligned window */
const W0 = 480_000 * WINDOW;

interface Request {
  bucket: number;
  capability: string;
  count: number;
}

/** Replays an activity plan for one account; returns the keys after its last request. */
function play(t: BehaviorTracker, accountId: string, plan: Request[], rng: () => number, windowStart = W0): readonly string[] {
  let keys: readonly string[] = [];
  for (const r of plan) {
    for (let i = 0; i < r.count; i++) {
      keys = t.observe(accountId, windowStart + r.bucket * BUCKET + Math.floor(rng() * BUCKET), r.capability);
    }
  }
  return keys;
}

/** Largest number of accounts holding one key. */
function largestGroup(keysByAccount: (readonly string[])[]): number {
  const counts = new Map<string, number>();
  for (const keys of keysByAccount) for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

function pairsSharing(keysByAccount: (readonly string[])[]): number {
  let n = 0;
  for (let i = 0; i < keysByAccount.length; i++) {
    for (let j = i + 1; j < keysByAccount.length; j++) {
      const a = new Set(keysByAccount[i]);
      if (keysByAccount[j].some((k) => a.has(k))) n++;
    }
  }
  return n;
}

describe('BehaviorTracker', () => {
  it('gives a fleet with the same activity the same band keys', () => {
    const t = new BehaviorTracker(CONFIG);
    const rng = mulberry32(1);
    const plan: Request[] = [0, 1, 3, 4, 5, 8, 9].map((bucket) => ({ bucket, capability: bucket % 3 === 0 ? 'agentic' : 'coding', count: 20 }));
    const keys = Array.from({ length: 30 }, (_, i) => play(t, `fleet-${i}`, plan, rng));
    expect(keys[0]).toHaveLength(4);
    for (const k of keys) expect(k).toEqual(keys[0]);
    expect(largestGroup(keys)).toBe(30);
  });

  it('keeps a fleet together when its per-bucket rate jitters inside one power of two', () => {
    // 20–28 requests per bucket all reach levels 0..4 (16 ≤ n < 32): same tokens
    const t = new BehaviorTracker(CONFIG);
    const rng = mulberry32(2);
    const keys = Array.from({ length: 30 }, (_, i) =>
      play(t, `fleet-${i}`, [1, 2, 3, 6, 7, 10].map((bucket) => ({ bucket, capability: 'coding', count: 20 + Math.floor(rng() * 9) })), rng),
    );
    expect(largestGroup(keys)).toBe(30);
  });

  it('mostly does not link independent accounts', () => {
    const t = new BehaviorTracker(CONFIG);
    const rng = mulberry32(3);
    const caps = ['coding', 'chat', 'agentic', 'translation', 'math'];
    const keys = Array.from({ length: 30 }, (_, i) => {
      const plan: Request[] = [];
      for (let bucket = 0; bucket < 12; bucket++) {
        if (rng() < 0.5) plan.push({ bucket, capability: caps[Math.floor(rng() * caps.length)], count: 1 + Math.floor(rng() * 20) });
      }
      return play(t, `user-${i}`, plan, rng);
    });
    // C(30,2) = 435 pairs; independent random plans have J ≈ 0.05–0.2, so P(share) = 1 − (1 − J⁴)⁴ < 1%
    expect(pairsSharing(keys)).toBeLessThanOrEqual(10);
    expect(largestGroup(keys)).toBeLessThan(4);
  });

  it('separates accounts active in the same buckets at very different intensities', () => {
    // Same 12 coding cells; 2 req/bucket reaches levels {0,1}, 40 reaches {0..5}: J = 24/72 = 1/3,
    // P(share a key) = 1 − (1 − (1/3)⁴)⁴ = 0.048. Presence-only tokens would give J = 1 (always shared).
    const t = new BehaviorTracker(CONFIG);
    const rng = mulberry32(4);
    let shared = 0;
    for (let w = 0; w < 20; w++) {
      const cells = (count: number): Request[] => Array.from({ length: 12 }, (_, bucket) => ({ bucket, capability: 'coding', count }));
      const light = play(t, `light-${w}`, cells(2), rng, W0 + w * WINDOW);
      const heavy = play(t, `heavy-${w}`, cells(40), rng, W0 + w * WINDOW);
      expect(light).toHaveLength(4);
      if (light.some((k) => heavy.includes(k))) shared++;
    }
    expect(shared).toBeLessThanOrEqual(4);
  });

  it('gives no keys until an account has minTokens distinct cells', () => {
    const t = new BehaviorTracker(CONFIG);
    for (let i = 0; i < 100; i++) expect(t.observe('a', W0 + i, 'coding')).toEqual([]); // one cell, however busy
    expect(t.observe('a', W0 + BUCKET, 'coding')).toEqual([]); // 2 cells
    expect(t.observe('a', W0 + BUCKET, 'chat')).toEqual([]); // 3 cells
    expect(t.observe('a', W0 + 2 * BUCKET, 'chat')).toHaveLength(4); // 4 cells
  });

  it('returns the cached keys while the signature does not change', () => {
    const t = new BehaviorTracker(CONFIG);
    for (let b = 0; b < 4; b++) t.observe('a', W0 + b * BUCKET, 'coding');
    for (let i = 0; i < 3; i++) t.observe('a', W0, 'coding'); // cell 0 → count 4 (levels 1, 2 added)
    const first = t.observe('a', W0, 'coding'); // count 5: below the next power of two, no token
    expect(first).toHaveLength(4);
    expect(t.observe('a', W0 + 1, 'coding')).toBe(first); // count 6
    expect(t.observe('a', W0 + 2, 'coding')).toBe(first); // count 7
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('resets an account when its next window starts, and ignores late events of the previous one', () => {
    const t = new BehaviorTracker(CONFIG);
    const rng = mulberry32(5);
    const plan: Request[] = [0, 1, 2, 3].map((bucket) => ({ bucket, capability: 'coding', count: 3 }));
    const first = play(t, 'a', plan, rng, W0);
    expect(first).toHaveLength(4);
    expect(t.observe('a', W0 + WINDOW, 'coding')).toEqual([]); // new window: 1 cell so far
    expect(t.observe('a', W0 + 5, 'coding')).toEqual([]); // late event of the old window
    const second = play(t, 'a', plan, rng, W0 + WINDOW);
    expect(second).toHaveLength(4);
    expect(second).not.toEqual(first); // tokens carry their time bucket: each window has its own keys
  });

  it('tracks at most maxAccounts, evicting the least recently seen', () => {
    const t = new BehaviorTracker({ ...CONFIG, maxAccounts: 10 });
    const fingerprint = (id: string): readonly string[] => {
      let keys: readonly string[] = [];
      for (let b = 0; b < 4; b++) keys = t.observe(id, W0 + b * BUCKET, 'coding');
      return keys;
    };
    fingerprint('keep');
    for (let i = 0; i < 25; i++) {
      fingerprint(`other-${i}`);
      t.observe('keep', W0, 'coding'); // touched every round: never the oldest
      expect(t.size).toBeLessThanOrEqual(10);
    }
    expect(t.size).toBe(10);
    // 'keep' still has its 4 cells; 'other-0' was evicted and starts over with 1 cell
    expect(t.observe('keep', W0 + 5 * BUCKET, 'coding')).toHaveLength(4);
    expect(t.observe('other-0', W0, 'coding')).toEqual([]);
  });

  it('rejects a band layout the signature cannot hold', () => {
    expect(() => new BehaviorTracker({ ...CONFIG, bands: 32 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'detector.behavior.bands' }));
    expect(() => new BehaviorTracker({ ...CONFIG, maxAccounts: 0 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
