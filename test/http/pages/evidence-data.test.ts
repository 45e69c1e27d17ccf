import { HEATMAP_MAX_ROWS, MAX_LINKS_READ, evidenceWindow, readEvidence, sampleRanked } from '../../../src/http/pages/evidence-data';
import { syntheticFleet } from './fixtures';

describe('sampleRanked', () => {
  it('keeps every member of a small fleet, in order', () => {
    expect(sampleRanked(['a', 'b', 'c'], 60)).toEqual(['a', 'b', 'c']);
  });

  it('spreads a large fleet from the heaviest to the lightest, without repeats, the same every time', () => {
    const ranked = Array.from({ length: 2000 }, (_, i) => i);
    const s = sampleRanked(ranked, HEATMAP_MAX_ROWS);
    expect(s).toHaveLength(HEATMAP_MAX_ROWS);
    expect(s[0]).toBe(0);
    expect(s[s.length - 1]).toBe(1999);
    expect(new Set(s).size).toBe(s.length);
    expect(sampleRanked(ranked, HEATMAP_MAX_ROWS)).toEqual(s);
  });
});

describe('readEvidence', () => {
  it('reads the window the detector judged, at the evidence scale', async () => {
    const { config, store, alert } = await syntheticFleet({ accounts: 40, link: { type: 'payment', value: 'pm_1' }, lockstep: true });
    const w = evidenceWindow(config, alert);
    expect(w.first).toBe(alert.windowStart);
    expect(w.last + w.scale.bucketMs).toBe(alert.windowEnd);
    const d = await readEvidence(store, config, alert);
    expect(d.starts).toHaveLength(w.scale.buckets);
    // per-bucket totals add up to what the detector counted
    expect(d.fleetRate.reduce((a, b) => a + b, 0)).toBe(alert.evidence.size.requests);
    expect(d.rows).toHaveLength(40);
    expect(d.rows.every((r) => r.young && r.total > 0)).toBe(true);
    expect(d.links[0]).toMatchObject({ link: { type: 'payment', value: 'pm_1' }, listedOnLink: 40, distinctOnLink: 40 });
    // the baseline is only known after the first bucket, and is held through the "now"
    expect(d.baseline[0]).toBeNull();
    expect(d.baseline[d.baseline.length - 1]).toBe(d.baseline[d.recentFrom]);
    expect(d.hasData).toBe(true);
  });

  it('reads at most MAX_LINKS_READ links and marks the rest as not read', async () => {
    const { config, store, alert } = await syntheticFleet({ accounts: 10, link: { type: 'payment', value: 'pm_1' }, lockstep: true });
    const many = { ...alert, links: [alert.link, ...Array.from({ length: MAX_LINKS_READ + 3 }, (_, i) => ({ type: 'behavior' as const, value: `b${i}` }))] };
    const d = await readEvidence(store, config, many);
    expect(d.links).toHaveLength(MAX_LINKS_READ + 4);
    expect(d.links.filter((l) => l.listedOnLink === null)).toHaveLength(4);
    expect(d.links[0].listedOnLink).toBe(10);
  });

  it('says when the store no longer holds the window', async () => {
    const { config, store, alert } = await syntheticFleet({ accounts: 10, link: { type: 'payment', value: 'pm_1' }, lockstep: true });
    const old = { ...alert, windowStart: alert.windowStart - 30 * 86_400_000, windowEnd: alert.windowEnd - 30 * 86_400_000 };
    const d = await readEvidence(store, config, old);
    expect(d.hasData).toBe(false);
    expect(d.rows.every((r) => r.total === 0)).toBe(true);
  });
});
