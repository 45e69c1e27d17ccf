import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Metrics } from '../../src/metrics/metrics';
import { allPanels, dashboardQueries, loadDashboard } from './dashboard-queries';
import { CHART_DIR, DASHBOARD_FILE, RULES_FILE, isRecord, metricNamesIn, readYamlFile, runOk, toolOnPath } from './tools';

/** Series names Prometheus would hold for lockstep: histograms expand to _bucket/_sum/_count. */
async function catalogue(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await new Metrics().registry.getMetricsAsJSON()) {
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    else names.add(m.name);
  }
  return names;
}

function recordingRules(): Set<string> {
  const doc = readYamlFile(RULES_FILE);
  const names = new Set<string>();
  for (const g of doc.groups as Array<{ rules: Array<{ record?: string }> }>) for (const r of g.rules) if (r.record) names.add(r.record);
  return names;
}

/** Every object under `node` that is a datasource reference. */
function datasourceRefs(node: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) node.forEach((n) => datasourceRefs(n, out));
  else if (isRecord(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'datasource') out.push(v);
      datasourceRefs(v, out);
    }
  }
  return out;
}

const dashboard = loadDashboard();
const panels = allPanels(dashboard).filter((p) => p.type !== 'row');
const queries = dashboardQueries(dashboard);

describe('Grafana dashboard lockstep-overview', () => {
  test('has the stable uid and a Prometheus datasource variable', () => {
    expect(dashboard.uid).toBe('lockstep-overview');
    const ds = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  test('every datasource reference is the ${datasource} variable, never a hard-coded uid', () => {
    const refs = datasourceRefs(dashboard);
    expect(refs.length).toBeGreaterThan(panels.length);
    for (const r of refs) expect(r).toEqual({ type: 'prometheus', uid: '${datasource}' });
    for (const p of panels) {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  test('panel ids and titles are unique and panels fit the 24-column grid', () => {
    const all = allPanels(dashboard);
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    expect(new Set(panels.map((p) => p.title)).size).toBe(panels.length);
    for (const p of all) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
  });

  test('has the panels on-call looks for', () => {
    const titles = panels.map((p) => p.title);
    for (const t of [
      'Throughput by result', 'Dead letters by reason', 'Consumer lag per partition', 'Watermark lag', 'Batch latency',
      'Redis round trips and commands', 'Redis commands per event', 'Fleets firing by severity and link type', 'Fleet alerts fired',
      'Fleet score distribution', 'Detector evaluation time', 'Alert sink queue depth', 'Alert sink deliveries, retries and drops',
      'Enforcement actions', 'Check endpoint decisions', 'Check endpoint latency',
    ]) expect(titles).toContain(t);
  });

  test('every query reads only metrics from src/metrics/metrics.ts (or recording rules, or up)', async () => {
    const known = await catalogue();
    for (const r of recordingRules()) known.add(r);
    known.add('up');
    for (const q of queries) {
      const names = metricNamesIn(q.raw);
      expect({ panel: q.panel, names: names.length > 0 }).toEqual({ panel: q.panel, names: true });
      for (const n of names) expect({ panel: q.panel, metric: n, known: known.has(n) }).toEqual({ panel: q.panel, metric: n, known: true });
    }
  });

  test('every lockstep metric (other than process defaults) has a panel', async () => {
    // a histogram counts as shown when its buckets are
    const used = new Set(queries.flatMap((q) => metricNamesIn(q.raw)));
    const missing = [...(await catalogue())]
      .filter((n) => !n.startsWith('lockstep_process_'))
      .filter((n) => !used.has(n) && !used.has(n.replace(/_(sum|count)$/, '_bucket')));
    expect(missing).toEqual([]);
  });

  test('every query is valid PromQL for promtool', () => {
    const promtool = toolOnPath('promtool');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-dash-'));
    try {
      const file = path.join(dir, 'queries.yml');
      const rules = queries.map((q, i) => `      - record: dashboard_query_${i}\n        expr: ${JSON.stringify(q.expr)}\n`).join('');
      fs.writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules}`);
      expect(runOk(promtool, ['check', 'rules', file])).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('deploy/grafana/lockstep-overview.json is the file the Helm chart ships', () => {
    expect(fs.realpathSync(DASHBOARD_FILE)).toBe(fs.realpathSync(path.join(CHART_DIR, 'files', 'lockstep-overview.json')));
  });
});
