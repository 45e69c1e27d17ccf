import type { Scenario } from '../../src/sim/scenario';

const HOUR = 3_600_000;

/**
 * Event time of the e2e fleet scenario. Fixed, so that every run sees the same traffic: how a
 * behaviour-only fleet's bursts fall into the fingerprint's token buckets depends on where the
 * scenario starts, and with it how much of that fleet one band key names (measured over starts
 * across a few days: from none to five sixths; docs/detector-math.md).
 */
export const FLEET_SCENARIO_END = Date.UTC(2026, 0, 15, 4, 0);

/**
 * Three fleet kinds (shared IP; rotated IPs with a shared template; behaviour only) among benign
 * look-alikes (a university NAT, an agent framework's user agent, a global surge, the heavy tail of
 * the log-normal population), three hours ending an hour before `now`.
 */
export function fleetScenario(now: number = FLEET_SCENARIO_END): Scenario {
  const sync = { mode: 'synchronized', burstEvery: '5m', burstLength: '45s' };
  return {
    name: 'fleets-e2e',
    description: 'three fleet kinds among benign look-alikes',
    start: Math.floor((now - 4 * HOUR) / HOUR) * HOUR,
    duration: '3h',
    benign: { accounts: 1500, medianRequestsPerDay: 15, rateSigma: 1.6 },
    confounders: [
      { kind: 'university_nat', id: 'campus', accounts: 200 },
      { kind: 'agent_framework_ua', id: 'openagent-users', accounts: 400 },
      { kind: 'viral_surge', id: 'surge', start: '1h', end: '2h', factor: 3 },
    ],
    campaigns: [
      { id: 'shared-ip', kind: 'sync-shared-ip', accounts: 30, start: '1h30m', end: '3h', share: { ip: 'shared', asn: 'shared', userAgent: 'shared' }, timing: sync, requestsPerAccountPerHour: 60, capabilities: { coding: 0.7, agentic: 0.3 } },
      { id: 'rotated-template', kind: 'rotated-ip-shared-template', accounts: 25, start: '1h30m', end: '3h', share: { promptTemplate: 'shared', payment: 3 }, timing: { mode: 'jittered', burstEvery: '10m', burstLength: '1m', jitter: '2m' }, requestsPerAccountPerHour: 40, capabilities: { coding: 0.85, reasoning: 0.15 } },
      { id: 'behavior', kind: 'behavior-only', accounts: 30, start: '1h30m', end: '3h', timing: { mode: 'synchronized', burstEvery: '3m', burstLength: '30s' }, requestsPerAccountPerHour: 50, capabilities: { coding: 0.6, agentic: 0.4 } },
    ],
  } as unknown as Scenario;
}
