import fs from 'node:fs';
import { DASHBOARD_FILE, isRecord } from './tools';

/**
 * Every PromQL query of the Grafana dashboard, for checks here and for end-to-end tests that run
 * them against a Prometheus scraping lockstep. Grafana variables are replaced by what Grafana would
 * send with "All" selected.
 */

export interface DashboardQuery {
  panel: string;
  refId: string;
  /** as written in the dashboard, with Grafana variables */
  raw: string;
  /** ready for the Prometheus HTTP API */
  expr: string;
}

export interface GrafanaTarget {
  refId: string;
  expr: string;
  datasource?: unknown;
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  datasource?: unknown;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  templating: { list: Array<Record<string, unknown> & { name: string; type: string }> };
  panels: GrafanaPanel[];
}

export function loadDashboard(file = DASHBOARD_FILE): GrafanaDashboard {
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!isRecord(parsed) || !Array.isArray(parsed.panels) || !isRecord(parsed.templating)) throw new Error(`${file} is not a Grafana dashboard`);
  return parsed as unknown as GrafanaDashboard;
}

/** Panels, with those nested in collapsed rows. */
export function allPanels(d: GrafanaDashboard): GrafanaPanel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export function substituteVariables(raw: string, rateInterval = '1m'): string {
  return raw
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, rateInterval)
    .replace(/\$__interval|\$\{__interval\}/g, rateInterval)
    .replace(/\$\{?(job|instance)\}?/g, '.+');
}

export function dashboardQueries(d: GrafanaDashboard = loadDashboard(), rateInterval = '1m'): DashboardQuery[] {
  return allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, raw: t.expr, expr: substituteVariables(t.expr, rateInterval) })));
}
