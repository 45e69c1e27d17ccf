import type { RequestEvent } from '../events/request-event';
import type { PerRequestAttributes, SimAccount } from './account';
import { requestOf } from './account';
import type { EventStream } from './heap';
import { Rng, opaqueId } from './rng';
import { PER_REQUEST_ATTRIBUTES, type AttributeMode, type FleetAttribute, type FleetSpec, type FleetTiming } from './scenario';
import { durationMs } from './scenario';
import { HOUR_MS, Network, PROXY, benignModel, benignUserAgent, capabilityTable, cloudNetwork, ipIn, ipInPrefix, residentialNetwork } from './world';

/**
 * Coordinated accounts: campaigns, and benign fleets that look like them (an enterprise's cron
 * jobs, CI bots). A fleet has `accounts` slots; each slot is one stream. With churn a slot's
 * account lives `accountLifetime` and is replaced by a fresh one (new id, new rotated attributes).
 * Shared burst schedules are a function of the fleet seed, so slots agree without talking.
 */

/** A fleet spec with every default filled in and every duration in ms. */
export interface ResolvedFleet {
  id: string;
  accounts: number;
  start: number;
  end: number;
  share: Record<FleetAttribute, AttributeMode>;
  timing: { mode: FleetTiming['mode']; burstEvery: number; burstLength: number; jitter: number };
  requestsPerAccountPerHour: number;
  capabilities: Record<string, number>;
  accountLifetime?: number;
  accountAgeMin: number;
  accountAgeMax: number;
  model?: string;
  outputTokensMedian?: number;
  /** the value used when userAgent is shared */
  sharedUserAgent: string;
}

/** Resolve a spec's offsets against the scenario start and its defaults. */
export function resolveFleet(spec: FleetSpec, scenarioStart: number, scenarioEnd: number, sharedUserAgent = 'python-httpx/0.27.2'): ResolvedFleet {
  const t = spec.timing as Partial<Record<'burstEvery' | 'burstLength' | 'jitter', string | number>> & { mode: FleetTiming['mode'] };
  const share = { ip: 'rotated', asn: 'rotated', payment: 'rotated', promptTemplate: 'rotated', userAgent: 'rotated', org: 'rotated', ...spec.share } as Record<FleetAttribute, AttributeMode>;
  return {
    id: spec.id,
    accounts: spec.accounts,
    start: scenarioStart + (spec.start === undefined ? 0 : durationMs(spec.start)),
    end: spec.end === undefined ? scenarioEnd : scenarioStart + durationMs(spec.end),
    share,
    timing: {
      mode: t.mode,
      burstEvery: t.burstEvery === undefined ? HOUR_MS : durationMs(t.burstEvery),
      burstLength: t.burstLength === undefined ? 60000 : durationMs(t.burstLength),
      jitter: t.jitter === undefined ? 0 : durationMs(t.jitter),
    },
    requestsPerAccountPerHour: spec.requestsPerAccountPerHour,
    capabilities: spec.capabilities,
    accountLifetime: spec.accountLifetime === undefined ? undefined : durationMs(spec.accountLifetime),
    accountAgeMin: durationMs(spec.accountAgeMin ?? '10m'),
    accountAgeMax: durationMs(spec.accountAgeMax ?? '3d'),
    model: spec.model,
    outputTokensMedian: spec.outputTokensMedian,
    sharedUserAgent: spec.userAgent ?? sharedUserAgent,
  };
}

/** How an account's own value of an attribute is chosen (a per-request value starts from one). */
type AccountMode = Exclude<AttributeMode, 'per_request'>;

/** Values a fleet hands out to its accounts for one attribute. */
class AttributePool<T> {
  private readonly values: T[];
  constructor(
    private readonly mode: AccountMode,
    private readonly draw: (rng: Rng) => T,
    fleetRng: Rng,
  ) {
    this.values = mode === 'rotated' ? [] : Array.from({ length: mode === 'shared' ? 1 : mode }, () => draw(fleetRng));
  }
  /** `rng` is the account's own: rotated values never depend on the order accounts are created in */
  forAccount(rng: Rng): T {
    if (this.mode === 'rotated') return this.draw(rng);
    return this.values[this.values.length === 1 ? 0 : rng.int(this.values.length)];
  }
}

/** Builds one account per (slot, generation) from the fleet's pools. */
class FleetIdentities {
  private readonly rng: Rng;
  private readonly network: AttributePool<Network>;
  private readonly prefix: AttributePool<{ ip: string; asn: number }> | undefined;
  private readonly payment: AttributePool<string>;
  private readonly org: AttributePool<string>;
  private readonly userAgent: AttributePool<string>;
  private readonly template: AttributePool<string>;
  private readonly capabilities: { names: string[]; cumulative: Float64Array };
  private readonly perRequest: PerRequestAttributes | undefined;
  /** each account draws its own two templates (rotated, or per request before requests replace them) */
  private readonly ownTemplatePair: boolean;

  constructor(private readonly seed: number, private readonly fleet: ResolvedFleet) {
    this.rng = new Rng(seed, `fleet/${fleet.id}/identities`);
    // a value per request starts from an own value per account, which requests then replace
    const s = Object.fromEntries(Object.entries(fleet.share).map(([a, m]) => [a, m === 'per_request' ? 'rotated' : m])) as Record<FleetAttribute, AccountMode>;
    // a shared or pooled network is the operator's hosting (cloud or proxy); a rotated one looks residential
    const hosting = (rng: Rng): Network => (rng.chance(0.7) ? cloudNetwork(rng) : PROXY);
    this.network = new AttributePool<Network>(s.asn, s.asn === 'rotated' ? residentialNetwork : hosting, this.rng);
    // a shared prefix fixes the network too: the /24 belongs to one ASN
    this.prefix = s.ip === 'rotated' ? undefined : new AttributePool(s.ip, (rng) => {
      const net = this.network.forAccount(rng);
      return { ip: ipIn(net, rng), asn: net.asn };
    }, this.rng);
    this.payment = new AttributePool(s.payment, (rng) => 'pm_' + rng.hex64(), this.rng);
    this.org = new AttributePool(s.org, (rng) => 'org_' + rng.hex64().slice(2), this.rng);
    this.userAgent = new AttributePool(s.userAgent, (rng) => (s.userAgent === 'shared' ? fleet.sharedUserAgent : benignUserAgent(rng)), this.rng);
    this.template = new AttributePool(s.promptTemplate, (rng) => rng.hex64(), this.rng);
    this.ownTemplatePair = s.promptTemplate === 'rotated';
    this.capabilities = capabilityTable(fleet.capabilities);
    const perRequest = (a: FleetAttribute): boolean => fleet.share[a] === 'per_request';
    if (PER_REQUEST_ATTRIBUTES.some(perRequest)) this.perRequest = { ip: perRequest('ip'), userAgent: perRequest('userAgent'), promptTemplate: perRequest('promptTemplate') };
  }

  account(slot: number, generation: number, firstActive: number): SimAccount {
    const rng = new Rng(this.seed, `fleet/${this.fleet.id}/${slot}/${generation}`);
    let ip: string;
    let asn: number;
    if (this.prefix) {
      const prefix = this.prefix.forAccount(rng);
      ip = ipInPrefix(prefix.ip, rng);
      asn = prefix.asn;
    } else {
      const net = this.network.forAccount(rng);
      ip = ipIn(net, rng);
      asn = net.asn;
    }
    const ownTemplates = this.ownTemplatePair ? [rng.hex64(), rng.hex64()] : [this.template.forAccount(rng)];
    return {
      id: opaqueId('acct_', this.seed, `${this.fleet.id}/${slot}/${generation}`),
      orgId: this.org.forAccount(rng),
      createdTs: Math.floor(firstActive - rng.uniform(this.fleet.accountAgeMin, Math.max(this.fleet.accountAgeMin, this.fleet.accountAgeMax))),
      ip,
      altIp: this.prefix ? ipInPrefix(ip, rng) : ip,
      asn,
      userAgent: this.userAgent.forAccount(rng),
      paymentFingerprint: this.payment.forAccount(rng),
      templates: ownTemplates,
      popularTemplateShare: 0,
      capabilityNames: this.capabilities.names,
      capabilityCumulative: this.capabilities.cumulative,
      model: this.fleet.model ?? benignModel(rng),
      outputTokensMedian: this.fleet.outputTokensMedian,
      ...(this.perRequest ? { perRequest: this.perRequest } : {}),
    };
  }
}

/** One slot of a fleet: its accounts' requests, in time order. */
export class FleetSlotStream implements EventStream {
  nextTs = Infinity;
  /** timing draws only, so skipping requests (labels) leaves the schedule and the accounts unchanged */
  private readonly rng: Rng;
  /** what each request contains */
  private readonly contentRng: Rng;
  private readonly ratePerMs: number;
  /** churn phase: generation g lives [lifeOrigin + g*L, lifeOrigin + (g+1)*L) */
  private readonly lifeOrigin: number;
  private generation = -1;
  private account: SimAccount | undefined;
  private burst: number[] = [];
  private burstIndex = 0;
  private burstNumber = 0;
  private cursor: number;
  private lastTs: number;
  /** synchronized mode: this slot's fixed lag inside every burst */
  private readonly lag: number;

  constructor(
    private readonly fleet: ResolvedFleet,
    private readonly identities: FleetIdentities,
    seed: number,
    private readonly slot: number,
    /** shared by all slots: first burst time of synchronized/jittered schedules */
    private readonly phase: number,
  ) {
    this.rng = new Rng(seed, `fleet/${fleet.id}/slot/${slot}`);
    this.contentRng = new Rng(seed, `fleet/${fleet.id}/slot/${slot}/content`);
    this.ratePerMs = fleet.requestsPerAccountPerHour / HOUR_MS;
    this.lifeOrigin = fleet.accountLifetime === undefined ? fleet.start : fleet.start - this.rng.uniform(0, fleet.accountLifetime);
    this.lag = this.rng.uniform(0, 0.1 * fleet.timing.burstLength);
    this.cursor = fleet.start;
    this.lastTs = fleet.start;
    this.advance();
  }

  take(): RequestEvent {
    const event = requestOf(this.account as SimAccount, this.nextTs, this.contentRng);
    this.advance();
    return event;
  }

  /** moves past the pending request without building it */
  skip(): void {
    this.advance();
  }

  /** id of the account the slot uses now: labels collect these as the stream runs */
  get accountId(): string | undefined {
    return this.account?.id;
  }

  private generationOf(ts: number): number {
    return this.fleet.accountLifetime === undefined ? 0 : Math.floor((ts - this.lifeOrigin) / this.fleet.accountLifetime);
  }

  private advance(): void {
    let ts = this.nextCandidate();
    if (ts < this.lastTs) ts = this.lastTs; // overlapping bursts: keep the stream ordered
    if (ts >= this.fleet.end) {
      this.nextTs = Infinity;
      return;
    }
    const g = this.generationOf(ts);
    if (g !== this.generation) {
      this.generation = g;
      this.account = this.identities.account(this.slot, g, ts);
    }
    this.lastTs = ts;
    this.nextTs = Math.floor(ts);
  }

  private nextCandidate(): number {
    const timing = this.fleet.timing;
    if (timing.mode === 'steady') {
      this.cursor += this.rng.exponential(this.ratePerMs);
      return this.cursor;
    }
    while (this.burstIndex >= this.burst.length) {
      const burstStart = this.nextBurstStart();
      if (burstStart >= this.fleet.end) return Infinity;
      this.fillBurst(burstStart);
    }
    return this.burst[this.burstIndex++];
  }

  private nextBurstStart(): number {
    const timing = this.fleet.timing;
    if (timing.mode === 'independent_bursts') {
      this.cursor += this.rng.exponential(1 / timing.burstEvery);
      return this.cursor;
    }
    const t = this.phase + this.burstNumber++ * timing.burstEvery;
    return timing.mode === 'jittered' ? t + this.rng.uniform(0, timing.jitter) : t + this.lag;
  }

  private fillBurst(burstStart: number): void {
    const timing = this.fleet.timing;
    const mean = this.ratePerMs * timing.burstEvery;
    // stochastic rounding keeps the long-run rate exact when a burst holds a fraction of a request
    const n = Math.floor(mean) + (this.rng.chance(mean - Math.floor(mean)) ? 1 : 0);
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push(burstStart + this.rng.uniform(0, timing.burstLength));
    times.sort((a, b) => a - b);
    this.burst = times;
    this.burstIndex = 0;
    if (timing.mode === 'independent_bursts') this.cursor = burstStart + timing.burstLength;
  }
}

export function fleetStreams(seed: number, fleet: ResolvedFleet): FleetSlotStream[] {
  const identities = new FleetIdentities(seed, fleet);
  const phase = fleet.start + new Rng(seed, `fleet/${fleet.id}/phase`).uniform(0, Math.min(fleet.timing.burstEvery, fleet.end - fleet.start) / 4);
  return Array.from({ length: fleet.accounts }, (_, slot) => new FleetSlotStream(fleet, identities, seed, slot, phase));
}
