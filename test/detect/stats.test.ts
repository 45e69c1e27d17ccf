import { LockstepError } from '../../src/errors';
import {
  burstDetail,
  burstScore,
  correlationWithOthers,
  correlationWithProfile,
  ewmaUpdate,
  golombRinzelChi,
  highValueShare,
  jensenShannonDivergence,
  logPoissonUpperTail,
  meanPairwiseCorrelation,
  mulberry32,
  poissonUpperTail,
  significantCorrelation,
  populationRatio,
} from '../../src/detect/stats';

describe('ewmaUpdate', () => {
  it('seeds with the first value and follows Finch’s recurrence', () => {
    const first = ewmaUpdate(null, 10, 0.5);
    expect(first).toEqual({ mean: 10, variance: 0 });
    // x=14: diff=4, incr=0.5·4=2, mean=12, var=(1−0.5)·(0+4·2)=4
    const second = ewmaUpdate(first, 14, 0.5);
    expect(second.mean).toBeCloseTo(12, 12);
    expect(second.variance).toBeCloseTo(4, 12);
    // x=8: diff=−4, incr=−2, mean=10, var=0.5·(4+(−4)(−2))=6
    const third = ewmaUpdate(second, 8, 0.5);
    expect(third.mean).toBeCloseTo(10, 12);
    expect(third.variance).toBeCloseTo(6, 12);
  });

  it('with alpha 1 forgets everything but the last value', () => {
    // diff=7, incr=7 → mean 10; var=(1−1)·… = 0
    expect(ewmaUpdate({ mean: 3, variance: 9 }, 10, 1)).toEqual({ mean: 10, variance: 0 });
  });

  it('decays the variance of a constant stream toward 0', () => {
    let s = ewmaUpdate({ mean: 5, variance: 100 }, 5, 0.2);
    for (let i = 0; i < 50; i++) s = ewmaUpdate(s, 5, 0.2);
    // diff is 0 each step, so var_n = 100·0.8^51 ≈ 1.1e-3
    expect(s.mean).toBe(5);
    expect(s.variance).toBeCloseTo(100 * 0.8 ** 51, 10);
  });

  it('rejects alpha outside (0, 1]', () => {
    expect(() => ewmaUpdate(null, 1, 0)).toThrow(LockstepError);
    expect(() => ewmaUpdate(null, 1, 1.5)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('poissonUpperTail', () => {
  it('matches closed forms for small k', () => {
    // P(X≥1|λ=1) = 1 − e^−1 = 0.6321205588
    expect(poissonUpperTail(1, 1)).toBeCloseTo(0.6321205588, 10);
    // P(X≥3|λ=2) = 1 − e^−2(1 + 2 + 2) = 1 − 5·0.1353352832 = 0.3233235838
    expect(poissonUpperTail(3, 2)).toBeCloseTo(0.3233235838, 10);
    // P(X≥10|λ=3) = 1 − e^−3·Σ_{j<10} 3^j/j!
    //   Σ = 1+3+4.5+4.5+3.375+2.025+1.0125+0.433929+0.162723+0.054241 = 20.063393
    //   1 − 0.0497870684·20.063393 = 0.0011025
    expect(poissonUpperTail(10, 3)).toBeCloseTo(0.0011025, 6);
  });

  it('defines the edges: k ≤ 0 is certain, lambda 0 never reaches k > 0', () => {
    expect(poissonUpperTail(0, 3)).toBe(1);
    expect(poissonUpperTail(0, 0)).toBe(1);
    expect(poissonUpperTail(5, 0)).toBe(0);
  });

  it('is accurate for large lambda', () => {
    // P(X ≥ λ) ≈ 1/2 + 1/(3·sqrt(2πλ)) for large integer λ (Ramanujan's expansion):
    //   λ=1e6: 0.5 + 1/(3·2506.628) = 0.5 + 0.000132981 = 0.500132981
    expect(poissonUpperTail(1e6, 1e6)).toBeCloseTo(0.500132981, 6);
    // λ=10000, k=10200: normal approx with continuity, z=(10199.5−10000)/100=1.995 → 0.02302;
    // skew makes the Poisson tail a little heavier (exact ≈ 0.02329)
    expect(poissonUpperTail(10200, 10000)).toBeGreaterThan(0.0225);
    expect(poissonUpperTail(10200, 10000)).toBeLessThan(0.0240);
  });

  it('differences of the tail are the Poisson pmf', () => {
    // P(X≥k) − P(X≥k+1) = P(X=k); λ=4, k=6: e^−4·4^6/720 = 0.0183156389·4096/720 = 0.1041956
    expect(poissonUpperTail(6, 4) - poissonUpperTail(7, 4)).toBeCloseTo(0.1041956, 6);
  });

  it('keeps tails far below the double range finite in log space', () => {
    // ln P(X≥200|λ=1) = −1 − ln 200! + ln(1 + 1/201 + 1/(201·202) + …)
    //   ln 200! (Stirling: 200 ln 200 − 200 + ½ln(400π) + 1/2400) = 863.2319866
    //   ln(1.0049997) = 0.0049875 → −864.2269991
    expect(poissonUpperTail(200, 1)).toBe(0);
    expect(logPoissonUpperTail(200, 1)).toBeCloseTo(-864.227, 2);
    expect(logPoissonUpperTail(201, 1)).toBeLessThan(logPoissonUpperTail(200, 1));
  });
});

describe('populationRatio', () => {
  it('is the key’s share now over its baseline share', () => {
    // now 100/10000 = 0.01; baseline 20/5000 = 0.004 → 2.5
    expect(populationRatio(100, 20, 10000, 5000)).toBeCloseTo(2.5, 12);
  });

  it('floors a new key’s baseline and is neutral without a population baseline', () => {
    // now 50/1000 = 0.05; baseline max(0, floor 5)/1000 = 0.005 → 10
    expect(populationRatio(50, 0, 1000, 1000)).toBeCloseTo(10, 12);
    expect(populationRatio(50, 0, 1000, 0)).toBe(1);
  });
});

describe('burstScore', () => {
  it('scores a real burst by surprise and lift', () => {
    // p = P(X≥100|20) ≈ 3.5e−37 → surprise min(1, 36.5/8) = 1; lift = ln 3/ln 4 = 0.7924813
    // score = sqrt(1·0.7924813) = 0.8902142
    const d = burstDetail(100, 20, 3);
    expect(d.surprise).toBe(1);
    expect(d.lift).toBeCloseTo(0.7924813, 6);
    expect(d.score).toBeCloseTo(0.8902142, 6);
    expect(d.pValue).toBeLessThan(1e-30);
  });

  it('does not count a global surge that lifts everyone', () => {
    // 1000 vs 300 is wildly significant, but the key’s share did not move (ratio 1) → lift 0
    const d = burstDetail(1000, 300, 1);
    expect(d.surprise).toBe(1);
    expect(burstScore(1000, 300, 1)).toBe(0);
  });

  it('does not make a brand-new key with a few requests maximal', () => {
    // expected 0 → floor 5; P(X≥3|5) = 1 − e^−5(1+5+12.5) = 1 − 18.5·0.006737947 = 0.8753480
    // surprise = −log10(0.8753480)/8 = 0.0578113/8 = 0.0072264; lift 1 → score sqrt(0.0072264) = 0.08501
    const d = burstDetail(3, 0, 1e9);
    expect(d.expectedUsed).toBe(5);
    expect(d.pValue).toBeCloseTo(0.875348, 6);
    expect(d.score).toBeCloseTo(0.08501, 4);
  });

  it('widens the tail for an overdispersed baseline (quasi-Poisson)', () => {
    // variance 80, mean 20 → φ = 4: test 40/4 = 10 against 20/4 = 5
    // P(X≥10|5) = 1 − e^−5·Σ_{j<10} 5^j/j! = 1 − 0.006737947·143.6895 = 0.0318281
    // surprise = −log10(0.0318281)/8 = 1.497190/8 = 0.1871487; lift ln2/ln4 = 0.5 → sqrt(0.0935744) = 0.305899
    const d = burstDetail(40, 20, 2, { variance: 80 });
    expect(d.pValue).toBeCloseTo(0.0318281, 6);
    expect(d.score).toBeCloseTo(0.305899, 5);
    expect(burstScore(40, 20, 2)).toBeGreaterThan(d.score); // same counts without overdispersion are more surprising
  });

  it('stays in [0, 1] when the share fell', () => {
    expect(burstScore(10, 100, 0.1)).toBe(0);
  });
});

describe('golombRinzelChi', () => {
  it('is 1 for identical activity and 0 for members in anti-phase', () => {
    expect(golombRinzelChi([[1, 0, 1, 0], [1, 0, 1, 0]])).toBeCloseTo(1, 12);
    // the average is flat 0.5, so var_t of it is 0
    expect(golombRinzelChi([[1, 0, 1, 0], [0, 1, 0, 1]])).toBe(0);
  });

  it('matches a hand-computed mixed case', () => {
    // A=[2,0,2,0]: var 1; B=[1,1,1,1]: var 0 → mean var 0.5
    // average = [1.5,0.5,1.5,0.5]: var 0.25 → chi² = 0.5 → chi = 0.7071068
    expect(golombRinzelChi([[2, 0, 2, 0], [1, 1, 1, 1]])).toBeCloseTo(0.7071068, 6);
  });

  it('treats missing cells of short rows as silent buckets', () => {
    // [[1,0,1],[1,0,0]]: row vars 2/9 and 2/9; average [1,0,0.5] var 1/6 → chi² = 0.75 → chi = 0.8660254
    expect(golombRinzelChi([[1, 0, 1], [1]])).toBeCloseTo(0.8660254, 6);
  });

  it('defines degenerate matrices as 0 (no evidence of synchrony)', () => {
    expect(golombRinzelChi([])).toBe(0);
    expect(golombRinzelChi([[1, 5, 2]])).toBe(0); // one member
    expect(golombRinzelChi([[3], [4]])).toBe(0); // one bucket
    expect(golombRinzelChi([[0, 0, 0], [0, 0, 0]])).toBe(0); // nobody varies
    expect(golombRinzelChi([[2, 2, 2], [7, 7, 7]])).toBe(0);
  });
});

describe('meanPairwiseCorrelation', () => {
  it('averages Pearson over all pairs, skipping flat rows', () => {
    // r(a,b)=1, r(a,c)=−1, r(b,c)=−1; [5,5,5] skipped → (1 − 1 − 1)/3 = −1/3
    const m = [[1, 2, 3], [2, 4, 6], [3, 2, 1], [5, 5, 5]];
    expect(meanPairwiseCorrelation(m, 100, mulberry32(1))).toBeCloseTo(-1 / 3, 12);
  });

  it('is 0 with fewer than two varying rows', () => {
    expect(meanPairwiseCorrelation([[1, 2, 3], [4, 4, 4]], 10, mulberry32(1))).toBe(0);
  });

  it('samples at most maxPairs pairs, reproducibly, near the full mean', () => {
    // 30 rows of a pattern and 30 of its mirror: same-group pairs 2·C(30,2)=870 at +1, cross 900 at −1
    // full mean = (870 − 900)/1770 = −0.0169; 2000 sampled ±1 values have sd 1/sqrt(2000) ≈ 0.022
    const up = [0, 1, 2, 3, 4, 5];
    const down = [5, 4, 3, 2, 1, 0];
    const m = [...Array.from({ length: 30 }, () => up), ...Array.from({ length: 30 }, () => down)];
    const a = meanPairwiseCorrelation(m, 2000, mulberry32(7));
    const b = meanPairwiseCorrelation(m, 2000, mulberry32(7));
    expect(a).toBe(b);
    expect(Math.abs(a - -30 / 1770)).toBeLessThan(0.08);
    // identical rows: every sampled pair is exactly 1
    expect(meanPairwiseCorrelation(Array.from({ length: 50 }, () => up), 10, mulberry32(3))).toBeCloseTo(1, 12);
  });
});

describe('jensenShannonDivergence', () => {
  it('is 0 for the same mix at any scale and 1 for disjoint mixes', () => {
    expect(jensenShannonDivergence({ a: 2, b: 2 }, { a: 1, b: 1 })).toBeCloseTo(0, 12);
    expect(jensenShannonDivergence({ a: 1 }, { b: 1 })).toBeCloseTo(1, 12);
    // an explicit 0 is the same as a missing key, and is not counted twice
    expect(jensenShannonDivergence({ a: 1, b: 0 }, { b: 1 })).toBeCloseTo(1, 12);
  });

  it('matches a hand-computed fleet-vs-population case', () => {
    // p = coding only; q = coding .3, chat .6, agentic .1; m = (.65, .3, .05)
    // KL(p‖m) = log2(1/.65) = 0.6214884
    // KL(q‖m) = .3·log2(.3/.65) + .6·log2(2) + .1·log2(2) = −0.3346431 + 0.7 = 0.3653569
    // JSD = (0.6214884 + 0.3653569)/2 = 0.4934226
    expect(jensenShannonDivergence({ coding: 10 }, { coding: 3, chat: 6, agentic: 1 })).toBeCloseTo(0.4934226, 6);
  });

  it('is 0 when either side has no counts, and ignores non-positive counts', () => {
    expect(jensenShannonDivergence({}, { a: 1 })).toBe(0);
    expect(jensenShannonDivergence({ a: 0 }, { a: 1 })).toBe(0);
    expect(jensenShannonDivergence({ a: 1, b: -5 }, { a: 1 })).toBeCloseTo(0, 12);
  });
});

describe('highValueShare', () => {
  it('is the share of requests on the high-value list', () => {
    // (6 + 2) / (6 + 2 + 12) = 0.4; a duplicate in the list does not count twice
    expect(highValueShare({ coding: 6, agentic: 2, chat: 12 }, ['coding', 'agentic', 'coding'])).toBeCloseTo(0.4, 12);
    expect(highValueShare({}, ['coding'])).toBe(0);
    expect(highValueShare({ chat: 3 }, [])).toBe(0);
  });
});

describe('mulberry32', () => {
  it('is reproducible per seed and uniform on [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 10000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs[0]).not.toBe(c());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    // mean of U(0,1) is 0.5 with sd 1/sqrt(12·10000) ≈ 0.0029
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.015);
  });
});

describe('significantCorrelation', () => {
  it('is what chance alone exceeds about 1% of the time, over few buckets and many', () => {
    const rng = mulberry32(11);
    for (const buckets of [5, 6, 12, 24, 60]) {
      const threshold = significantCorrelation(buckets);
      const profile = Array.from({ length: buckets }, () => rng());
      const rows = Array.from({ length: 4000 }, () => Array.from({ length: buckets }, () => rng()));
      const exceeding = correlationWithProfile(rows, profile).filter((r) => r >= threshold).length / rows.length;
      expect(exceeding).toBeGreaterThan(0.002);
      expect(exceeding).toBeLessThan(0.025);
    }
  });

  it('correlates a sampled row with the sum of the other sampled rows, and a row outside the sample with all of them', () => {
    const rng = mulberry32(5);
    const rows = Array.from({ length: 7 }, () => Array.from({ length: 12 }, () => Math.floor(rng() * 4)));
    const sum = (of: number[][]): number[] => Array.from({ length: 12 }, (_, t) => of.reduce((k, row) => k + row[t], 0));
    const r = correlationWithOthers(rows, 5);
    for (let i = 0; i < 5; i++) expect(r[i]).toBeCloseTo(correlationWithProfile([rows[i]], sum(rows.slice(0, 5).filter((_, j) => j !== i)))[0], 12);
    for (let i = 5; i < 7; i++) expect(r[i]).toBeCloseTo(correlationWithProfile([rows[i]], sum(rows.slice(0, 5)))[0], 12);
  });

  it('does not let a heavy row of a small sample correlate with the profile by its own weight', () => {
    const fleet = [
      [0, 0, 0, 0, 0, 3, 2, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2, 3, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2, 2, 3, 0, 0, 0, 0], [0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0], [0, 0, 0, 0, 0, 3, 0, 3, 0, 0, 0, 0], [0, 0, 0, 0, 1, 2, 2, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2, 2, 2, 1, 0, 0, 0],
    ];
    const rows = [[0, 0, 3, 0, 0, 6, 4, 0, 0, 4, 0, 2], ...fleet];
    const mean = Array.from({ length: 12 }, (_, t) => rows.reduce((k, row) => k + row[t], 0) / rows.length);
    // with its own row in the profile the bystander passes the core's default 0.5; against the others it does not
    expect(correlationWithProfile(rows, mean)[0]).toBeGreaterThan(0.6);
    expect(correlationWithOthers(rows, rows.length)[0]).toBeLessThan(0.5);
    // the fleet's own members hardly move
    const others = correlationWithOthers(rows, rows.length).slice(1);
    const own = correlationWithProfile(rows, mean).slice(1);
    others.forEach((r, i) => expect(own[i] - r).toBeLessThan(0.1));
  });

  it('asks more of a short span than of a long one, and cannot be met over three buckets', () => {
    expect(significantCorrelation(3)).toBe(1);
    expect(significantCorrelation(6)).toBeCloseTo(0.87, 2);
    expect(significantCorrelation(24)).toBeCloseTo(0.47, 2);
    expect(significantCorrelation(60)).toBeCloseTo(0.3, 2);
  });
});
