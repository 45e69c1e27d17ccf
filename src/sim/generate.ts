import type { RequestEvent } from '../events/request-event';
import type { ResolvedFleet } from './fleet';
import { fleetStreams, resolveFleet } from './fleet';
import type { EventStream } from './heap';
import { mergeStreams } from './heap';
import type { AccountLabel, Labels } from './labels';
import type { Population, Surge } from './population';
import { buildPopulation, populationStreams } from './population';
import type { ConfounderSpec, FleetConfounderKind, FleetSpec, Scenario } from './scenario';
import { durationMs } from './scenario';

/** The default shape of the benign fleets, so a scenario only says how many accounts and anything it changes. */
const ENTERPRISE_CRON_DEFAULTS: Omit<FleetSpec, 'id' | 'accounts'> = {
  share: { ip: 2, asn: 'shared', payment: 'shared', org: 'shared', userAgent: 'shared', promptTemplate: 4 },
  timing: { mode: 'synchronized', burstEvery: '15m', burstLength: '40s' },
  requestsPerAccountPerHour: 16,
  capabilities: { coding: 0.9, reasoning: 0.1 },
  accountAgeMin: '120d',
  accountAgeMax: '700d',
};
const CI_BOTS_DEFAULTS: Omit<FleetSpec, 'id' | 'accounts'> = {
  share: { asn: 'shared', userAgent: 'shared', promptTemplate: 'shared' },
  timing: { mode: 'independent_bursts', burstEvery: '2h', burstLength: '4m' },
  requestsPerAccountPerHour: 10,
  capabilities: { coding: 0.8, reasoning: 0.2 },
  accountAgeMin: '30d',
  accountAgeMax: '400d',
};
/**
 * Apps that relay their users' requests from the users' devices (a coding assistant in the browser,
 * a mobile app): each app its own org, card and system prompts, but every request from another
 * residential address and browser. They rotate addresses and client strings as a proxy-pool fleet
 * does, at a steady rate, and meet on the "(rotating)" keys with it.
 */
const DEVICE_APPS_DEFAULTS: Omit<FleetSpec, 'id' | 'accounts'> = {
  share: { ip: 'per_request', userAgent: 'per_request', asn: 'rotated', payment: 'rotated', org: 'rotated', promptTemplate: 'rotated' },
  timing: { mode: 'steady' },
  requestsPerAccountPerHour: 30,
  capabilities: { coding: 0.6, chat: 0.3, reasoning: 0.1 },
  accountAgeMin: '60d',
  accountAgeMax: '900d',
};
const FLEET_CONFOUNDER_DEFAULTS: Record<FleetConfounderKind, Omit<FleetSpec, 'id' | 'accounts'>> = {
  enterprise_cron: ENTERPRISE_CRON_DEFAULTS,
  ci_bots: CI_BOTS_DEFAULTS,
  device_apps: DEVICE_APPS_DEFAULTS,
};
const CONFOUNDER_USER_AGENT: Partial<Record<ConfounderSpec['kind'], string>> = {
  enterprise_cron: 'acme-build-tools/2024.11 python-httpx/0.27.0',
  ci_bots: 'ci-review-bot/3.2.0',
};
const AGENT_FRAMEWORK_UA = 'openagent-kit/0.9.3 (+https://openagent.dev)';

interface Plan {
  start: number;
  end: number;
  populations: { population: Population; label: AccountLabel; group: string; confounderKind?: string }[];
  fleets: { fleet: ResolvedFleet; label: AccountLabel; kind: string }[];
  surges: (Surge & { id: string })[];
}

/** Resolves a scenario into concrete populations and fleets; pure in (scenario, seed). */
function plan(scenario: Scenario, seed: number): Plan {
  const start = scenario.start;
  const end = start + durationMs(scenario.duration);
  const out: Plan = { start, end, populations: [], fleets: [], surges: [] };
  out.populations.push({ population: buildPopulation(seed, 'benign', scenario.benign, { kind: 'benign' }, start), label: 'benign', group: 'benign' });
  for (const c of scenario.confounders ?? []) {
    switch (c.kind) {
      case 'university_nat': {
        const knobs = { medianRequestsPerDay: 8, rateSigma: 1.2, ...c };
        out.populations.push({ population: buildPopulation(seed, c.id, knobs, { kind: c.kind }, start), label: 'confounder', group: c.id, confounderKind: c.kind });
        break;
      }
      case 'agent_framework_ua': {
        const knobs = { medianRequestsPerDay: scenario.benign.medianRequestsPerDay, rateSigma: scenario.benign.rateSigma, ...c };
        const flavor = { kind: c.kind, userAgent: c.userAgent ?? AGENT_FRAMEWORK_UA } as const;
        out.populations.push({ population: buildPopulation(seed, c.id, knobs, flavor, start), label: 'confounder', group: c.id, confounderKind: c.kind });
        break;
      }
      case 'viral_surge':
        out.surges.push({ id: c.id, start: start + durationMs(c.start), end: start + durationMs(c.end), factor: c.factor });
        break;
      case 'enterprise_cron':
      case 'ci_bots':
      case 'device_apps': {
        const { kind, ...rest } = c;
        const spec = { ...FLEET_CONFOUNDER_DEFAULTS[kind], ...rest } as FleetSpec;
        out.fleets.push({ fleet: resolveFleet(spec, start, end, CONFOUNDER_USER_AGENT[kind]), label: 'confounder', kind });
        break;
      }
    }
  }
  for (const c of scenario.campaigns ?? []) out.fleets.push({ fleet: resolveFleet(c, start, end), label: 'campaign', kind: c.kind });
  return out;
}

function streamsOf(p: Plan, seed: number): EventStream[] {
  const streams: EventStream[] = [];
  for (const { population } of p.populations) streams.push(...populationStreams(seed, population, p.start, p.end, p.surges));
  for (const { fleet } of p.fleets) streams.push(...fleetStreams(seed, fleet));
  return streams;
}

/**
 * Every request of the scenario in event-time order (ties in a fixed order): the same
 * (scenario, seed) always yields the same events, whatever the host or the wall clock.
 */
export function* generateEvents(scenario: Scenario, seed: number): Generator<RequestEvent> {
  yield* mergeStreams(streamsOf(plan(scenario, seed), seed));
}

/**
 * Ground truth for (scenario, seed). Fleet accounts are listed only if they send at least one
 * request (churned accounts that never got to act are not there); this replays the fleets' own
 * streams, which are a small part of the traffic.
 */
export function labelsOf(scenario: Scenario, seed: number): Labels {
  const p = plan(scenario, seed);
  const labels: Labels = { scenario: scenario.name, seed, start: p.start, end: p.end, accounts: {}, campaigns: [], confounders: [] };
  for (const { population, label, group } of p.populations) {
    for (const a of population.accounts) labels.accounts[a.id] = { label, group };
  }
  const confounderOrder = new Map((scenario.confounders ?? []).map((c, i) => [c.id, i]));
  const confounders: (Labels['confounders'][number] & { order: number })[] = [];
  for (const { population, group, confounderKind } of p.populations) {
    if (confounderKind) confounders.push({ id: group, kind: confounderKind, accounts: population.accounts.length, order: confounderOrder.get(group) ?? 0 });
  }
  for (const s of p.surges) confounders.push({ id: s.id, kind: 'viral_surge', accounts: 0, start: s.start, end: s.end, order: confounderOrder.get(s.id) ?? 0 });
  for (const { fleet, label, kind } of p.fleets) {
    const ids = new Set<string>();
    for (const stream of fleetStreams(seed, fleet)) {
      while (stream.nextTs !== Infinity) {
        const id = stream.accountId;
        if (id !== undefined) ids.add(id);
        stream.skip();
      }
    }
    for (const id of ids) labels.accounts[id] = { label, group: fleet.id };
    if (label === 'campaign') labels.campaigns.push({ id: fleet.id, kind, start: fleet.start, end: fleet.end, accounts: ids.size });
    else confounders.push({ id: fleet.id, kind, accounts: ids.size, order: confounderOrder.get(fleet.id) ?? 0 });
  }
  labels.confounders = confounders.sort((a, b) => a.order - b.order).map(({ order: _order, ...c }) => c);
  return labels;
}
