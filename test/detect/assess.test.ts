import { defaultConfig } from '../../src/config/config';
import { assessFleet, combineScales, commonlyShared, populationView, windowBuckets, type FleetAssessment, type PopulationView } from '../../src/detect/assess';
import { ROTATING_VALUE } from '../../src/ingest/value-cap';
import type { BucketData, KeyRef } from '../../src/windows/store';
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
  it('does not name a heavy bystander whose own requests are a tenth of a small key\'s profile', () => {
    // behaviour-only: a band key shared by a dozen sparse fleet members (7 requests in two or three
    // minutes each) and one benign heavy user active in two of those minutes and three others.
    // Against a profile that holds its own row it correlated 0.5–0.9 and was named with the fleet.
    const patterns = [
      [0, 0, 0, 0, 0, 3, 2, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2, 3, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2, 2, 3, 0, 0, 0, 0], [0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0], [0, 0, 0, 0, 0, 3, 0, 3, 0, 0, 0, 0], [0, 0, 0, 0, 1, 2, 2, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2, 2, 2, 1, 0, 0, 0],
    ];
    const rows: [string, number[]][] = [['bystander', [0, 0, 2, 0, 0, 6, 5, 0, 0, 3, 0, 0]], ...ids('f', 12).map((a, i): [string, number[]] => [a, patterns[i % patterns.length]])];
    const buckets = Array.from({ length: 60 }, (_, t) => {
      const members: [string, number][] = [];
      for (const [a, row] of rows) if (t >= 48 && row[t - 48] > 0) members.push([a, row[t - 48]]);
      const coding = members.reduce((k, [, c]) => k + c, 0);
      return bucket(t * 60_000, coding > 0 ? { coding } : {}, members, members.map(([a]) => a).filter((a) => a !== 'bystander'));
    });
    const a = assessFleet({ type: 'behavior', value: 'b2:0b2d6232' }, scale, buckets, population(), cfg.detector, none);
    expect(a?.severity).toBe('warning');
    expect(a!.members.has('bystander')).toBe(false);
    expect([...a!.members.keys()].every((m) => m.startsWith('f'))).toBe(true);
    expect(a!.members.size).toBeGreaterThanOrEqual(8);
  });

  it('takes the accounts that came onto a new key together as its fleet while the key is too young for correlation', () => {
    // camouflaged: a /24 silent for 52 minutes while the population was not; 20 fresh accounts
    // arrive in its first two minutes, then act jittered, half of it ordinary chat. Eight minutes
    // are too few for a member's correlation to mean anything (0.78 would be needed).
    const rng = mulberry32(9);
    const members = ids('camo', 20);
    const plan = members.map((_, m) => {
      // one request on arrival, then two in a shared burst jittered by a minute either way
      const row = new Array<number>(8).fill(0);
      row[m % 2] = 1;
      const c = 4 + Math.floor(rng() * 3) - 1;
      row[c] += 2;
      if (rng() < 0.5) row[Math.min(7, c + 1)] += 1;
      return row;
    });
    const caps = ['coding', 'chat', 'agentic', 'chat'];
    const key = { type: 'ip_prefix' as const, value: '34.120.56.0/24' };
    const newKey = keyBuckets(members, (m, t) => (t >= 52 ? plan[m][t - 52] : 0), (m, t) => caps[(m + t) % caps.length], members);
    const a = assessFleet(key, scale, newKey, population(), cfg.detector, none);
    expect(a?.severity).toBe('warning');
    expect(a!.members.size).toBe(20);
    expect(a!.evidence.burst.score).toBeGreaterThan(0.9);
    // on-call is told how the members were chosen
    expect(a!.evidence.synchrony.arrivedTogether).toBe(20);
    expect(a!.evidence.reason).toContain('20 of them came onto this ip_prefix, unused before, in its first 2 minutes');
    // old accounts moving onto new addresses together (an office's NAT changed) stay below warning
    const office = keyBuckets(members, (m, t) => (t >= 52 ? plan[m][t - 52] : 0), (m, t) => caps[(m + t) % caps.length]);
    expect(assessFleet(key, scale, office, population(), cfg.detector, none)?.severity ?? null).toBeNull();
    // nor on a behaviour band, where accounts land together whenever their signatures turn over
    expect(assessFleet({ type: 'behavior', value: 'b0:1' }, scale, newKey, population(), cfg.detector, none)?.severity ?? null).toBeNull();
  });

  it('does not name steady bystanders as the core of a fleet too new for the hour scale', () => {
    // device-apps at a value share of 8 (docs/resilience.md): apps that rotate every request meet a
    // rotating fleet on "(rotating)". Four hours of data; the fleet (one hour old) is too new for
    // the hour scale's core, and the apps' own rows (read from that run) rise with the day, as
    // the fleet's step does. Neither the fleet's burst nor a chance correlation over four buckets
    // may make the apps a fleet.
    const hour = cfg.windows.scales[1]; // 1h x 24
    const n = hour.buckets;
    const appRows = [[44, 31, 35, 43], [29, 31, 37, 44], [35, 32, 34, 40], [34, 34, 30, 42], [28, 28, 33, 35]];
    const rng = mulberry32(3);
    const apps = ids('app', 22).map((a, i) => [a, appRows[i % appRows.length].map((v) => v + Math.floor(rng() * 3))] as const);
    const fleet = ids('f', 30);
    const buckets = Array.from({ length: n }, (_, t) => {
      const members: [string, number][] = [];
      let coding = 0;
      const k = t - (n - 4);
      if (k >= 0) for (const [a, row] of apps) (members.push([a, row[k]]), (coding += row[k]));
      if (t === n - 1) for (const f of fleet) (members.push([f, 112]), (coding += 112));
      return bucket(t * 3_600_000, coding > 0 ? { coding } : {}, members, t === n - 1 ? fleet : []);
    });
    const pop = populationView(
      Array.from({ length: n }, (_, t) => bucket(t * 3_600_000, t < n - 4 ? {} : { coding: t === n - 1 ? 18_000 : 9_000, chat: 7_500 })),
      cfg.detector,
    );
    const a = assessFleet({ type: 'asn', value: ROTATING_VALUE }, hour, buckets, pop, cfg.detector, none);
    const named = a === null ? [] : [...a.members.keys()];
    expect(named.filter((m) => m.startsWith('app'))).toEqual([]);
  });
});

/** An assessment with the given members and signal scores (what combineScales reads). */
function assessment(scaleName: string, members: string[], s: { burst: number; synchrony: number; targeting: number; size: number }, score: number): FleetAssessment {
  return {
    link: { type: 'asn', value: ROTATING_VALUE },
    scale: scaleName,
    score,
    severity: score >= cfg.detector.thresholds.warning ? 'warning' : null,
    members: new Map(members.map((m) => [m, 10])),
    core: true,
    capabilityShare: { coding: 1 },
    targetedCapabilities: ['coding'],
    windowStart: 0,
    windowEnd: 3_600_000,
    evidence: {
      scale: scaleName,
      burst: { score: s.burst, observed: 100, expected: 10, pValue: 1e-9, populationRatio: 3 },
      synchrony: { score: s.synchrony, chi: s.synchrony, meanPairwiseCorrelation: 0.5, sampledMembers: members.length },
      targeting: { score: s.targeting, jsDivergence: 0.2, highValueShare: 1, populationHighValueShare: 0.5 },
      size: { score: s.size, accounts: members.length, youngAccounts: 0, youngShare: 0, requests: 100 },
      linkRarity: 1,
      reason: '',
    },
  };
}

describe('combineScales', () => {
  const key: KeyRef = { type: 'asn', value: ROTATING_VALUE };
  const fleet = ids('f', 30);
  // the minute scale's core is the fleet, bursting; the hour scale's is other accounts, in step with the day
  const minute = assessment('1m', fleet, { burst: 0.9, synchrony: 0.2, targeting: 0.6, size: 0.9 }, 0.5);
  const bystanders = assessment('1h', ids('app', 22), { burst: 0, synchrony: 0.8, targeting: 0.6, size: 0.8 }, 0.45);

  it("combines the scales' strongest signals when they name the same fleet", () => {
    const hourOfFleet = assessment('1h', [...fleet, ...ids('churned', 10)], { burst: 0, synchrony: 0.8, targeting: 0.6, size: 0.8 }, 0.45);
    const c = combineScales(key, [minute, hourOfFleet], cfg.detector);
    expect(c.evidence.burst.score).toBe(0.9);
    expect(c.evidence.synchrony.score).toBe(0.8);
    expect(c.score).toBeGreaterThan(minute.score);
  });

  it("does not lend one scale's burst to another scale's different accounts", () => {
    const c = combineScales(key, [minute, bystanders], cfg.detector);
    // judged apart, the fleet's own scale scores higher: it is the one reported, unchanged
    expect(c).toBe(minute);
    expect(combineScales(key, [bystanders, minute], cfg.detector)).toBe(minute);
  });
});

