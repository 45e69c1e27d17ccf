import type { Config, ScaleConfig } from '../config/config';
import type { AlertEvidence, Link, Severity } from '../alerts/alert';
import type { BucketData, KeyRef } from '../windows/store';
import { ROTATING_VALUE } from '../ingest/value-cap';
import { burstDetail, type BurstDetail, correlationWithOthers, ewmaUpdate, golombRinzelChi, highValueShare, jensenShannonDivergence, meanPairwiseCorrelation, mulberry32, populationRatio, significantCorrelation, type Ewma } from './stats';
import { DEFAULT_WEIGHTS, combineScore, linkRarity, type FleetSignals, severityOf, sizeScore, synchronyScore, targetingScore } from './score';

/** How one candidate fleet (the accounts on one linking key) looks at one scale. */
export interface FleetAssessment {
  link: Link;
  scale: string;
  score: number;
  severity: Severity | null;
  /** member account -> requests in the window: the synchronized core when there is one, else all members */
  members: Map<string, number>;
  /** true when members are the synchronized core of the key rather than everyone on it */
  core: boolean;
  capabilityShare: Record<string, number>;
  targetedCapabilities: string[];
  windowStart: number;
  windowEnd: number;
  evidence: AlertEvidence;
}

/** Link types whose values unrelated accounts commonly share (a NAT, an ASN, an SDK, a company): weighed by rarity. */
const COMMON_LINK_TYPES: ReadonlySet<string> = new Set(['ip_prefix', 'asn', 'user_agent', 'org']);

/**
 * Whether unrelated accounts commonly share this link: a value of a common type, or "(rotating)"
 * of any type (every account past its share of values meets there, related or not). Such a link is
 * weighed by its rarity and judged on its synchronized core.
 */
export function commonlyShared(link: KeyRef): boolean {
  return COMMON_LINK_TYPES.has(link.type) || link.value === ROTATING_VALUE;
}
/** members sampled for synchrony; enough for a stable mean, bounded cost */
const SYNCHRONY_SAMPLE = 200;
const CORRELATION_PAIRS = 400;
/** EWMA smoothing of a key's per-bucket baseline (the evidence page draws the same baseline) */
export const BASELINE_ALPHA = 0.2;
/** fewer active buckets than this say nothing about synchrony */
const MIN_SYNCHRONY_BUCKETS = 4;
/** fewest active buckets of a core member */
const MIN_CORE_ACTIVE_BUCKETS = 3;
/** synchrony from which members are told apart from bystanders on the same key */
const CORE_MIN_SYNCHRONY = 0.3;
/** event time within which a fleet's accounts come onto a new key together (arrivedTogether) */
const ARRIVAL_MS = 2 * 60_000;

/** Behaviour keys are new every window, so they never have a baseline: they are judged without burst. */
function weightsFor(type: string): { burst?: number } {
  return type === 'behavior' ? { burst: 0 } : {};
}

/** The one formula of a fleet's score: the combined signals, discounted for a fleet of old accounts. */
function fleetScore(signals: FleetSignals, youngShare: number, type: string, cfg: Config['detector']): number {
  return combineScore(signals, weightsFor(type)) * freshnessFactor(youngShare, cfg);
}

/** Campaigns open fresh accounts; a fleet of old accounts is more likely a customer's own: its score is discounted. */
function freshnessFactor(youngShare: number, cfg: Config['detector']): number {
  return cfg.agedFleetFactor + (1 - cfg.agedFleetFactor) * youngShare;
}

function sumCaps(byCap: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const k in byCap) n += byCap[k];
  return n;
}

/** Adds a bucket's requests per capability into a running total. */
export function addCapabilities(into: Record<string, number>, from: ReadonlyMap<string, number>): void {
  // forEach with one module-level callback: the detector's hottest loop, no entry array or closure per call
  capabilityTotals = into;
  from.forEach(addCapability);
}

let capabilityTotals: Record<string, number> = {};
function addCapability(count: number, capability: string): void {
  capabilityTotals[capability] = (capabilityTotals[capability] ?? 0) + count;
}

/**
 * A value this many accounts share in one bucket (a big ASN, a popular SDK) cannot reach warning
 * whatever else it shows (its rarity factor alone keeps it below): the detector skips it. Grows
 * with `widest`, so a lower bound of it that is too common proves the key too common.
 */
export function tooCommon(link: KeyRef, widest: number, cfg: Config['detector']): boolean {
  return commonlyShared(link) && linkRarity(widest, Number.POSITIVE_INFINITY) ** DEFAULT_WEIGHTS.linkRarity < cfg.thresholds.warning;
}

/** The buckets an evaluation at `watermark` reads at one scale: complete buckets only, oldest first. */
export function windowBuckets(scale: ScaleConfig, watermark: number): { first: number; last: number } {
  const last = watermark - (watermark % scale.bucketMs) - scale.bucketMs;
  return { first: last - (scale.buckets - 1) * scale.bucketMs, last };
}

/** The newest sixth of a window is "now" for the burst test; the rest is the baseline. */
export function recentBuckets(scale: ScaleConfig): number {
  return Math.max(1, Math.round(scale.buckets / 6));
}

/** The population's side of every assessment at one scale and tick, summed once for all candidates. */
export interface PopulationView {
  /** requests per capability over the window */
  byCap: Record<string, number>;
  /** requests per bucket */
  perBucket: number[];
  /** index of the first bucket with any request: earlier ones lockstep did not see */
  seen: number;
  highValueShare: number;
}

export function populationView(population: BucketData[], cfg: Config['detector']): PopulationView {
  const byCap: Record<string, number> = {};
  const perBucket = population.map((b) => {
    addCapabilities(byCap, b.byCapability);
    return b.requests;
  });
  let seen = 0;
  while (seen < perBucket.length && perBucket[seen] === 0) seen++;
  return { byCap, perBucket, seen, highValueShare: highValueShare(byCap, cfg.highValueCapabilities) };
}

/** A burst test's result with the figures the evidence shows. */
interface BurstFigures extends BurstDetail {
  observed: number;
  expected: number;
  ratio: number;
}

/**
 * Burst of a per-bucket volume: the recent buckets against an EWMA over the older ones, and against
 * the population's movement. Buckets before the population's first are ones lockstep did not see
 * (its data began later), not quiet ones: the test runs over the seen part of the window only.
 */
function burstOf(volume: ArrayLike<number>, population: PopulationView, recent: number): BurstFigures {
  const n = volume.length;
  let base: Ewma | null = null;
  let popBase: Ewma | null = null;
  let observed = 0;
  let popObserved = 0;
  for (let t = population.seen; t < n; t++) {
    const v = volume[t];
    const pv = population.perBucket[t];
    if (t < n - recent) {
      base = ewmaUpdate(base, v, BASELINE_ALPHA);
      popBase = ewmaUpdate(popBase, pv, BASELINE_ALPHA);
    } else {
      observed += v;
      popObserved += pv;
    }
  }
  const expected = (base?.mean ?? 0) * recent;
  const ratio = populationRatio(observed, expected, popObserved, (popBase?.mean ?? 0) * recent);
  return { ...burstDetail(observed, expected, ratio, { variance: (base?.variance ?? 0) * recent }), observed, expected, ratio };
}

/**
 * Scores one key at one scale from its buckets and the population's. Pure: same input, same answer.
 * Signals (docs/detector-math.md): burst (recent volume vs the key's EWMA baseline, Poisson tail,
 * against the population's movement), synchrony (Golomb–Rinzel chi over members' per-bucket
 * activity), capability targeting (Jensen–Shannon divergence from the population's mix and the
 * high-value share), size and freshness, and how rare the link value is.
 */
export function assessFleet(
  key: KeyRef,
  scale: ScaleConfig,
  buckets: BucketData[],
  population: PopulationView,
  cfg: Config['detector'],
  excluded: ReadonlySet<string>,
): FleetAssessment | null {
  const n = buckets.length;
  const common = commonlyShared(key);
  let widest = 0;
  for (const b of buckets) if (b.distinct > widest) widest = b.distinct;
  if (tooCommon(key, widest, cfg)) return null;

  // capability mix and volume first: they need no per-member work
  const byCap: Record<string, number> = {};
  for (let t = 0; t < n; t++) if (buckets[t].requests > 0) addCapabilities(byCap, buckets[t].byCapability);
  const popCap = population.byCap;
  const requests = sumCaps(byCap);

  const recent = Math.min(recentBuckets(scale), Math.max(1, Math.round((n - population.seen) / 6)));
  const keyBurst = burstOf(buckets.map((b) => b.requests), population, recent);

  // targeting
  const js = jensenShannonDivergence(byCap, popCap);
  const hv = highValueShare(byCap, cfg.highValueCapabilities);
  const popHv = population.highValueShare;
  const targeting = targetingScore(js, hv, popHv);
  const weights = weightsFor(key.type);
  // the best this key could score with perfect synchrony, size and freshness: most keys stop here
  const bestCase = combineScore({ burst: keyBurst.score, synchrony: 1, targeting, size: 1, linkRarity: common ? linkRarity(Math.max(cfg.minFleetSize, widest), Number.POSITIVE_INFINITY) : 1 }, weights);
  if (bestCase < cfg.thresholds.warning) return null;

  // the key's active span (a key that appeared an hour ago is not "in sync" for the 23 empty hours
  // before it): synchrony is judged over it
  let firstActive = 0;
  while (firstActive < n && buckets[firstActive].requests === 0) firstActive++;
  const span = n - firstActive;
  // members' totals and their per-bucket rows over the active span, in one pass over the buckets
  const excluding = excluded.size > 0;
  const members = new Map<string, number>();
  const rows = new Map<string, number[]>();
  const young = new Set<string>();
  for (let t = 0; t < n; t++) {
    for (const [a, c] of buckets[t].members) {
      if (excluding && excluded.has(a)) continue;
      members.set(a, (members.get(a) ?? 0) + c);
      if (t < firstActive) continue;
      let row = rows.get(a);
      if (row === undefined) rows.set(a, (row = new Array<number>(span).fill(0)));
      row[t - firstActive] += c;
    }
    for (const a of buckets[t].young) young.add(a);
  }
  if (members.size < cfg.minFleetSize) return null;
  const rarity = common ? linkRarity(members.size, Number.POSITIVE_INFINITY) : 1;

  // synchrony: the costly signal, skipped when even perfect synchrony could not lift the key to warning
  let chi = 0;
  let corr = 0;
  let synchrony = 0;
  let sampledMembers = 0;
  let core: Map<string, number> | null = null;
  let arrived = 0;
  const bound = combineScore({ burst: keyBurst.score, synchrony: 1, targeting, size: sizeScore(members.size, 1, cfg.minFleetSize), linkRarity: rarity }, weights);
  if (span >= MIN_SYNCHRONY_BUCKETS && bound * freshnessFactor(1, cfg) >= cfg.thresholds.warning) {
    const ranked = [...members.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
    const noActivity = new Array<number>(span).fill(0);
    const rowOf = (a: string): number[] => rows.get(a) ?? noActivity;
    const matrix = ranked.slice(0, SYNCHRONY_SAMPLE).map(([a]) => rowOf(a));
    chi = golombRinzelChi(matrix);
    corr = meanPairwiseCorrelation(matrix, CORRELATION_PAIRS, mulberry32(matrix.length));
    synchrony = synchronyScore(chi, matrix.length);
    sampledMembers = matrix.length;
    if (synchrony >= CORE_MIN_SYNCHRONY) {
      // the fleet is the members that move with it, not everyone who shares the key (a /24 also hosts bystanders)
      const all = ranked.map(([a]) => rowOf(a));
      const r = correlationWithOthers(all, matrix.length);
      // a member seen in a bucket or two correlates with any profile by chance: it must be about as
      // active as the fleet's typical member to count as moving with it. Over a short span (a key a
      // few hours old at the hour scale) a steady member's daily trend correlates with a young
      // fleet's step as well: the correlation must be one chance seldom gives over that span
      const activeBuckets = all.map((row) => row.reduce((k, v) => k + (v > 0 ? 1 : 0), 0));
      const typical = [...activeBuckets.slice(0, matrix.length)].sort((x, y) => x - y)[Math.floor(matrix.length / 2)];
      const minActive = Math.max(MIN_CORE_ACTIVE_BUCKETS, Math.ceil(typical / 2));
      const minCorrelation = Math.max(cfg.coreCorrelation, significantCorrelation(span));
      const kept = new Map<string, number>();
      ranked.forEach(([a, c], i) => {
        if (r[i] >= minCorrelation && activeBuckets[i] >= minActive) kept.set(a, c);
      });
      if (kept.size < cfg.minFleetSize && common) {
        const together = arrivedTogether(ranked, rowOf, span, firstActive - population.seen, scale, cfg);
        for (const [a, c] of together) kept.set(a, c);
        arrived = together.size;
      }
      // On a value unrelated accounts share (a /24, an ASN, an SDK) or a behaviour band, the key is
      // judged on its synchronized core alone: a small core is no fleet, and must not fall back to
      // everyone on it. A shared payment instrument or prompt template is evidence in itself: a
      // fleet whose accounts come and go (churn) keeps all its members there.
      if (kept.size >= cfg.minFleetSize || common || key.type === 'behavior') core = kept;
    }
  }
  const fleet = core ?? members;
  if (fleet.size < cfg.minFleetSize) return null;
  // the burst an alert names is its fleet's: where the core is part of the key, the key's burst may
  // be other members' (a fleet too new to be in the core at this scale, beside steady bystanders
  // that follow its profile), so the core's own volume is tested too and the weaker burst counts
  let burst = keyBurst;
  if (core !== null && core.size < members.size) {
    const coreVolume = new Float64Array(n);
    for (const a of core.keys()) {
      const row = rows.get(a);
      if (row !== undefined) for (let t = 0; t < span; t++) coreVolume[firstActive + t] += row[t];
    }
    const coreBurst = burstOf(coreVolume, population, recent);
    if (coreBurst.score < keyBurst.score) burst = coreBurst;
  }
  let youngCount = 0;
  for (const a of fleet.keys()) if (young.has(a)) youngCount++;
  const youngShare = youngCount / fleet.size;
  const size = sizeScore(fleet.size, youngShare, cfg.minFleetSize);
  const score = fleetScore({ burst: burst.score, synchrony, targeting, size, linkRarity: rarity }, youngShare, key.type, cfg);

  const capabilityShare: Record<string, number> = {};
  for (const c in byCap) capabilityShare[c] = requests > 0 ? Math.round((byCap[c] / requests) * 1000) / 1000 : 0;
  const popTotal = sumCaps(popCap);
  const targetedCapabilities = Object.keys(byCap)
    .filter((c) => popTotal > 0 && requests > 0 && byCap[c] / requests > (popCap[c] ?? 0) / popTotal && byCap[c] / requests >= 0.2)
    .sort((a, b) => byCap[b] - byCap[a]);
  const windowStart = buckets[0].start;
  const windowEnd = buckets[n - 1].start + scale.bucketMs;
  const evidence: AlertEvidence = {
    scale: scale.name,
    burst: { score: round(burst.score), observed: burst.observed, expected: round(burst.expected), pValue: burst.pValue, populationRatio: round(burst.ratio) },
    synchrony: { score: round(synchrony), chi: round(chi), meanPairwiseCorrelation: round(corr), sampledMembers, ...(arrived > 0 ? { arrivedTogether: arrived } : {}) },
    targeting: { score: round(targeting), jsDivergence: round(js), highValueShare: round(hv), populationHighValueShare: round(popHv) },
    size: { score: round(size), accounts: fleet.size, youngAccounts: youngCount, youngShare: round(youngShare), requests },
    linkRarity: round(rarity),
    reason: '',
  };
  evidence.reason = reasonOf(key, evidence, targetedCapabilities);
  return {
    link: { type: key.type as Link['type'], value: key.value },
    scale: scale.name,
    score: round(score),
    severity: severityOf(score, cfg.thresholds),
    members: fleet,
    core: core !== null,
    capabilityShare,
    targetedCapabilities,
    windowStart,
    windowEnd,
    evidence,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * The accounts that came onto a new key together, when the key is too young for a member's
 * correlation to say anything (over its first ~20 minutes chance alone gives more than
 * coreCorrelation) but was silent for a quarter of the window while the population was not: those
 * active within its first ARRIVAL_MS of event time, when they are at least minFleetSize. A campaign
 * starts its accounts at once on its new addresses; jittered and half ordinary chat (the camouflaged
 * scenario), they are found in minutes rather than once the hour scale has seen three hours of them.
 * Only on commonly shared values, which are judged on their core alone (a payment instrument or a
 * template keeps all its members when its core is small, churned accounts too); not on behaviour
 * bands either, where accounts land together whenever their signatures turn over.
 * Empty when the key does not qualify.
 */
function arrivedTogether(
  ranked: readonly [string, number][],
  rowOf: (account: string) => readonly number[],
  span: number,
  quietBefore: number,
  scale: ScaleConfig,
  cfg: Config['detector'],
): Map<string, number> {
  const arrived = new Map<string, number>();
  const arrivalBuckets = Math.floor(ARRIVAL_MS / scale.bucketMs);
  if (arrivalBuckets < 1 || significantCorrelation(span) <= cfg.coreCorrelation || quietBefore < scale.buckets / 4) return arrived;
  for (const [a, c] of ranked) {
    const row = rowOf(a);
    for (let t = 0; t < arrivalBuckets && t < row.length; t++) {
      if (row[t] > 0) {
        arrived.set(a, c);
        break;
      }
    }
  }
  return arrived.size >= cfg.minFleetSize ? arrived : new Map();
}

/** One line on-call can read: the signals that carried the score, strongest first. */
export function reasonOf(key: KeyRef, e: AlertEvidence, targeted: string[]): string {
  const parts: [number, string][] = [
    [e.burst.score, `volume ${e.burst.observed} vs ${e.burst.expected} expected (${e.burst.populationRatio}x the population's movement)`],
    [e.synchrony.score, `members move in lockstep (chi ${e.synchrony.chi}, mean correlation ${e.synchrony.meanPairwiseCorrelation})`],
    [e.targeting.score, `${Math.round(e.targeting.highValueShare * 100)}% high-value capabilities${targeted.length ? ` (${targeted.join(', ')})` : ''} vs ${Math.round(e.targeting.populationHighValueShare * 100)}% for the population`],
  ];
  const strong = parts.filter(([s]) => s >= 0.3).sort((a, b) => b[0] - a[0]).map(([, t]) => t);
  const young = e.size.youngShare > 0 ? `, ${Math.round(e.size.youngShare * 100)}% young` : '';
  const arrived = e.synchrony.arrivedTogether ? `; ${e.synchrony.arrivedTogether} of them came onto this ${key.type}, unused before, in its first ${ARRIVAL_MS / 60_000} minutes` : '';
  return `${e.size.accounts} accounts sharing ${key.type} ${key.value}${young} over ${e.scale} buckets: ${strong.length ? strong.join('; ') : 'no strong signal'}${arrived}`;
}

/** Share of the smaller fleet that two scales' fleets must have in common to be judged as one. */
const SAME_FLEET_OVERLAP = 0.5;

/** Whether two scales' assessments of a key name mostly the same accounts (a fleet's hour-scale members include its minute-scale ones). */
function sameFleet(a: FleetAssessment, b: FleetAssessment): boolean {
  const [small, large] = a.members.size <= b.members.size ? [a.members, b.members] : [b.members, a.members];
  let common = 0;
  for (const account of small.keys()) if (large.has(account)) common++;
  return common >= SAME_FLEET_OVERLAP * small.size;
}

/**
 * One key judged across its scales: each signal at the scale where it is strongest (a fleet that
 * appeared today bursts at the hour scale while its members move together minute by minute), the
 * members and the figures of the scale that shows the synchronized core. Signals are combined only
 * across scales whose fleets are mostly the same accounts: on a key shared by a fleet and steady
 * bystanders, one scale's core may be the bystanders, and the fleet's burst must not be lent to
 * them. Where scales disagree, each group of agreeing scales is judged apart and the highest score
 * counts. Returns the single assessment unchanged when there is one.
 */
export function combineScales(key: KeyRef, byScale: FleetAssessment[], cfg: Config['detector']): FleetAssessment {
  const groups = byScale.map((a) => byScale.filter((b) => b === a || sameFleet(a, b)));
  if (groups.every((g) => g.length === byScale.length)) return combineAgreeingScales(key, byScale, cfg);
  return groups.map((g) => combineAgreeingScales(key, g, cfg)).reduce((a, b) => (b.score > a.score ? b : a));
}

function combineAgreeingScales(key: KeyRef, byScale: FleetAssessment[], cfg: Config['detector']): FleetAssessment {
  if (byScale.length === 1) return byScale[0];
  const best = <K extends 'burst' | 'synchrony' | 'targeting' | 'size'>(k: K): FleetAssessment =>
    byScale.reduce((a, b) => (b.evidence[k].score > a.evidence[k].score ? b : a));
  const [burst, synchrony, targeting, size] = [best('burst'), best('synchrony'), best('targeting'), best('size')];
  const base = synchrony.evidence.synchrony.score > 0 ? synchrony : byScale.reduce((a, b) => (b.score > a.score ? b : a));
  const linkRarity = Math.min(...byScale.map((a) => a.evidence.linkRarity));
  const youngShare = Math.max(...byScale.map((a) => a.evidence.size.youngShare));
  const score = round(fleetScore({ burst: burst.evidence.burst.score, synchrony: synchrony.evidence.synchrony.score, targeting: targeting.evidence.targeting.score, size: size.evidence.size.score, linkRarity }, youngShare, key.type, cfg));
  const evidence: AlertEvidence = {
    ...base.evidence,
    burst: burst.evidence.burst,
    synchrony: synchrony.evidence.synchrony,
    targeting: targeting.evidence.targeting,
    linkRarity,
    reason: '',
  };
  const scales = [...new Set([burst.scale, synchrony.scale, targeting.scale])];
  evidence.reason = reasonOf(key, evidence, targeting.targetedCapabilities) + (scales.length > 1 ? ` (signals from the ${scales.join(' and ')} scales)` : '');
  return {
    ...base,
    score,
    severity: severityOf(score, cfg.thresholds),
    capabilityShare: targeting.capabilityShare,
    targetedCapabilities: targeting.targetedCapabilities,
    windowStart: Math.min(...byScale.map((a) => a.windowStart)),
    windowEnd: Math.max(...byScale.map((a) => a.windowEnd)),
    evidence,
  };
}
