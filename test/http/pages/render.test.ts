import { readEvidence } from '../../../src/http/pages/evidence-data';
import { renderAlertPage } from '../../../src/http/pages/render';
import { heatmapOf, syntheticFleet } from './fixtures';

/** Rendering on data written straight into the store: hostile strings, expired windows, large fleets. */
describe('renderAlertPage', () => {
  it('escapes every attacker-chosen string: account ids, link values, the reason line', async () => {
    const evil = '"><script>alert(1)</script><svg onload=alert(2)>';
    const { config, store, alert } = await syntheticFleet({
      accounts: 12,
      accountId: (i) => `${evil}${i}`,
      link: { type: 'user_agent', value: `</style><script>alert(3)</script>` },
      lockstep: true,
    });
    const hostile = { ...alert, fleetId: evil, alertId: `al_${evil}` };
    const html = renderAlertPage({ config, alert: hostile, data: await readEvidence(store, config, hostile), enforcement: null, watermark: null });
    expect(html).not.toMatch(/<script|<svg onload|<\/style><script/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;/style&gt;&lt;script&gt;alert(3)');
    // the hostile members still drew their rows
    expect(heatmapOf(html).rows).toBe(12);
  });

  it('shows a notice instead of empty charts when the window has expired', async () => {
    const { config, store, alert } = await syntheticFleet({ accounts: 10, link: { type: 'payment', value: 'pm_1' }, lockstep: true });
    const old = { ...alert, windowStart: alert.windowStart - 30 * 86_400_000, windowEnd: alert.windowEnd - 30 * 86_400_000 };
    const html = renderAlertPage({ config, alert: old, data: await readEvidence(store, config, old), enforcement: null, watermark: null });
    expect(html).toContain('id="expired"');
    expect(html).not.toContain('chart heatmap');
    // the alert's own figures and reasons are still there
    expect(html).toContain('data-signal="synchrony"');
  });

  it('leaves the Grafana link out when no Grafana URL is configured, and never links a non-http URL', async () => {
    const { config, store, alert } = await syntheticFleet({ accounts: 10, link: { type: 'payment', value: 'pm_1' }, lockstep: true });
    const data = await readEvidence(store, config, alert);
    expect(renderAlertPage({ config, alert, data, enforcement: null, watermark: null })).not.toContain('Grafana dashboard');
    const bad = { ...config, alerts: { ...config.alerts, grafanaUrl: 'javascript:alert(1)', runbookUrl: 'javascript:alert(2)' } };
    const html = renderAlertPage({ config: bad, alert, data, enforcement: null, watermark: null });
    expect(html).not.toContain('javascript:');
  });
});
