import { defaultConfig } from '../../src/config/config';
import { assessFleet, commonlyShared, populationView, windowBuckets, type PopulationView } from '../../src/detect/assess';
import { ROTATING_VALUE } from '../../src/ingest/value-cap';
import type { BucketData } from '../../src/windows/store';
import { mulberry32 } from '../../src/detect/stats';

const cfg = defaultConfig();
const scale = cfg.windows.scales[0]; // 1m x 60
const POP_MIX = { coding: 400, chat: 350, creative: 100, translation: 50, agentic: 100 };

function bucket(start: number, byCapability: Record<string, number>, members: [string, number][] = [], young: string[] = []): BucketData {
  const requests = Object.values(byCapability).reduce((a, b) => a + b, 0);
  return { start, byCapability: new Map(Object.entries(byCapability)), requests, members: new Map(members), young: new Set(young), overflow: 0, distinct: members.length };
}

function population(scaleBy = (_t: number) => 1): PopulationView {
  return populationView(Array.from({ length: 60 }, (_, t) => bucket(t * 60_000, Object.fromEntries(Object.entries(POP_MIX).map(([k, v]) => [k, Math.round(v * scaleBy(t))])))), cfg.detector);
}

/** members x 60 buckets; `active(member, t)` says how many requests, `cap` on which capability */
function keyBuckets(members: string[], active: (m: number, t: number) => number, cap: (m: number, t: number) => string, young: string[] = []): BucketData[] {
  return Array.from({ length: 60 }, (_, t) => {
    const byCap: Record<string, number> = {};
    const ms: [string, number][] = [];
    members.forEach((a, m) => {
      const n = active(m, t);
      if (n > 0) {
        ms.push([a, n]);
        const c = cap(m, t);
        byCap[c] = (byCap[c] ?? 0) + n;
      }
    });
    return bucket(t * 60_000, byCap, ms, young.filter((y) => ms.some(([a]) => a === y)));
  });
}

const ids = (p: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);
const none = new Set<string>();

describe('assessFleet', () => {
  it('scores a young fleet that bursts together on coding as critical, with evidence', () => {
    const members = ids('f', 40);
    // quiet for 45 minutes, then every member fires 5 coding requests in the same minutes
    const b = keyBuckets(members, (_m, t) => (t >= 45 && t % 2 === 0 ? 5 : 0), () => 'coding');
    const a = assessFleet({ type: 'ip_prefix', value: '198.51.100.0/24' }, scale, b, population(), cfg.detector, none);
    const young = assessFleet({ type: 'ip_prefix', value: '198.51.100.0/24' }, scale, keyBuckets(members, (_m, t) => (t >= 45 && t % 2 === 0 ? 5 : 0), () => 'coding', members), population(), cfg.detector, none);
    expect(a).not.toBeNull();
    expect(young?.severity).toBe('critical');
    expect(young!.score).toBeGreaterThan(a!.score);
    expect(young!.members.size).toBe(40);
    expect(young!.targetedCapabilities).toEqual(['coding']);
    expect(young!.evidence.synchrony.chi).toBeGreaterThan(0.9);
    expect(young!.evidence.targeting.highValueShare).toBe(1);
    expect(young!.evidence.burst.observed).toBe(40 * 5 * 5);
    expect(young!.evidence.reason).toContain('40 accounts sharing ip_prefix 198.51.100.0/24');
  });

  it('keeps a university NAT of independent students with an ordinary mix below warning', () => {
    const rng = mulberry32(7);
    const caps = Object.keys(POP_MIX);
    const members = ids('student', 300);
    const b = keyBuckets(members, () => (rng() < 0.05 ? 1 + Math.floor(rng() * 3) : 0), () => caps[Math.floor(rng() * caps.length)]);
    const a = assessFleet({ type: 'ip_prefix', value: '192.0.2.0/24' }, scale, b, population(), cfg.detector, none);
    expect(a === null || a.severity === null).toBe(true);
  });

  it('does not page on a global surge that lifts everyone at once', () => {
    const members = ids('u', 60);
    const rng = mulberry32(3);
    const surge = (t: number): number => (t >= 50 ? 4 : 1);
    const caps = Object.keys(POP_MIX);
    const b = keyBuckets(members, (_m, t) => (rng() < 0.1 * surge(t) ? 1 : 0), () => caps[Math.floor(rng() * caps.length)]);
    const a = assessFleet({ type: 'asn', value: '64501' }, scale, b, population(surge), cfg.detector, none);
    expect(a === null || a.severity === null).toBe(true);
  });

  it('ignores a popular SDK user agent shared by thousands of unrelated accounts', () => {
    const members = ids('dev', 3000);
    const b = keyBuckets(members, (m, t) => ((m + t) % 20 === 0 ? 1 : 0), () => 'coding');
    const a = assessFleet({ type: 'user_agent', value: 'openai-python/1.0' }, scale, b, population(), cfg.detector, none);
    expect(a?.severity ?? null).toBeNull();
    expect(a?.evidence.linkRarity ?? 0).toBeLessThan(0.1);
  });

  it('weighs "(rotating)" of any type like a commonly shared value: unrelated accounts that rotate meet there', () => {
    const members = ids('app', 3000);
    const b = keyBuckets(members, (m, t) => ((m + t) % 20 === 0 ? 1 : 0), () => 'coding');
    const template = assessFleet({ type: 'prompt_template', value: 'tpl_1' }, scale, b, population(), cfg.detector, none);
    const rotating = assessFleet({ type: 'prompt_template', value: ROTATING_VALUE }, scale, b, population(), cfg.detector, none);
    // one template shared by 3,000 accounts counts in full; the accounts that each used too many templates do not
    expect(template?.evidence.linkRarity).toBe(1);
    expect(rotating?.severity ?? null).toBeNull();
    expect(rotating?.evidence.linkRarity ?? 0).toBeLessThan(0.1);
    expect(commonlyShared({ type: 'payment', value: ROTATING_VALUE })).toBe(true);
    expect(commonlyShared({ type: 'payment', value: 'pm_1' })).toBe(false);
  });

  it('ignores one heavy developer who mostly codes', () => {
    const b = keyBuckets(['solo'], () => 30, () => 'coding');
    expect(assessFleet({ type: 'payment', value: 'pm_1' }, scale, b, population(), cfg.detector, none)).toBeNull();
  });

  it('leaves allowlisted accounts out of the fleet', () => {
    const members = ids('f', 10);
    const b = keyBuckets(members, (_m, t) => (t >= 45 ? 5 : 0), () => 'coding', members);
    const allow = new Set(members.slice(0, 5));
    expect(assessFleet({ type: 'payment', value: 'pm_2' }, scale, b, population(), cfg.detector, allow)).toBeNull();
  });

  it('reads complete buckets only, ending before the watermark', () => {
    expect(windowBuckets(scale, 3_600_000 + 30_000)).toEqual({ first: 3_600_000 - 60 * 60_000, last: 3_600_000 - 60_000 });
  });
});
