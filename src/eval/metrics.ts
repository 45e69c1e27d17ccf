import type { Alert } from '../alerts/alert';
import type { Labels } from '../sim/labels';

/** What eval needs of an alert message (the rest of the contract is not read). */
export type AlertMessage = Pick<Alert, 'alertId' | 'status' | 'accounts' | 'detectedAt'>;

export interface CampaignResult {
  id: string;
  kind: string;
  start: number;
  accounts: number;
  /** campaign accounts found in any firing alert */
  covered: number;
  coverage: number;
  caught: boolean;
  /** first firing message of a true alert that names one of its accounts, minus campaign start; caught campaigns only */
  timeToDetectMs: number | null;
}

export interface KindResult {
  kind: string;
  campaigns: number;
  caught: number;
  recall: number;
  accountRecall: number;
  timeToDetectP50Ms: number | null;
}

export interface ConfounderResult {
  id: string;
  kind: string;
  accounts: number;
  /** alerts at least half of whose accounts are this confounder's (viral_surge: false alerts first fired during it) */
  alerts: number;
  /** this confounder's accounts found in any firing alert */
  alertedAccounts: number;
}

export interface EvalReport {
  scenario: string;
  seed: number;
  simulatedDays: number;
  campaignRecall: number | null;
  campaignsCaught: number;
  campaigns: number;
  accountPrecision: number | null;
  accountRecall: number | null;
  campaignAccounts: number;
  alertedAccounts: number;
  alertedCampaignAccounts: number;
  alerts: number;
  trueAlerts: number;
  falseAlerts: number;
  falseAlertsPerDay: number;
  timeToDetectP50Ms: number | null;
  timeToDetectP90Ms: number | null;
  /** alerted accounts the labels do not know (counted as non-campaign) */
  unknownAccounts: number;
  perCampaign: CampaignResult[];
  perKind: KindResult[];
  perConfounder: ConfounderResult[];
}

const DAY_MS = 86400000;
/** a campaign is caught when alerts cover at least this share of its accounts */
export const CAUGHT_COVERAGE = 0.5;

/** nearest-rank percentile of already sorted values; null when empty */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

interface AlertUnion {
  accounts: Set<string>;
  firstDetectedAt: number;
  /** when each account first appeared in a firing message */
  firstSeen: Map<string, number>;
}

function unionByAlert(messages: Iterable<AlertMessage>): Map<string, AlertUnion> {
  const alerts = new Map<string, AlertUnion>();
  for (const m of messages) {
    if (m.status !== 'firing') continue;
    let a = alerts.get(m.alertId);
    if (!a) {
      a = { accounts: new Set(), firstDetectedAt: m.detectedAt, firstSeen: new Map() };
      alerts.set(m.alertId, a);
    }
    a.firstDetectedAt = Math.min(a.firstDetectedAt, m.detectedAt);
    for (const id of m.accounts) {
      a.accounts.add(id);
      const seen = a.firstSeen.get(id);
      if (seen === undefined || m.detectedAt < seen) a.firstSeen.set(id, m.detectedAt);
    }
  }
  return alerts;
}

const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

/** Scores alert messages against simulator labels. Definitions: docs/simulator.md#evaluation */
export function evaluate(labels: Labels, messages: Iterable<AlertMessage>): EvalReport {
  const alerts = unionByAlert(messages);
  const groupOf = (id: string): { label: string; group: string } | undefined => labels.accounts[id];
  const campaignAccounts = new Map<string, string[]>();
  for (const [id, l] of Object.entries(labels.accounts)) {
    if (l.label !== 'campaign') continue;
    const list = campaignAccounts.get(l.group) ?? [];
    list.push(id);
    campaignAccounts.set(l.group, list);
  }

  const alerted = new Set<string>();
  let unknown = 0;
  const isFalse = new Map<string, boolean>();
  for (const [alertId, a] of alerts) {
    let campaign = 0;
    for (const id of a.accounts) {
      const l = groupOf(id);
      if (l === undefined && !alerted.has(id)) unknown++;
      alerted.add(id);
      if (l?.label === 'campaign') campaign++;
    }
    isFalse.set(alertId, a.accounts.size - campaign > campaign);
  }

  const perCampaign: CampaignResult[] = labels.campaigns.map((c) => {
    const members = campaignAccounts.get(c.id) ?? [];
    const covered = members.filter((id) => alerted.has(id)).length;
    const coverage = members.length === 0 ? 0 : covered / members.length;
    const caught = members.length > 0 && coverage >= CAUGHT_COVERAGE;
    let first = Infinity;
    if (caught) {
      for (const [alertId, a] of alerts) {
        if (isFalse.get(alertId)) continue;
        for (const id of members) {
          const seen = a.firstSeen.get(id);
          if (seen !== undefined && seen < first) first = seen;
        }
      }
    }
    return { id: c.id, kind: c.kind, start: c.start, accounts: members.length, covered, coverage, caught, timeToDetectMs: first === Infinity ? null : first - c.start };
  });

  const kinds = [...new Set(perCampaign.map((c) => c.kind))];
  const perKind: KindResult[] = kinds.map((kind) => {
    const cs = perCampaign.filter((c) => c.kind === kind);
    const ttd = cs.map((c) => c.timeToDetectMs).filter((t): t is number => t !== null).sort((a, b) => a - b);
    const accounts = cs.reduce((s, c) => s + c.accounts, 0);
    return {
      kind,
      campaigns: cs.length,
      caught: cs.filter((c) => c.caught).length,
      recall: cs.filter((c) => c.caught).length / cs.length,
      accountRecall: accounts === 0 ? 0 : cs.reduce((s, c) => s + c.covered, 0) / accounts,
      timeToDetectP50Ms: percentile(ttd, 0.5),
    };
  });

  const perConfounder: ConfounderResult[] = labels.confounders.map((c) => {
    let count = 0;
    for (const [alertId, a] of alerts) {
      if (c.start !== undefined && c.end !== undefined && c.accounts === 0) {
        if (isFalse.get(alertId) && a.firstDetectedAt >= c.start && a.firstDetectedAt < c.end) count++;
        continue;
      }
      let mine = 0;
      for (const id of a.accounts) if (groupOf(id)?.group === c.id) mine++;
      if (mine > 0 && mine * 2 >= a.accounts.size) count++;
    }
    let alertedAccounts = 0;
    for (const id of alerted) if (groupOf(id)?.group === c.id) alertedAccounts++;
    return { id: c.id, kind: c.kind, accounts: c.accounts, alerts: count, alertedAccounts };
  });

  const totalCampaignAccounts = [...campaignAccounts.values()].reduce((s, l) => s + l.length, 0);
  let alertedCampaign = 0;
  for (const id of alerted) if (groupOf(id)?.label === 'campaign') alertedCampaign++;
  const falseAlerts = [...isFalse.values()].filter(Boolean).length;
  const days = (labels.end - labels.start) / DAY_MS;
  const ttd = perCampaign.map((c) => c.timeToDetectMs).filter((t): t is number => t !== null).sort((a, b) => a - b);
  const caught = perCampaign.filter((c) => c.caught).length;
  return {
    scenario: labels.scenario,
    seed: labels.seed,
    simulatedDays: days,
    campaignRecall: ratio(caught, perCampaign.length),
    campaignsCaught: caught,
    campaigns: perCampaign.length,
    accountPrecision: ratio(alertedCampaign, alerted.size),
    accountRecall: ratio(alertedCampaign, totalCampaignAccounts),
    campaignAccounts: totalCampaignAccounts,
    alertedAccounts: alerted.size,
    alertedCampaignAccounts: alertedCampaign,
    alerts: alerts.size,
    trueAlerts: alerts.size - falseAlerts,
    falseAlerts,
    falseAlertsPerDay: days > 0 ? falseAlerts / days : 0,
    timeToDetectP50Ms: percentile(ttd, 0.5),
    timeToDetectP90Ms: percentile(ttd, 0.9),
    unknownAccounts: unknown,
    perCampaign,
    perKind,
    perConfounder,
  };
}
