import { LockstepError } from '../errors';
import { mulberry32 } from './stats';

/**
 * MinHash signatures and LSH band keys, allocation-free per token.
 *
 * A token is reduced once to a 32-bit hash; the k "hash functions" are then k fixed permutations of
 * the 32-bit space, x ↦ fmix32(x ⊕ seed_i) (murmur3's finalizer is a bijection, so each is a true
 * permutation and the minimum over a set is a uniform pick of one member). Seeds are fixed so
 * signatures are comparable across processes and restarts.
 */

/** Largest signature: matches the bound on detector.behavior.signatureSize. */
export const MAX_SIGNATURE_SIZE = 256;
/** Slot value of a signature that has seen no token. */
export const EMPTY_SLOT = 0xffffffff;

const PERMUTATION_SEEDS: Uint32Array = (() => {
  const rng = mulberry32(0x5eed1e57);
  const seeds = new Uint32Array(MAX_SIGNATURE_SIZE);
  for (let i = 0; i < seeds.length; i++) seeds[i] = Math.floor(rng() * 4294967296) >>> 0;
  return seeds;
})();

/** murmur3 32-bit finalizer: a bijective avalanche mix of a 32-bit integer. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit FNV-1a of a string, continuing from `seed` (default: the FNV offset basis). */
export function fnv1aString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Hash of a token made of integers (e.g. a string's hash and a time bucket), without building it. */
export function combineHash(h: number, n: number): number {
  return fmix32((h ^ Math.imul(n | 0, 0x9e3779b1)) + 0x7f4a7c15);
}

/** A signature of k slots, every slot empty. */
export function createSignature(k: number): Uint32Array {
  if (!(Number.isInteger(k) && k >= 1 && k <= MAX_SIGNATURE_SIZE)) {
    throw new LockstepError('CONFIG_INVALID', `signature size must be an integer in [1, ${MAX_SIGNATURE_SIZE}], got ${k}`, {
      field: 'detector.behavior.signatureSize',
    });
  }
  return new Uint32Array(k).fill(EMPTY_SLOT);
}

/** Back to the empty set, in place. */
export function resetSignature(sig: Uint32Array): void {
  sig.fill(EMPTY_SLOT);
}

/** Adds one token (by its 32-bit hash); returns whether any slot changed, so callers can cache. */
export function updateSignature(sig: Uint32Array, tokenHash: number): boolean {
  let changed = false;
  for (let i = 0; i < sig.length; i++) {
    const v = fmix32(tokenHash ^ PERMUTATION_SEEDS[i]);
    if (v < sig[i]) {
      sig[i] = v;
      changed = true;
    }
  }
  return changed;
}

function isEmpty(sig: Uint32Array): boolean {
  for (let i = 0; i < sig.length; i++) if (sig[i] !== EMPTY_SLOT) return false;
  return true;
}

/**
 * Estimated Jaccard similarity of the two sets: the share of slots where the minima agree.
 * An empty set is similar to nothing (0), not identical to another empty set.
 */
export function jaccardEstimate(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) {
    throw new LockstepError('CONFIG_INVALID', `signatures of different sizes (${a.length}, ${b.length}) cannot be compared`);
  }
  if (isEmpty(a) || isEmpty(b)) return 0;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Rows per band: floor(k / bands); leftover rows are not used by any band. */
export function rowsPerBand(signatureSize: number, bands: number): number {
  if (!(Number.isInteger(bands) && bands >= 1 && bands <= signatureSize)) {
    throw new LockstepError('CONFIG_INVALID', `bands must be an integer in [1, signatureSize=${signatureSize}], got ${bands}`, {
      field: 'detector.behavior.bands',
    });
  }
  return Math.floor(signatureSize / bands);
}

/**
 * LSH band keys: band b hashes slots [b·r, (b+1)·r) into "b<b>:<8 hex digits>". Two sets share band
 * b's key iff (up to hash collisions) their signatures agree on all r rows of it, which happens with
 * probability J^r; so they share at least one key with probability 1 − (1 − J^r)^bands.
 */
export function bandKeys(sig: Uint32Array, bands: number): string[] {
  const rows = rowsPerBand(sig.length, bands);
  const keys = new Array<string>(bands);
  for (let b = 0; b < bands; b++) {
    let h = combineHash(0x811c9dc5, b);
    for (let i = b * rows; i < (b + 1) * rows; i++) h = combineHash(h, sig[i]);
    keys[b] = `b${b}:${h.toString(16).padStart(8, '0')}`;
  }
  return keys;
}
