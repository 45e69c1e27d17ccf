import {
  bandKeys,
  createSignature,
  EMPTY_SLOT,
  fmix32,
  fnv1aString,
  jaccardEstimate,
  updateSignature,
} from '../../src/detect/minhash';

/** Signature of the tokens "t<from>" … "t<to − 1>". */
function signatureOf(from: number, to: number, k = 128): Uint32Array {
  const sig = createSignature(k);
  for (let i = from; i < to; i++) updateSignature(sig, fnv1aString(`t${i}`));
  return sig;
}

function sharedKeys(a: string[], b: string[]): number {
  const set = new Set(a);
  return b.filter((k) => set.has(k)).length;
}

describe('hashing', () => {
  it('uses the standard FNV-1a and murmur3 finalizer', () => {
    // FNV-1a test vectors: "" → offset basis 0x811c9dc5, "a" → 0xe40c292c
    expect(fnv1aString('')).toBe(0x811c9dc5);
    expect(fnv1aString('a')).toBe(0xe40c292c);
    // fmix32 fixes 0 (every step maps 0 to 0) and is unsigned
    expect(fmix32(0)).toBe(0);
    expect(fmix32(-1)).toBeGreaterThanOrEqual(0);
  });
});

describe('MinHash signatures', () => {
  it('start empty and report whether a token changed them', () => {
    const sig = createSignature(16);
    expect(Array.from(sig).every((v) => v === EMPTY_SLOT)).toBe(true);
    expect(updateSignature(sig, 12345)).toBe(true);
    expect(updateSignature(sig, 12345)).toBe(false); // a set: adding again changes nothing
  });

  it('do not depend on the order tokens arrive in', () => {
    const forward = signatureOf(0, 50, 32);
    const backward = createSignature(32);
    for (let i = 49; i >= 0; i--) updateSignature(backward, fnv1aString(`t${i}`));
    expect(Array.from(backward)).toEqual(Array.from(forward));
  });

  it('reject sizes outside [1, 256]', () => {
    expect(() => createSignature(0)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => createSignature(257)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('jaccardEstimate', () => {
  it('estimates known overlaps within tolerance at k = 128', () => {
    // {0..299} vs {100..399}: |∩| = 200, |∪| = 400 → J = 0.5; sd of the estimate sqrt(.25/128) = 0.044
    expect(Math.abs(jaccardEstimate(signatureOf(0, 300), signatureOf(100, 400)) - 0.5)).toBeLessThan(0.13);
    // {0..149} vs {100..249}: |∩| = 50, |∪| = 250 → J = 0.2; sd sqrt(.16/128) = 0.035
    expect(Math.abs(jaccardEstimate(signatureOf(0, 150), signatureOf(100, 250)) - 0.2)).toBeLessThan(0.11);
    // {0..99} vs {10..99}: J = 90/100 = 0.9; sd sqrt(.09/128) = 0.027
    expect(Math.abs(jaccardEstimate(signatureOf(0, 100), signatureOf(10, 100)) - 0.9)).toBeLessThan(0.08);
  });

  it('is 1 for identical sets, 0 for disjoint sets and for the empty set', () => {
    expect(jaccardEstimate(signatureOf(0, 40), signatureOf(0, 40))).toBe(1);
    expect(jaccardEstimate(signatureOf(0, 40), signatureOf(1000, 1040))).toBe(0);
    expect(jaccardEstimate(createSignature(128), createSignature(128))).toBe(0);
  });

  it('refuses signatures of different sizes', () => {
    expect(() => jaccardEstimate(createSignature(8), createSignature(16))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('bandKeys', () => {
  it('gives one "b<band>:<8 hex>" key per band', () => {
    const keys = bandKeys(signatureOf(0, 20, 16), 4);
    expect(keys).toHaveLength(4);
    keys.forEach((k, b) => expect(k).toMatch(new RegExp(`^b${b}:[0-9a-f]{8}$`)));
  });

  it('gives identical sets identical keys and disjoint sets none in common', () => {
    expect(bandKeys(signatureOf(0, 60), 16)).toEqual(bandKeys(signatureOf(0, 60), 16));
    for (let trial = 0; trial < 20; trial++) {
      const a = signatureOf(trial * 1000, trial * 1000 + 30);
      const b = signatureOf(trial * 1000 + 500, trial * 1000 + 530);
      expect(sharedKeys(bandKeys(a, 16), bandKeys(b, 16))).toBe(0);
    }
  });

  it('keys a band only on its own rows', () => {
    // changing the last slot moves only the last band's key
    const sig = signatureOf(0, 20, 16);
    const before = bandKeys(sig, 4);
    sig[15] = 7;
    const after = bandKeys(sig, 4);
    expect(after.slice(0, 3)).toEqual(before.slice(0, 3));
    expect(after[3]).not.toBe(before[3]);
  });

  it('shares a key between near-identical sets far more often than between dissimilar ones', () => {
    // 16 slots, 4 bands of 4 rows: P(share ≥ 1 key) = 1 − (1 − J⁴)⁴
    //   J = 0.9 → 1 − (1 − 0.6561)⁴ = 0.986;  J = 0.2 → 1 − (1 − 0.0016)⁴ = 0.0064
    let near = 0;
    let far = 0;
    for (let trial = 0; trial < 50; trial++) {
      const base = trial * 1000;
      if (sharedKeys(bandKeys(signatureOf(base, base + 100, 16), 4), bandKeys(signatureOf(base + 10, base + 100, 16), 4)) > 0) near++;
      if (sharedKeys(bandKeys(signatureOf(base, base + 150, 16), 4), bandKeys(signatureOf(base + 100, base + 250, 16), 4)) > 0) far++;
    }
    expect(near).toBeGreaterThanOrEqual(45);
    expect(far).toBeLessThanOrEqual(3);
  });

  it('rejects more bands than slots', () => {
    expect(() => bandKeys(createSignature(4), 5)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
