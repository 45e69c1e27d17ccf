import type { RequestEvent } from '../events/request-event';
import type { SimAccount } from './account';
import { requestOf } from './account';
import type { EventStream } from './heap';
import { AliasTable, Rng, cumulativeOf, opaqueId } from './rng';
import type { PopulationKnobs } from './scenario';
import {
  CAPABILITIES, DAY_MS, HOUR_MS, Network, UNIVERSITY, benignCapabilityWeights, benignModel, benignUserAgent,
  cloudNetwork, ipIn, ipInPrefix, residentialNetwork,
} from './world';

/**
 * Independent accounts (the benign population, a university behind NAT, users of one agent
 * framework): each account is a Poisson process with its own log-normal rate, modulated by its
 * region's daily cycle and any global surge. A region is simulated as one thinned Poisson process
 * whose events are handed to accounts in proportion to their rates (alias table): O(1) per event
 * however many accounts there are.
 */

export interface Region {
  name: string;
  share: number;
  /** UTC hour of the daily peak */
  peakHourUtc: number;
}

export const REGIONS: readonly Region[] = [
  { name: 'americas', share: 0.45, peakHourUtc: 19 },
  { name: 'europe', share: 0.32, peakHourUtc: 13 },
  { name: 'asia', share: 0.23, peakHourUtc: 6 },
];

export interface Surge {
  start: number;
  end: number;
  factor: number;
}

export type PopulationFlavor =
  | { kind: 'benign' }
  | { kind: 'university_nat' }
  | { kind: 'agent_framework_ua'; userAgent: string };

export interface Population {
  id: string;
  accounts: SimAccount[];
  /** requests per ms, per account */
  rates: Float64Array;
  region: Uint8Array;
  amplitude: number;
}

const MAX_REQUESTS_PER_DAY = 20000;
const TEAM_SHARE = 0.3;
const OFFICE_SHARE = 0.5;
const FREE_TIER_SHARE = 0.1;
const CLOUD_SHARE = 0.25;
const NAT_POOL = 8;
const AGENT_TILT = [0.3, 0.45, 0.08, 0.06, 0.02, 0.02, 0.02, 0.05];

function accountCreated(rng: Rng, start: number, freshShare: number): number {
  if (rng.chance(freshShare)) return Math.floor(start - rng.uniform(HOUR_MS, 14 * DAY_MS));
  // log-uniform between a month and three years: most accounts are old
  return Math.floor(start - Math.exp(rng.uniform(Math.log(30 * DAY_MS), Math.log(3 * 365 * DAY_MS))));
}

export function buildPopulation(seed: number, id: string, knobs: PopulationKnobs, flavor: PopulationFlavor, start: number): Population {
  const rng = new Rng(seed, `population/${id}`);
  const n = knobs.accounts;
  const accounts: SimAccount[] = [];
  const rates = new Float64Array(n);
  const region = new Uint8Array(n);
  const regionCumulative = cumulativeOf(REGIONS.map((r) => r.share));
  const natPrefix = ipIn(UNIVERSITY, rng);
  const natPool = Array.from({ length: NAT_POOL }, () => ipInPrefix(natPrefix, rng));
  let team: { orgId: string; payment: string; office?: string; net: Network; left: number } | undefined;
  for (let i = 0; i < n; i++) {
    const accountId = opaqueId('acct_', seed, `${id}/${i}`);
    const perDay = Math.min(MAX_REQUESTS_PER_DAY, rng.logNormal(knobs.medianRequestsPerDay, knobs.rateSigma));
    rates[i] = perDay / DAY_MS;
    let orgId = opaqueId('org_', seed, `${id}/${i}`);
    let payment: string | undefined = rng.chance(FREE_TIER_SHARE) ? undefined : 'pm_' + rng.hex64();
    let net = rng.chance(CLOUD_SHARE) ? cloudNetwork(rng) : residentialNetwork(rng);
    let ip = ipIn(net, rng);
    if (flavor.kind === 'university_nat') {
      region[i] = 0;
      net = UNIVERSITY;
      ip = natPool[rng.int(NAT_POOL)];
    } else {
      region[i] = rng.pickCumulative(regionCumulative);
      if (rng.chance(TEAM_SHARE)) {
        if (!team || team.left === 0) {
          const teamNet = residentialNetwork(rng);
          team = {
            orgId: opaqueId('org_', seed, `${id}/team/${i}`), payment: 'pm_' + rng.hex64(), net: teamNet,
            office: rng.chance(OFFICE_SHARE) ? ipIn(teamNet, rng) : undefined, left: 1 + Math.round(rng.logNormal(4, 0.8)),
          };
        }
        team.left--;
        orgId = team.orgId;
        payment = team.payment;
        if (team.office !== undefined) {
          net = team.net;
          ip = ipInPrefix(team.office, rng);
        }
      }
    }
    const altIp = flavor.kind === 'university_nat' ? natPool[rng.int(NAT_POOL)] : rng.chance(0.5) ? ipInPrefix(ip, rng) : ipIn(residentialNetwork(rng), rng);
    const weights = benignCapabilityWeights(rng, flavor.kind === 'agent_framework_ua' ? AGENT_TILT : undefined);
    const templates = Array.from({ length: 1 + rng.int(4) }, () => rng.hex64());
    accounts.push({
      id: accountId,
      orgId,
      createdTs: accountCreated(rng, start, knobs.freshShare ?? (flavor.kind === 'university_nat' ? 0.25 : 0.08)),
      ip,
      altIp,
      asn: net.asn,
      userAgent: flavor.kind === 'agent_framework_ua' ? flavor.userAgent : benignUserAgent(rng),
      paymentFingerprint: payment,
      templates,
      popularTemplateShare: 0.25,
      capabilityNames: CAPABILITIES,
      capabilityCumulative: cumulativeOf(weights),
      model: benignModel(rng),
    });
  }
  return { id, accounts, rates, region, amplitude: knobs.dailyAmplitude ?? 0.6 };
}

/** One region of a population: a thinned Poisson process over [start, end). */
export class RegionStream implements EventStream {
  nextTs = Infinity;
  private readonly rng: Rng;
  private readonly members: SimAccount[] = [];
  private readonly pick: AliasTable | undefined;
  private readonly maxRate: number;
  private readonly maxFactor: number;
  private readonly peakMs: number;
  private t: number;

  constructor(
    seed: number,
    private readonly population: Population,
    regionIndex: number,
    start: number,
    private readonly end: number,
    private readonly surges: readonly Surge[],
  ) {
    this.rng = new Rng(seed, `population/${population.id}/region/${regionIndex}`);
    const weights: number[] = [];
    let total = 0;
    population.accounts.forEach((a, i) => {
      if (population.region[i] !== regionIndex) return;
      this.members.push(a);
      weights.push(population.rates[i]);
      total += population.rates[i];
    });
    this.peakMs = REGIONS[regionIndex].peakHourUtc * HOUR_MS;
    this.maxFactor = (1 + population.amplitude) * Math.max(1, ...surges.map((s) => s.factor));
    this.maxRate = total * this.maxFactor;
    this.t = start;
    this.pick = this.members.length > 0 ? new AliasTable(weights) : undefined;
    if (this.pick) this.advance();
  }

  take(): RequestEvent {
    const account = this.members[(this.pick as AliasTable).draw(this.rng)];
    const event = requestOf(account, this.nextTs, this.rng);
    this.advance();
    return event;
  }

  /** intensity relative to the mean at event time t */
  private factorAt(t: number): number {
    const phase = (2 * Math.PI * (((t - this.peakMs) % DAY_MS) + DAY_MS)) / DAY_MS;
    let f = 1 + this.population.amplitude * Math.cos(phase);
    for (const s of this.surges) if (t >= s.start && t < s.end) f *= s.factor;
    return f;
  }

  private advance(): void {
    for (;;) {
      this.t += this.rng.exponential(this.maxRate);
      if (this.t >= this.end) {
        this.nextTs = Infinity;
        return;
      }
      if (this.rng.next() * this.maxFactor < this.factorAt(this.t)) {
        this.nextTs = Math.floor(this.t);
        return;
      }
    }
  }
}

export function populationStreams(seed: number, population: Population, start: number, end: number, surges: readonly Surge[]): RegionStream[] {
  return REGIONS.map((_, r) => new RegionStream(seed, population, r, start, end, surges));
}
