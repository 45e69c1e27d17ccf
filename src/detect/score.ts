import type { Severity } from '../alerts/alert';

/**
 * Per-signal scores and their combination into one fleet score in [0, 1]. The shape is chosen so
 * that no single signal can page: a fleet must show two of burst / synchrony / targeting (any two
 * of them include synchrony or targeting), be at least minFleetSize accounts, and be linked by a
 * value that unrelated accounts do not commonly share. Reasoning and the benign patterns this must
 * stay quiet on: docs/detector-math.md.
 */

export interface FleetSignals {
  burst: number;
  synchrony: number;
  targeting: number;
  size: number;
  linkRarity: number;
}

export interface ScoreWeights {
  /** relative weights of the three evidence signals in the geometric blend of the strongest two; 0 leaves a signal out */
  burst: number;
  synchrony: number;
  targeting: number;
  /** how much of the remaining headroom the third evidence signal may fill */
  thirdSignalBonus: number;
  /** exponents of the two gates: 1 = plain product, 0.5 = softened so two good gates do not halve the score */
  size: number;
  linkRarity: number;
}

export const DEFAULT_WEIGHTS: ScoreWeights = { burst: 1, synchrony: 1, targeting: 1, thirdSignalBonus: 0.5, size: 0.5, linkRarity: 0.5 };

function clamp01(x: number): number {
  return x <= 0 || Number.isNaN(x) ? 0 : x >= 1 ? 1 : x;
}

/**
 * evidence = (s₁^w₁ · s₂^w₂)^(1/(w₁+w₂)) over the two strongest weighted-in signals, plus
 * thirdSignalBonus × s₃ of what is left; score = evidence × size^wSize × linkRarity^wRarity.
 * One strong signal alone scores 0; size or rarity at 0 closes the gate.
 */
export function combineScore(signals: FleetSignals, weights: Partial<ScoreWeights> = {}): number {
  const w: ScoreWeights = { ...DEFAULT_WEIGHTS, ...weights };
  const evidence = [
    { value: clamp01(signals.burst), weight: w.burst },
    { value: clamp01(signals.synchrony), weight: w.synchrony },
    { value: clamp01(signals.targeting), weight: w.targeting },
  ]
    .filter((s) => s.weight > 0)
    .sort((a, b) => b.value - a.value);
  if (evidence.length < 2) return 0;
  const [first, second] = evidence;
  const top = Math.pow(first.value ** first.weight * second.value ** second.weight, 1 / (first.weight + second.weight));
  const third = evidence.length > 2 ? evidence[2].value : 0;
  const core = top + (1 - top) * clamp01(w.thirdSignalBonus) * third;
  return clamp01(core * clamp01(signals.size) ** w.size * clamp01(signals.linkRarity) ** w.linkRarity);
}

export interface RarityOptions {
  /** share of active accounts at which rarity is 0.5 … */
  halfShare: number;
  /** … but never fewer accounts than this (small populations) … */
  minHalfAccounts: number;
  /** … nor more (one campaign rarely spans more; past this a value is more likely popular software or networks) */
  maxHalfAccounts: number;
  /** steepness of the fall-off around the half point */
  steepness: number;
}

export const DEFAULT_RARITY: RarityOptions = { halfShare: 0.01, minHalfAccounts: 50, maxHalfAccounts: 500, steepness: 2 };

/**
 * How rare a link value is, in (0, 1]: 1 / (1 + (d / h)^γ), d = distinct accounts on the value,
 * h = clamp(halfShare × population, minHalfAccounts, maxHalfAccounts). A /24 shared by 40 of 100k
 * accounts ≈ 0.99; an SDK user agent shared by 5,000 ≈ 0.01.
 */
export function linkRarity(
  distinctAccountsOnValue: number,
  populationActiveAccounts: number,
  options: Partial<RarityOptions> = {},
): number {
  const o: RarityOptions = { ...DEFAULT_RARITY, ...options };
  if (!(distinctAccountsOnValue > 0)) return 1;
  const half = Math.min(o.maxHalfAccounts, Math.max(o.minHalfAccounts, o.halfShare * Math.max(0, populationActiveAccounts)));
  return 1 / (1 + (distinctAccountsOnValue / half) ** o.steepness);
}

/**
 * Size gate in [0, 1]: 0 below minFleetSize (one heavy user is never a fleet); then
 * base = 1 − 2^(−accounts / minFleetSize) (0.5 at the minimum, 0.75 at twice it, → 1), and young
 * accounts fill half of the remaining headroom in proportion to their share, since fleets are
 * usually freshly registered.
 */
export function sizeScore(accounts: number, youngShare: number, minFleetSize: number): number {
  if (accounts < minFleetSize || accounts < 1) return 0;
  const base = 1 - Math.pow(2, -accounts / Math.max(1, minFleetSize));
  return base + (1 - base) * 0.5 * clamp01(youngShare);
}

/**
 * Synchrony score from the Golomb–Rinzel chi, corrected for chance: independent members give
 * chi² ≈ 1/N, so (chi² − 1/N) / (1 − 1/N) is ≈ 0 for them and 1 for members in lockstep; the square
 * root puts it back on chi's scale. Fewer than 2 members → 0.
 */
export function synchronyScore(chi: number, members: number): number {
  if (members < 2) return 0;
  const chance = 1 / members;
  return Math.sqrt(clamp01((clamp01(chi) ** 2 - chance) / (1 - chance)));
}

/** Jensen–Shannon divergence at which the mix counts as fully unusual (a fleet on coding only vs a chat-heavy population ≈ 0.5). */
export const JS_SATURATION = 0.3;

/**
 * Targeting in [0, 1]: sqrt(lift × unusual), both needed. lift = how much of the non-high-value room
 * the fleet's high-value share took, (fleet − pop) / (1 − pop), 0 when not above the population;
 * unusual = min(1, JSD / JS_SATURATION). If everyone codes, coding is not targeting (JSD ≈ 0); an odd
 * mix on low-value capabilities is not targeting either (lift 0).
 */
export function targetingScore(jsDivergence: number, fleetHighValueShare: number, populationHighValueShare: number): number {
  const room = 1 - clamp01(populationHighValueShare);
  const lift = room > 0 ? clamp01((clamp01(fleetHighValueShare) - clamp01(populationHighValueShare)) / room) : 0;
  const unusual = clamp01(jsDivergence / JS_SATURATION);
  return Math.sqrt(lift * unusual);
}

export interface SeverityThresholds {
  warning: number;
  critical: number;
}

/** Severity of a score: critical at or above critical, warning at or above warning, else none. */
export function severityOf(score: number, thresholds: SeverityThresholds): Severity | null {
  if (score >= thresholds.critical) return 'critical';
  if (score >= thresholds.warning) return 'warning';
  return null;
}
