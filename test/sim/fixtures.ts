import type { Scenario } from '../../src/sim/scenario';

/** Short scenario with every confounder kind and every fleet timing, for fast whole-pipeline checks. */
export const everyKind: Scenario = {
  name: 'every-kind',
  start: 1730851200000,
  duration: '2h',
  benign: { accounts: 400, medianRequestsPerDay: 20, rateSigma: 1.5 },
  confounders: [
    { kind: 'university_nat', id: 'campus', accounts: 60 },
    { kind: 'agent_framework_ua', id: 'agents', accounts: 80 },
    { kind: 'viral_surge', id: 'surge', start: '30m', end: '1h', factor: 2 },
    { kind: 'enterprise_cron', id: 'cron', accounts: 10 },
    { kind: 'ci_bots', id: 'bots', accounts: 10 },
  ],
  campaigns: [
    {
      id: 'sync', kind: 'sync-shared-ip', accounts: 12, start: '1h',
      share: { ip: 'shared', userAgent: 'shared', payment: 3 },
      timing: { mode: 'synchronized', burstEvery: '5m', burstLength: '30s' },
      requestsPerAccountPerHour: 60, capabilities: { coding: 0.7, agentic: 0.3 },
    },
    {
      id: 'jit', kind: 'rotated-ip-shared-template', accounts: 10, start: '40m', end: '1h40m',
      share: { promptTemplate: 'shared' },
      timing: { mode: 'jittered', burstEvery: '10m', burstLength: '1m', jitter: '2m' },
      requestsPerAccountPerHour: 30, capabilities: { coding: 1 },
    },
    {
      id: 'slow', kind: 'slow-and-low', accounts: 30, share: { asn: 'shared' },
      timing: { mode: 'steady' }, requestsPerAccountPerHour: 2, capabilities: { coding: 0.5, agentic: 0.5 },
    },
    {
      id: 'churn', kind: 'churn', accounts: 8, start: '30m', accountLifetime: '20m', accountAgeMin: '1m', accountAgeMax: '10m',
      timing: { mode: 'synchronized', burstEvery: '2m', burstLength: '20s' },
      requestsPerAccountPerHour: 90, capabilities: { coding: 0.8, chat: 0.2 },
    },
  ],
};
