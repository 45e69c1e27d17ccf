import { WatermarkStalls } from '../../src/ingest/watermark-stalls';

describe('WatermarkStalls', () => {
  it('leaves out a partition whose watermark kept one value for stallMs, and takes it back when it moves', () => {
    const stalls = new WatermarkStalls(60_000);
    expect(stalls.lowest([['p0', 100], ['p1', 50]], 0)).toBe(50);
    expect(stalls.lowest([['p0', 200], ['p1', 50]], 59_999)).toBe(50);
    expect(stalls.lowest([['p0', 300], ['p1', 50]], 60_000)).toBe(300);
    expect(stalls.lowest([['p0', 400], ['p1', 70]], 61_000)).toBe(70);
  });

  it('takes the lowest of all when every partition stalled, and never leaves one out with stallMs 0', () => {
    const stalls = new WatermarkStalls(60_000);
    stalls.lowest([['p0', 100], ['p1', 50]], 0);
    expect(stalls.lowest([['p0', 100], ['p1', 50]], 120_000)).toBe(50);
    const never = new WatermarkStalls(0);
    never.lowest([['p0', 100], ['p1', 50]], 0);
    expect(never.lowest([['p0', 900], ['p1', 50]], 10_000_000)).toBe(50);
    expect(never.lowest([], 0)).toBeNull();
  });
});
