import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { LockstepError } from '../errors';

/**
 * A scenario: everything the simulator generates, as JSON. Times inside a scenario are offsets from
 * `start` (a fixed epoch ms, never the wall clock), written as ms or as "90s", "15m", "2h", "1.5d".
 */
export type Duration = number | string;

/**
 * How a fleet's accounts get an attribute: one value, each its own, N values spread over them, or a
 * new value on every request (ip, userAgent and promptTemplate only: a residential proxy pool, a
 * spoofed browser string, a prompt with per-request boilerplate).
 */
export type AttributeMode = 'shared' | 'rotated' | 'per_request' | number;

/** The attributes a request can change by itself; the others belong to the account. */
export const PER_REQUEST_ATTRIBUTES: readonly FleetAttribute[] = ['ip', 'userAgent', 'promptTemplate'];

export const FLEET_ATTRIBUTES = ['ip', 'asn', 'payment', 'promptTemplate', 'userAgent', 'org'] as const;
export type FleetAttribute = (typeof FLEET_ATTRIBUTES)[number];

export type FleetTiming =
  /** all accounts request together: bursts every `burstEvery`, each account inside `burstLength` */
  | { mode: 'synchronized'; burstEvery: Duration; burstLength: Duration }
  /** same schedule, but each account starts each burst up to `jitter` late */
  | { mode: 'jittered'; burstEvery: Duration; burstLength: Duration; jitter: Duration }
  /** each account independently, Poisson: slow-and-low */
  | { mode: 'steady' }
  /** each account runs its own bursts at Poisson times, mean `burstEvery` apart (CI jobs) */
  | { mode: 'independent_bursts'; burstEvery: Duration; burstLength: Duration };

/** Knobs shared by campaigns and by fleet-like confounders (enterprise cron, CI bots, device apps). */
export interface FleetSpec {
  id: string;
  accounts: number;
  /** offset from scenario start; default 0 */
  start?: Duration;
  /** offset from scenario start; default the scenario's end */
  end?: Duration;
  /** per attribute; default 'rotated' (looks like independent benign accounts) */
  share?: Partial<Record<FleetAttribute, AttributeMode>>;
  timing: FleetTiming;
  requestsPerAccountPerHour: number;
  /** capability -> weight */
  capabilities: Record<string, number>;
  /** churn: each account lives this long and is replaced by a fresh one */
  accountLifetime?: Duration;
  /** accounts were created up to this long before they first act; default "3d" */
  accountAgeMax?: Duration;
  /** minimum age; default "10m" */
  accountAgeMin?: Duration;
  model?: string;
  /** the value every account sends when userAgent is "shared" */
  userAgent?: string;
  /** median output tokens; distillation wants long answers */
  outputTokensMedian?: number;
}

export interface CampaignSpec extends FleetSpec {
  /** free-form class for the per-kind breakdown, e.g. "sync-shared-ip" */
  kind: string;
}

export interface PopulationKnobs {
  accounts: number;
  /** median of the per-account log-normal rate */
  medianRequestsPerDay: number;
  /** log-space sigma of the per-account rate: the heavy tail */
  rateSigma: number;
  /** share of accounts created in the last two weeks */
  freshShare?: number;
  /** peak-to-mean swing of the daily cycle, in [0, 1) */
  dailyAmplitude?: number;
}

/** Confounders built as fleets (with a fleet's knobs to override their defaults) rather than populations. */
export const FLEET_CONFOUNDER_KINDS = ['enterprise_cron', 'ci_bots', 'device_apps'] as const;
export type FleetConfounderKind = (typeof FLEET_CONFOUNDER_KINDS)[number];

export type ConfounderSpec =
  | ({ kind: 'university_nat'; id: string } & Partial<PopulationKnobs> & { accounts: number })
  | ({ kind: 'agent_framework_ua'; id: string; userAgent?: string } & Partial<PopulationKnobs> & { accounts: number })
  | { kind: 'viral_surge'; id: string; start: Duration; end: Duration; factor: number }
  | ({ kind: FleetConfounderKind } & Partial<FleetSpec> & { id: string; accounts: number });

export type ConfounderKind = ConfounderSpec['kind'];

export interface Scenario {
  name: string;
  description?: string;
  /** epoch ms of the first instant simulated */
  start: number;
  duration: Duration;
  benign: PopulationKnobs;
  confounders?: ConfounderSpec[];
  campaigns?: CampaignSpec[];
}

const durationSchema = { anyOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$' }] };
const modeSchema = { anyOf: [{ enum: ['shared', 'rotated', 'per_request'] }, { type: 'integer', minimum: 1 }] };
const fleetProps = {
  id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
  kind: { type: 'string', minLength: 1, maxLength: 64 },
  accounts: { type: 'integer', minimum: 1, maximum: 100000 },
  start: durationSchema,
  end: durationSchema,
  share: { type: 'object', additionalProperties: false, properties: Object.fromEntries(FLEET_ATTRIBUTES.map((a) => [a, modeSchema])) },
  timing: {
    type: 'object', required: ['mode'],
    properties: {
      mode: { enum: ['synchronized', 'jittered', 'steady', 'independent_bursts'] },
      burstEvery: durationSchema, burstLength: durationSchema, jitter: durationSchema,
    },
    additionalProperties: false,
  },
  requestsPerAccountPerHour: { type: 'number', exclusiveMinimum: 0, maximum: 100000 },
  capabilities: { type: 'object', minProperties: 1, additionalProperties: { type: 'number', minimum: 0 } },
  accountLifetime: durationSchema,
  accountAgeMax: durationSchema,
  accountAgeMin: durationSchema,
  model: { type: 'string', minLength: 1 },
  userAgent: { type: 'string', minLength: 1, maxLength: 256 },
  outputTokensMedian: { type: 'number', exclusiveMinimum: 0 },
};
const populationProps = {
  accounts: { type: 'integer', minimum: 1, maximum: 1000000 },
  medianRequestsPerDay: { type: 'number', exclusiveMinimum: 0 },
  rateSigma: { type: 'number', minimum: 0, maximum: 4 },
  freshShare: { type: 'number', minimum: 0, maximum: 1 },
  dailyAmplitude: { type: 'number', minimum: 0, maximum: 0.95 },
};
const id = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' };

export const scenarioSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'start', 'duration', 'benign'],
  properties: {
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    start: { type: 'integer', minimum: 0 },
    duration: durationSchema,
    benign: { type: 'object', additionalProperties: false, required: ['accounts', 'medianRequestsPerDay', 'rateSigma'], properties: populationProps },
    confounders: {
      type: 'array',
      items: {
        type: 'object', required: ['kind', 'id'],
        properties: { kind: { enum: ['university_nat', 'agent_framework_ua', 'viral_surge', ...FLEET_CONFOUNDER_KINDS] } },
        allOf: [
          { if: { properties: { kind: { enum: ['university_nat', 'agent_framework_ua'] } } },
            then: { additionalProperties: false, required: ['accounts'], properties: { ...populationProps, kind: {}, id, userAgent: { type: 'string', minLength: 1 } } } },
          { if: { properties: { kind: { const: 'viral_surge' } } },
            then: { additionalProperties: false, required: ['start', 'end', 'factor'], properties: { kind: {}, id, start: durationSchema, end: durationSchema, factor: { type: 'number', exclusiveMinimum: 0, maximum: 100 } } } },
          { if: { properties: { kind: { enum: FLEET_CONFOUNDER_KINDS } } },
            then: { additionalProperties: false, required: ['accounts'], properties: fleetProps } },
        ],
      },
    },
    campaigns: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['id', 'kind', 'accounts', 'timing', 'requestsPerAccountPerHour', 'capabilities'], properties: fleetProps },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: false });
const validate = ajv.compile(scenarioSchema);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };

/** ms, or a string of number+unit parts: "90s", "1h30m", "1.5d" (units ms, s, m, h, d) */
export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d;
  if (!/^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$/.test(d)) throw new LockstepError('CONFIG_INVALID', `invalid duration "${d}" (use ms or e.g. "90s", "1h30m", "1d")`);
  let total = 0;
  for (const m of d.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return Math.round(total);
}

function invalid(field: string, what: string): LockstepError {
  return new LockstepError('CONFIG_INVALID', `invalid scenario: ${field} ${what}`, { field });
}

/** Checks a parsed scenario (schema, ids unique, times inside the scenario); throws CONFIG_INVALID naming the field. */
export function validateScenario(raw: unknown): Scenario {
  if (!validate(raw)) {
    const err = validate.errors?.[0];
    const at = (err?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') || '(root)';
    const extra = err?.keyword === 'additionalProperties' ? ` has unknown field "${String((err.params as { additionalProperty?: string }).additionalProperty)}"`
      : err?.keyword === 'required' ? ` lacks "${String((err.params as { missingProperty?: string }).missingProperty)}"`
      : (FLEET_ATTRIBUTES as readonly string[]).includes(at.split('.').pop() ?? '') ? ' must be "shared", "rotated", "per_request" or a pool size (integer >= 1)'
      : err?.schemaPath.includes('/anyOf/') ? ' must be a duration: ms, or e.g. "90s", "1h30m", "1d"'
      : ` ${err?.message ?? 'is invalid'}`;
    throw invalid(at, extra.trim());
  }
  const scenario = raw as unknown as Scenario;
  const duration = durationMs(scenario.duration);
  if (duration <= 0) throw invalid('duration', 'must be positive');
  const seen = new Set<string>();
  const groups: { id: string; start?: Duration; end?: Duration; where: string }[] = [
    ...(scenario.confounders ?? []).map((c, i) => ({ id: c.id, start: 'start' in c ? c.start : undefined, end: 'end' in c ? c.end : undefined, where: `confounders.${i}` })),
    ...(scenario.campaigns ?? []).map((c, i) => ({ id: c.id, start: c.start, end: c.end, where: `campaigns.${i}` })),
  ];
  for (const g of groups) {
    if (g.id === 'benign' || seen.has(g.id)) throw invalid(`${g.where}.id`, `"${g.id}" is used twice (or is reserved)`);
    seen.add(g.id);
    const s = g.start === undefined ? 0 : durationMs(g.start);
    const e = g.end === undefined ? duration : durationMs(g.end);
    if (!(s < e) || e > duration) throw invalid(`${g.where}`, 'must have start < end <= scenario duration');
  }
  (scenario.campaigns ?? []).forEach((c, i) => checkFleet(c, `campaigns.${i}`));
  (scenario.confounders ?? []).forEach((c, i) => {
    if (isFleetConfounder(c)) checkFleet(c, `confounders.${i}`);
  });
  return scenario;
}

function isFleetConfounder(c: ConfounderSpec): c is Extract<ConfounderSpec, { kind: FleetConfounderKind }> {
  return (FLEET_CONFOUNDER_KINDS as readonly string[]).includes(c.kind);
}

function checkFleet(f: Partial<FleetSpec>, where: string): void {
  const t = f.timing;
  if (t && t.mode !== 'steady') {
    if (t.burstEvery === undefined || t.burstLength === undefined) throw invalid(`${where}.timing`, `mode ${t.mode} needs burstEvery and burstLength`);
    if (durationMs(t.burstEvery) <= 0 || durationMs(t.burstLength) <= 0) throw invalid(`${where}.timing`, 'burstEvery and burstLength must be positive');
    if (t.mode === 'jittered' && t.jitter === undefined) throw invalid(`${where}.timing`, 'mode jittered needs jitter');
  }
  if (f.capabilities && Object.values(f.capabilities).every((w) => w === 0)) throw invalid(`${where}.capabilities`, 'needs a positive weight');
  if (f.accountLifetime !== undefined && durationMs(f.accountLifetime) < 60000) throw invalid(`${where}.accountLifetime`, 'must be at least 1m');
  for (const [attribute, mode] of Object.entries(f.share ?? {})) {
    if (mode === 'per_request' && !PER_REQUEST_ATTRIBUTES.includes(attribute as FleetAttribute)) {
      throw invalid(`${where}.share.${attribute}`, `cannot change per request (the account's own): "per_request" is for ${PER_REQUEST_ATTRIBUTES.join(', ')}`);
    }
  }
}

/** Directories searched for named scenarios: the repo's test/scenarios from src/ (ts) and from dist/src (built). */
export function scenarioDirs(): string[] {
  return [path.resolve(__dirname, '..', '..', 'test', 'scenarios'), path.resolve(__dirname, '..', '..', '..', 'test', 'scenarios')];
}

export function listScenarioNames(): string[] {
  const names = new Set<string>();
  for (const dir of scenarioDirs()) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.json')) names.add(f.slice(0, -5));
  }
  return [...names].sort();
}

/** A path to a scenario JSON file, or the name of one in test/scenarios (e.g. "small"). */
export function loadScenario(nameOrPath: string): Scenario {
  let file = nameOrPath;
  if (!fs.existsSync(file)) {
    const found = scenarioDirs().map((d) => path.join(d, `${nameOrPath}.json`)).find((f) => fs.existsSync(f));
    if (!found) {
      throw new LockstepError('CONFIG_INVALID', `no scenario file or named scenario "${nameOrPath}" (named: ${listScenarioNames().join(', ') || 'none found'})`);
    }
    file = found;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new LockstepError('CONFIG_INVALID', `cannot read scenario ${file}: ${(cause as Error).message}`, { cause });
  }
  return validateScenario(parsed);
}
