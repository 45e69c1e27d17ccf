import { combineScore, linkRarity, severityOf, sizeScore, synchronyScore, targetingScore } from '../../src/detect/score';
import { burstScore } from '../../src/detect/stats';

const THRESHOLDS = { warning: 0.6, critical: 0.8 };

describe('combineScore', () => {
  it('scores a fleet that bursts, moves together and targets coding as critical', () => {
    // top two 0.9, 0.8 → sqrt(0.72) = 0.8485281; + (1 − 0.8485281)·0.5·0.8 = 0.0605887 → 0.9091169
    // gates sqrt(0.9)·sqrt(0.9) = 0.9 → 0.8182052
    const s = combineScore({ burst: 0.9, synchrony: 0.8, targeting: 0.8, size: 0.9, linkRarity: 0.9 });
    expect(s).toBeCloseTo(0.8182052, 6);
    expect(severityOf(s, THRESHOLDS)).toBe('critical');
  });

  it('does not fire on one signal alone, however strong', () => {
    for (const only of ['burst', 'synchrony', 'targeting'] as const) {
      const signals = { burst: 0, synchrony: 0, targeting: 0, size: 1, linkRarity: 1, [only]: 1 };
      expect(combineScore(signals)).toBe(0);
    }
  });

  it('still catches a steady fleet that no longer bursts', () => {
    // top two 0.9, 0.9 → 0.9; third 0 adds nothing; gates 1
    expect(combineScore({ burst: 0, synchrony: 0.9, targeting: 0.9, size: 1, linkRarity: 1 })).toBeCloseTo(0.9, 12);
  });

  it('lets a weight of 0 leave a signal out (e.g. burst on behavior keys, which have no baseline)', () => {
    // burst dropped: the two left are 0.9 and 0 → 0
    expect(combineScore({ burst: 1, synchrony: 0.9, targeting: 0, size: 1, linkRarity: 1 }, { burst: 0 })).toBe(0);
  });

  it('stays quiet on a university NAT: many members, low synchrony, ordinary mix', () => {
    // burst 0.5 (class starts), synchrony 0.1, targeting 0.1, size 1, rarity 0.99
    // top two sqrt(0.5·0.1) = 0.2236068; + 0.7763932·0.5·0.1 = 0.0388197 → 0.2624265; × sqrt(0.99) = 0.2611111
    const s = combineScore({ burst: 0.5, synchrony: 0.1, targeting: 0.1, size: 1, linkRarity: 0.99 });
    expect(s).toBeCloseTo(0.2611111, 6);
    expect(severityOf(s, THRESHOLDS)).toBeNull();
  });

  it('stays quiet on an agent framework’s user agent shared by thousands of unrelated accounts', () => {
    // rarity(5000 of 100k) = 1/(1 + (5000/500)²) = 1/101 = 0.00990099
    // top two sqrt(0.9·0.2) = 0.4242641; + 0.5757359·0.5·0.1 = 0.0287868 → 0.4530509; × sqrt(1/101) = 0.0450803
    const s = combineScore({ burst: 0.2, synchrony: 0.1, targeting: 0.9, size: 1, linkRarity: linkRarity(5000, 100_000) });
    expect(s).toBeCloseTo(0.0450803, 6);
  });

  it('stays quiet on a global surge: the population ratio stays ~1', () => {
    // everyone doubles: 2000 vs 1000 is significant but the share did not move → burst 0
    const burst = burstScore(2000, 1000, 1.0);
    expect(burst).toBe(0);
    expect(combineScore({ burst, synchrony: 0.15, targeting: 0.1, size: 1, linkRarity: 0.95 })).toBeLessThan(THRESHOLDS.warning);
  });

  it('stays quiet on one heavy developer who mostly codes', () => {
    expect(combineScore({ burst: 1, synchrony: 1, targeting: 1, size: sizeScore(1, 0, 8), linkRarity: 1 })).toBe(0);
  });
});

describe('linkRarity', () => {
  it('is high for a /24 shared by 40 accounts and low for a popular user agent', () => {
    // half point h = clamp(1% of 100k = 1000, 50, 500) = 500; 1/(1 + (40/500)²) = 1/1.0064 = 0.9936407
    expect(linkRarity(40, 100_000)).toBeCloseTo(0.9936407, 6);
    expect(linkRarity(5000, 100_000)).toBeCloseTo(1 / 101, 9);
    // half point itself
    expect(linkRarity(500, 1_000_000)).toBeCloseTo(0.5, 12);
  });

  it('does not let a small population make every link common', () => {
    // 1000 active: h = clamp(10, 50, 500) = 50; 1/(1 + (40/50)²) = 1/1.64 = 0.6097561
    expect(linkRarity(40, 1000)).toBeCloseTo(0.6097561, 6);
    expect(linkRarity(0, 1000)).toBe(1);
  });
});

describe('sizeScore', () => {
  it('is 0 below the minimum fleet size and rises from 0.5 at it', () => {
    expect(sizeScore(7, 1, 8)).toBe(0);
    expect(sizeScore(1, 0, 8)).toBe(0);
    // 1 − 2^(−8/8) = 0.5; 1 − 2^(−16/8) = 0.75
    expect(sizeScore(8, 0, 8)).toBeCloseTo(0.5, 12);
    expect(sizeScore(16, 0, 8)).toBeCloseTo(0.75, 12);
  });

  it('gives young accounts up to half of the remaining headroom', () => {
    // 0.5 + 0.5·0.5·1 = 0.75; 40 accounts, half young: 0.96875 + 0.03125·0.5·0.5 = 0.9765625
    expect(sizeScore(8, 1, 8)).toBeCloseTo(0.75, 12);
    expect(sizeScore(40, 0.5, 8)).toBeCloseTo(0.9765625, 12);
  });
});

describe('synchronyScore', () => {
  it('removes the chi that independent members show by chance', () => {
    // independent: chi² ≈ 1/N → 0
    expect(synchronyScore(1 / Math.sqrt(40), 40)).toBeCloseTo(0, 6);
    expect(synchronyScore(0.5, 4)).toBe(0); // 0.25 − 0.25 = 0
    // N = 10, chi 0.8: (0.64 − 0.1)/0.9 = 0.6 → sqrt = 0.7745967
    expect(synchronyScore(0.8, 10)).toBeCloseTo(0.7745967, 6);
    expect(synchronyScore(1, 40)).toBe(1);
    expect(synchronyScore(1, 1)).toBe(0);
  });
});

describe('targetingScore', () => {
  it('needs both a high-value lift and an unusual mix', () => {
    // lift (1 − 0.4)/0.6 = 1; unusual min(1, 0.4934/0.3) = 1 → 1
    expect(targetingScore(0.4934, 1, 0.4)).toBeCloseTo(1, 12);
    // everyone codes: lift (1 − 0.9)/0.1 = 1 but unusual 0.02/0.3 = 0.0666667 → sqrt = 0.2581989
    expect(targetingScore(0.02, 1, 0.9)).toBeCloseTo(0.2581989, 6);
    // odd mix on low-value capabilities: lift 0
    expect(targetingScore(0.5, 0.1, 0.4)).toBe(0);
  });
});

describe('severityOf', () => {
  it('maps a score onto the thresholds, inclusive', () => {
    expect(severityOf(0.85, THRESHOLDS)).toBe('critical');
    expect(severityOf(0.8, THRESHOLDS)).toBe('critical');
    expect(severityOf(0.6, THRESHOLDS)).toBe('warning');
    expect(severityOf(0.59, THRESHOLDS)).toBeNull();
  });
});
