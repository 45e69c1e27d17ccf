import { gammaln } from 'simple-statistics';
import { LockstepError } from '../errors';

/**
 * Statistics the detector scores fleets with. Pure functions, no I/O, no clock; each one defines its
 * degenerate inputs explicitly (they are common in streams: new keys, silent members, empty mixes).
 * The formulas and their reasoning are written up in docs/detector-math.md.
 */

// ---------------------------------------------------------------------------------------------
// Baselines
// ---------------------------------------------------------------------------------------------

export interface Ewma {
  mean: number;
  variance: number;
}

/**
 * One step of an exponentially weighted mean and variance (Finch 2009, "Incremental calculation of
 * weighted mean and variance", eq. 143), so a key's baseline needs two numbers, not a history.
 * The first observation seeds the mean with zero variance.
 */
export function ewmaUpdate(prev: Ewma | null, x: number, alpha: number): Ewma {
  if (!(alpha > 0 && alpha <= 1)) {
    throw new LockstepError('CONFIG_INVALID', `EWMA alpha must be in (0, 1], got ${alpha}`, { field: 'alpha' });
  }
  if (prev === null) return { mean: x, variance: 0 };
  const diff = x - prev.mean;
  const increment = alpha * diff;
  return { mean: prev.mean + increment, variance: (1 - alpha) * (prev.variance + diff * increment) };
}

// ---------------------------------------------------------------------------------------------
// Poisson tail
// ---------------------------------------------------------------------------------------------

const GAMMA_EPS = 1e-15;
const GAMMA_TINY = 1e-300;
const GAMMA_MAX_ITER = 100_000;

/** log of x^a e^-x / Γ(a): the common prefactor of both incomplete-gamma expansions. */
function logGammaPrefactor(a: number, x: number): number {
  return -x + a * Math.log(x) - gammaln(a);
}

/** log P(a, x) by its power series; converges fast for x < a + 1, where P is the small side. */
function logLowerGammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < GAMMA_MAX_ITER; n++) {
    term *= x / (a + n);
    sum += term;
    if (term < sum * GAMMA_EPS) break;
  }
  return logGammaPrefactor(a, x) + Math.log(sum);
}

/** Q(a, x) by its continued fraction (modified Lentz); converges fast for x ≥ a + 1. */
function upperGammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / GAMMA_TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < GAMMA_MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < GAMMA_TINY) d = GAMMA_TINY;
    c = b + an / c;
    if (Math.abs(c) < GAMMA_TINY) c = GAMMA_TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < GAMMA_EPS) break;
  }
  return Math.exp(logGammaPrefactor(a, x)) * h;
}

/**
 * ln P(X ≥ k) for X ~ Poisson(lambda). Uses P(X ≥ k) = P(k, lambda), the regularized lower incomplete
 * gamma, evaluated in log space so that tails far below 1e-308 (large bursts) stay finite and ordered.
 * Non-integer k gives the continuous interpolation P(k, lambda) (used for dispersion-scaled counts).
 */
export function logPoissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 0;
  if (lambda <= 0) return Number.NEGATIVE_INFINITY;
  if (lambda < k + 1) return Math.min(0, logLowerGammaSeries(k, lambda));
  return Math.log1p(-Math.min(1, upperGammaContinuedFraction(k, lambda)));
}

/** P(X ≥ k) for X ~ Poisson(lambda); k ≤ 0 → 1, lambda = 0 (and k > 0) → 0. */
export function poissonUpperTail(k: number, lambda: number): number {
  return Math.exp(logPoissonUpperTail(k, lambda));
}

// ---------------------------------------------------------------------------------------------
// Burst
// ---------------------------------------------------------------------------------------------

export interface BurstOptions {
  /**
   * Prior expectation: the expected count is never taken below this, so a key with no baseline
   * (new /24, new payment method) must still clear a real bar before it looks surprising.
   */
  expectedFloor: number;
  /** EWMA variance of the key's count; above the mean it widens the tail (quasi-Poisson). */
  variance?: number;
  /** -log10 p at which surprise saturates at 1; 8 leaves room for many keys tested per evaluation. */
  saturationDecades: number;
  /** population ratio at which lift saturates at 1 (4 = the key's share of traffic quadrupled). */
  liftSaturation: number;
}

export const DEFAULT_BURST_OPTIONS: BurstOptions = { expectedFloor: 5, saturationDecades: 8, liftSaturation: 4 };

export interface BurstDetail {
  score: number;
  /** upper-tail probability of the observed count under the (floored, dispersion-scaled) baseline */
  pValue: number;
  /** the expectation actually tested against: max(expected, expectedFloor) */
  expectedUsed: number;
  /** min(1, -log10 p / saturationDecades) */
  surprise: number;
  /** min(1, log(populationRatio) / log(liftSaturation)), 0 when the share did not rise */
  lift: number;
}

function clamp01(x: number): number {
  return x <= 0 || Number.isNaN(x) ? 0 : x >= 1 ? 1 : x;
}

/** The one rule for the floored expectation, shared by the tail test and the population ratio. */
export function flooredExpected(expected: number, floor: number): number {
  return Math.max(expected, floor, Number.MIN_VALUE);
}

/**
 * The key's share of population volume now over its baseline share. A global surge lifts the key
 * and the population together, so the ratio stays near 1 and the burst does not count. The key's
 * baseline goes through the same floor as the tail test, so a new key's ratio is finite. Without a
 * population baseline (cold start) or traffic there is nothing to compare: the ratio is 1 (neutral).
 */
export function populationRatio(
  observed: number,
  expected: number,
  populationObserved: number,
  populationExpected: number,
  expectedFloor: number = DEFAULT_BURST_OPTIONS.expectedFloor,
): number {
  if (!(populationObserved > 0 && populationExpected > 0)) return 1;
  const shareNow = observed / populationObserved;
  const baselineShare = flooredExpected(expected, expectedFloor) / populationExpected;
  return shareNow / baselineShare;
}

/**
 * How much of a burst the key is having, in [0, 1]: sqrt(surprise × lift). Both factors must be
 * present: a huge but population-wide rise has lift 0; a doubled share on three requests has no
 * surprise. Overdispersion (variance > mean, usual for real traffic) is handled quasi-Poisson:
 * counts and mean are divided by φ = variance / mean before the tail is taken.
 */
export function burstDetail(
  observed: number,
  expected: number,
  ratio: number,
  options: Partial<BurstOptions> = {},
): BurstDetail {
  const o: BurstOptions = { ...DEFAULT_BURST_OPTIONS, ...options };
  const lambda = flooredExpected(expected, o.expectedFloor);
  const dispersion = Math.max(1, (o.variance ?? 0) / lambda);
  const logP = logPoissonUpperTail(observed / dispersion, lambda / dispersion);
  const surprise = clamp01(-logP / Math.LN10 / o.saturationDecades);
  const lift = ratio > 1 ? clamp01(Math.log(ratio) / Math.log(o.liftSaturation)) : 0;
  return { score: Math.sqrt(surprise * lift), pValue: Math.exp(logP), expectedUsed: lambda, surprise, lift };
}

/** Burst score in [0, 1]; see burstDetail for the formula and the figures evidence needs. */
export function burstScore(observed: number, expected: number, ratio: number, options: Partial<BurstOptions> = {}): number {
  return burstDetail(observed, expected, ratio, options).score;
}

// ---------------------------------------------------------------------------------------------
// Synchrony
// ---------------------------------------------------------------------------------------------

/** Buckets of a members × buckets matrix: the longest row; missing cells are buckets with no requests. */
function bucketCount(matrix: readonly ArrayLike<number>[]): number {
  let n = 0;
  for (const row of matrix) if (row.length > n) n = row.length;
  return n;
}

function cell(row: ArrayLike<number>, t: number): number {
  return t < row.length ? row[t] : 0;
}

/** Population variance over time of one row. */
function rowVariance(row: ArrayLike<number>, buckets: number): number {
  let mean = 0;
  for (let t = 0; t < buckets; t++) mean += cell(row, t);
  mean /= buckets;
  let ss = 0;
  for (let t = 0; t < buckets; t++) ss += (cell(row, t) - mean) ** 2;
  return ss / buckets;
}

/**
 * Golomb–Rinzel synchrony chi of members (rows) × time buckets (columns):
 *   chi² = var_t( mean_i x_i(t) ) / mean_i var_t( x_i(t) ),  chi = sqrt(chi²) ∈ [0, 1].
 * 1 = every member's activity moves together; about 1/sqrt(members) for independent members
 * (see synchronyScore in score.ts for the chance correction).
 * Degenerate inputs are 0 (no evidence of synchrony): fewer than 2 members, fewer than 2 buckets,
 * or no member whose activity varies (mean_i var_t = 0, e.g. all silent or all perfectly flat).
 */
export function golombRinzelChi(matrix: readonly ArrayLike<number>[]): number {
  const members = matrix.length;
  const buckets = bucketCount(matrix);
  if (members < 2 || buckets < 2) return 0;
  let meanMemberVariance = 0;
  for (const row of matrix) meanMemberVariance += rowVariance(row, buckets);
  meanMemberVariance /= members;
  if (!(meanMemberVariance > 0)) return 0;
  const average = new Array<number>(buckets).fill(0);
  for (const row of matrix) for (let t = 0; t < buckets; t++) average[t] += cell(row, t) / members;
  return Math.sqrt(clamp01(rowVariance(average, buckets) / meanMemberVariance));
}

/** Seeded 32-bit PRNG (mulberry32): deterministic sampling, so an evaluation can be replayed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rows centred and scaled to unit norm once, so each pair costs one dot product; flat rows dropped. */
function centredRows(matrix: readonly ArrayLike<number>[], buckets: number): Float64Array[] {
  const rows: Float64Array[] = [];
  for (const row of matrix) {
    let mean = 0;
    for (let t = 0; t < buckets; t++) mean += cell(row, t);
    mean /= buckets;
    const centred = new Float64Array(buckets);
    let norm = 0;
    for (let t = 0; t < buckets; t++) {
      centred[t] = cell(row, t) - mean;
      norm += centred[t] * centred[t];
    }
    if (norm > 0) {
      const scale = 1 / Math.sqrt(norm);
      for (let t = 0; t < buckets; t++) centred[t] *= scale;
      rows.push(centred);
    }
  }
  return rows;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let t = 0; t < a.length; t++) s += a[t] * b[t];
  return s;
}

/**
 * Mean Pearson correlation over pairs of members' per-bucket activity. Rows with no variation are
 * skipped (correlation is undefined for them). When there are at most maxPairs pairs all are used;
 * otherwise maxPairs pairs are drawn with `rng` (with replacement), so cost is bounded for large
 * fleets and the result is reproducible for a fixed seed. Fewer than 2 varying rows → 0.
 */
export function meanPairwiseCorrelation(
  matrix: readonly ArrayLike<number>[],
  maxPairs: number,
  rng: () => number,
): number {
  const rows = centredRows(matrix, bucketCount(matrix));
  const n = rows.length;
  if (n < 2 || maxPairs < 1) return 0;
  const allPairs = (n * (n - 1)) / 2;
  let sum = 0;
  if (allPairs <= maxPairs) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sum += dot(rows[i], rows[j]);
    return sum / allPairs;
  }
  for (let p = 0; p < maxPairs; p++) {
    const i = Math.floor(rng() * n);
    const j = (i + 1 + Math.floor(rng() * (n - 1))) % n; // uniform over the other n-1 rows
    sum += dot(rows[i], rows[j]);
  }
  return sum / maxPairs;
}

// ---------------------------------------------------------------------------------------------
// Capability mix
// ---------------------------------------------------------------------------------------------

/** Counts that are not positive finite numbers count as 0. */
function countOf(map: Readonly<Record<string, number>>, key: string): number {
  const v = map[key];
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : 0;
}

function total(map: Readonly<Record<string, number>>): number {
  let s = 0;
  for (const key of Object.keys(map)) s += countOf(map, key);
  return s;
}

/** p·log2(p/m), with the 0·log 0 = 0 convention. */
function klTerm(p: number, m: number): number {
  return p > 0 ? p * Math.log2(p / m) : 0;
}

/**
 * Jensen–Shannon divergence, base 2, in [0, 1], between two count maps (normalized here; a key
 * missing from one map has count 0 there). 0 = same mix, 1 = no capability in common.
 * If either map has no counts there is no mix to compare, so the result is 0 (no evidence).
 */
export function jensenShannonDivergence(
  p: Readonly<Record<string, number>>,
  q: Readonly<Record<string, number>>,
): number {
  const pTotal = total(p);
  const qTotal = total(q);
  if (pTotal === 0 || qTotal === 0) return 0;
  let js = 0;
  const visit = (key: string): void => {
    const pi = countOf(p, key) / pTotal;
    const qi = countOf(q, key) / qTotal;
    const mi = (pi + qi) / 2;
    js += (klTerm(pi, mi) + klTerm(qi, mi)) / 2;
  };
  for (const key of Object.keys(p)) visit(key);
  for (const key of Object.keys(q)) if (!Object.hasOwn(p, key)) visit(key);
  return clamp01(js);
}

/** Share of requests on high-value capabilities; 0 when there are no requests. */
export function highValueShare(byCap: Readonly<Record<string, number>>, highValue: readonly string[]): number {
  const all = total(byCap);
  if (all === 0) return 0;
  let high = 0;
  for (const cap of new Set(highValue)) high += countOf(byCap, cap);
  return high / all;
}

/** One-sided 1% point of the standard normal. */
const Z_ONE_PERCENT = 2.326;

/**
 * The least Pearson correlation over `n` buckets that chance alone exceeds less than 1% of the time
 * (Fisher: atanh(r)·√(n − 3) is about standard normal when there is no correlation). Over a few
 * buckets any trend correlates well with any other: 0.87 is needed over 6, 0.47 over 24, 0.30 over 60.
 */
export function significantCorrelation(n: number): number {
  return n <= 3 ? 1 : Math.tanh(Z_ONE_PERCENT / Math.sqrt(n - 3));
}

/**
 * Pearson correlation of each row with the fleet's profile, the summed activity of its first
 * `sampled` rows (the sample synchrony was measured on): who moves with the fleet. A row of the
 * sample is compared with the sum of the others. With its own row in it the profile leans toward
 * it: in a key of a dozen sparse members a heavy bystander is a tenth of the profile, and correlated
 * 0.5–0.9 with it by its own weight (the behaviour-only scenario named 8 benign accounts so).
 * Rows or profiles without variance correlate 0.
 */
export function correlationWithOthers(rows: readonly ArrayLike<number>[], sampled: number): number[] {
  const buckets = bucketCount(rows);
  const inSample = Math.min(sampled, rows.length);
  const total = new Float64Array(buckets);
  for (let i = 0; i < inSample; i++) for (let t = 0; t < buckets; t++) total[t] += cell(rows[i], t);
  const others = new Float64Array(buckets);
  const r: number[] = [];
  for (let i = 0; i < inSample; i++) {
    for (let t = 0; t < buckets; t++) others[t] = total[t] - cell(rows[i], t);
    r.push(correlationWithProfile([rows[i]], others)[0]);
  }
  // the rows outside the sample (thousands on a wide key) share one profile, centred once
  return r.concat(correlationWithProfile(rows.slice(inSample), total));
}

/**
 * Pearson correlation of each row with a profile (e.g. the fleet's mean activity). Rows or a
 * profile without variance correlate 0.
 */
export function correlationWithProfile(matrix: readonly ArrayLike<number>[], profile: ArrayLike<number>): number[] {
  const buckets = profile.length;
  const [p] = centredRows([profile], buckets);
  if (!p) return matrix.map(() => 0);
  return matrix.map((row) => {
    const [r] = centredRows([row], buckets);
    return r ? dot(r, p) : 0;
  });
}
