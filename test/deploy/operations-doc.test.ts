import fs from 'node:fs';
import path from 'node:path';
import { Metrics } from '../../src/metrics/metrics';
import { REPO_ROOT } from './tools';

const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');

describe('docs/operations.md', () => {
  test('the metrics table lists every lockstep metric with its type and labels', async () => {
    const m = new Metrics();
    const labelsOf = (name: string): string[] => {
      // prom-client metrics carry their label names as `labelNames`
      const metric = m.registry.getSingleMetric(name) as unknown as { labelNames?: string[] } | undefined;
      return metric?.labelNames ?? [];
    };
    const rows = new Map([...doc.matchAll(/^\| `(lockstep_[a-z_]+)` \| (\w+) \| ([^|]*) \|/gm)].map((r) => [r[1], { type: r[2], labels: r[3] }]));
    for (const metric of await m.registry.getMetricsAsJSON()) {
      if (metric.name.startsWith('lockstep_process_')) continue;
      const row = rows.get(metric.name);
      expect({ metric: metric.name, row: row ?? null }).toEqual({ metric: metric.name, row: expect.objectContaining({ type: String(metric.type) }) });
      const labels = [...(row?.labels ?? '').matchAll(/`([a-z_]+)`/g)].map((l) => l[1]);
      expect({ metric: metric.name, labels }).toEqual({ metric: metric.name, labels: labelsOf(metric.name) });
    }
  });
});
