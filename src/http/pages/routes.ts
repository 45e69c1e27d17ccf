import type { ServerResponse } from 'node:http';
import type { Config } from '../../config/config';
import type { AlertSource } from '../../alerts/source';
import type { WindowStore } from '../../windows/store';
import type { Router } from '../router';
import { readEvidence } from './evidence-data';
import { renderAlertList, renderAlertPage, renderNotFound, type EnforcementSummary } from './render';

/** What the evidence pages read; enforcement is optional (the part may be off). */
export interface EvidencePageDeps {
  config: Config;
  store: WindowStore;
  alerts: AlertSource;
  /** event time of the newest event ingested */
  watermark: () => number | null;
  enforcement?: (accountIds: string[]) => Promise<Map<string, { limited: boolean; dryRun: boolean }>>;
}

/** Pages draw no script and load nothing: the policy forbids both, so an injected tag could not run either. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'content-security-policy': PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
  res.end(html);
}

async function enforcementOf(deps: EvidencePageDeps, accounts: string[]): Promise<EnforcementSummary | null> {
  if (!deps.enforcement) return null;
  try {
    const state = await deps.enforcement(accounts);
    let limited = 0;
    let dryRun = false;
    for (const a of accounts) {
      const s = state.get(a);
      if (s?.limited) {
        limited++;
        if (s.dryRun) dryRun = true;
      }
    }
    return { listed: accounts.length, limited, dryRun };
  } catch {
    // the page is for deciding; a missing enforcement figure must not hide the evidence
    return 'unavailable';
  }
}

/** `GET /alerts` (list) and `GET /alerts/:alertId` (one alert's evidence), as HTML. */
export function registerEvidencePages(router: Router, deps: EvidencePageDeps): void {
  router
    .add('GET', '/alerts', ({ res }) => {
      sendHtml(res, 200, renderAlertList(deps.config, deps.alerts.list(), deps.watermark()));
    })
    .add('GET', '/alerts/:alertId', async ({ res, params }) => {
      const alert = deps.alerts.get(params.alertId);
      if (!alert) return sendHtml(res, 404, renderNotFound(params.alertId));
      const [data, enforcement] = await Promise.all([readEvidence(deps.store, deps.config, alert), enforcementOf(deps, alert.accounts)]);
      sendHtml(res, 200, renderAlertPage({ config: deps.config, alert, data, enforcement, watermark: deps.watermark() }));
    });
}
