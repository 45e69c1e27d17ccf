import { HEATMAP_MAX_ROWS, readEvidence } from '../../../src/http/pages/evidence-data';
import { renderAlertPage } from '../../../src/http/pages/render';
import { heatmapOf, syntheticFleet } from './fixtures';

/**
 * A 2,000-account fleet: the page samples its members and stays small. The render time is reported,
 * not asserted (team rule: no timed unit tests); the figure goes in docs/evidence-page.md.
 */
it('renders a 2,000-account fleet with a sampled heatmap and a bounded page', async () => {
  const { config, store, alert } = await syntheticFleet({ accounts: 2000, link: { type: 'ip_prefix', value: '203.0.113.0/24' }, lockstep: true });
  expect(alert.accountCount).toBe(2000);
  const times: number[] = [];
  let html = '';
  for (let i = 0; i < 7; i++) {
    const started = process.hrtime.bigint();
    const data = await readEvidence(store, config, alert);
    html = renderAlertPage({ config, alert, data, enforcement: null, watermark: null });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const h = heatmapOf(html);
  expect(h.rows).toBe(HEATMAP_MAX_ROWS);
  expect(h.cells).toBeLessThanOrEqual(HEATMAP_MAX_ROWS * 60);
  expect(Math.max(...h.activeShares)).toBe(1);
  expect(Buffer.byteLength(html)).toBeLessThan(600_000);
  const sorted = [...times].sort((a, b) => a - b);
  process.stdout.write(`evidence page, 2000-account fleet (${alert.accounts.length} listed): first ${times[0].toFixed(1)} ms, median ${sorted[3].toFixed(1)} ms, ${Math.round(Buffer.byteLength(html) / 1024)} KiB\n`);
});
