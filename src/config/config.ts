import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { configSchema } from './schema';
import { applyEnvOverrides } from './env';
import { LockstepError } from '../errors';
import type { LinkType } from '../events/request-event';
import type { Severity } from '../alerts/alert';

export interface ScaleConfig {
  name: string;
  bucketMs: number;
  buckets: number;
}

export interface Config {
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    fromBeginning: boolean;
    inputTopic: string;
    dlqTopic: string;
    alertTopic: string;
    enforcementTopic: string;
    ssl: boolean;
    sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
    sessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    maxWaitTimeInMs: number;
    maxBytesPerPartition: number;
    partitionsConsumedConcurrently: number;
    connectionTimeoutMs: number;
  };
  redis: {
    url: string;
    clusterNodes: string[];
    password: string;
    tls: boolean;
    keyPrefix: string;
    shards: number;
    commandTimeoutMs: number;
  };
  ingest: {
    maxMessageBytes: number;
    allowedLatenessMs: number;
    maxFutureMs: number;
    flushMaxEvents: number;
    flushIntervalMs: number;
    idlePartitionMs: number;
    linkTypes: LinkType[];
    valueCap: {
      maxValues: number;
      /** per attribute link type, where its share differs from maxValues */
      maxValuesByType: Partial<Record<LinkType, number>>;
      maxAccounts: number;
    };
  };
  windows: {
    scales: ScaleConfig[];
    /** names of the scales at which accounts' own windows are kept (every scale unless configured) */
    accountScales: string[];
    maxMembersPerBucket: number;
    youngAccountAgeMs: number;
    topAccounts: number;
  };
  detector: {
    highValueCapabilities: string[];
    minFleetSize: number;
    evaluationIntervalMs: number;
    partitionStallMs: number;
    leaseTtlMs: number;
    holdEvaluations: number;
    quietPeriodMs: number;
    growthToReemit: number;
    mergeOverlap: number;
    agedFleetFactor: number;
    coreCorrelation: number;
    thresholds: { warning: number; critical: number };
    allowlist: { orgs: string[]; accounts: string[]; warningOnlyOrgs: string[]; warningOnlyAccounts: string[] };
    behavior: { tokenBucketMs: number; windowMs: number; signatureSize: number; bands: number; minTokens: number; maxAccounts: number };
  };
  alerts: {
    alertmanagerUrl: string;
    publicUrl: string;
    runbookUrl: string;
    grafanaUrl: string;
    queueSize: number;
    maxAttempts: number;
    retryBaseMs: number;
    maxAccountsListed: number;
    keepResolved: number;
  };
  /** read by src/enforce; see docs/enforcement.md */
  enforcement: {
    enabled: boolean;
    severities: Severity[];
    minScore: number;
    linkTypes: LinkType[];
    limitRpm: number;
    capabilitiesOnly: boolean;
    ttlMs: number;
    escalation: { afterMs: number; factor: number; minRpm: number; maxLevel: number };
    allowlist: { orgs: string[]; accounts: string[] };
    caps: { perAlert: number; perHour: number };
    accountHeader: string;
    capabilityHeader: string;
    denyStatus: number;
    failOpen: boolean;
    cacheRefreshMs: number;
    sweepIntervalMs: number;
    auditMaxLen: number;
    alertStateTtlMs: number;
  };
  http: { port: number; host: string; adminToken: string; maxBodyBytes: number };
  sim: { speedup: number; seed: number } & Record<string, unknown>;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: false });
const validate = ajv.compile(configSchema);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Later sources win; arrays are replaced, not merged. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeConfig(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/** Validates a raw config object, filling defaults; throws CONFIG_INVALID naming the field. */
export function buildConfig(raw: Record<string, unknown>): Config {
  const candidate = structuredClone(raw);
  if (!validate(candidate)) {
    const err = validate.errors?.[0];
    const field = (err?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') +
      (err?.keyword === 'additionalProperties' ? `${err.instancePath ? '.' : ''}${String((err.params as { additionalProperty?: string }).additionalProperty)}` : '') +
      (err?.keyword === 'required' ? `${err.instancePath ? '.' : ''}${String((err.params as { missingProperty?: string }).missingProperty)}` : '');
    const what = err?.keyword === 'additionalProperties' ? 'is not a known setting' : err?.keyword === 'required' ? 'is required' : err?.message ?? 'is invalid';
    throw new LockstepError('CONFIG_INVALID', `invalid config: ${field || '(root)'} ${what}`, { field });
  }
  const cfg = candidate as unknown as Config;
  if (cfg.detector.thresholds.warning > cfg.detector.thresholds.critical) {
    throw new LockstepError('CONFIG_INVALID', 'invalid config: detector.thresholds.warning must not exceed detector.thresholds.critical', { field: 'detector.thresholds.warning' });
  }
  // a member heartbeats at most every interval (and up to 1.25 intervals apart while a batch waits): the session must outlast that
  if (cfg.kafka.heartbeatIntervalMs * 1.5 > cfg.kafka.sessionTimeoutMs) {
    throw new LockstepError('CONFIG_INVALID', 'invalid config: kafka.heartbeatIntervalMs must be at most two thirds of kafka.sessionTimeoutMs (Kafka advises a third)', { field: 'kafka.heartbeatIntervalMs' });
  }
  if (cfg.detector.partitionStallMs > 0 && cfg.detector.partitionStallMs <= cfg.kafka.sessionTimeoutMs) {
    throw new LockstepError('CONFIG_INVALID', 'invalid config: detector.partitionStallMs must exceed kafka.sessionTimeoutMs (or be 0: no wait)', { field: 'detector.partitionStallMs' });
  }
  const names = new Set<string>();
  cfg.windows.scales.forEach((s, i) => {
    if (names.has(s.name)) throw new LockstepError('CONFIG_INVALID', `invalid config: windows.scales.${i}.name "${s.name}" is used twice`, { field: `windows.scales.${i}.name` });
    names.add(s.name);
  });
  if (cfg.windows.accountScales === undefined) cfg.windows.accountScales = cfg.windows.scales.map((s) => s.name);
  cfg.windows.accountScales.forEach((name, i) => {
    if (!names.has(name)) throw new LockstepError('CONFIG_INVALID', `invalid config: windows.accountScales.${i} "${name}" is not the name of a scale in windows.scales`, { field: `windows.accountScales.${i}` });
  });
  return cfg;
}

function readJsonFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw new LockstepError('CONFIG_INVALID', `cannot read config file ${file}`, { cause });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isPlainObject(parsed)) throw new Error('not a JSON object');
    return parsed;
  } catch (cause) {
    throw new LockstepError('CONFIG_INVALID', `config file ${file} is not a JSON object: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Loads config/default.json (beside the package), then the file named by LOCKSTEP_CONFIG, then the
 * environment, then `overrides` (CLI flags and tests).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, unknown> = {}): Config {
  const defaultFile = path.resolve(__dirname, '..', '..', '..', 'config', 'default.json');
  let raw: Record<string, unknown> = fs.existsSync(defaultFile) ? readJsonFile(defaultFile) : {};
  if (env.LOCKSTEP_CONFIG) raw = mergeConfig(raw, readJsonFile(env.LOCKSTEP_CONFIG));
  raw = applyEnvOverrides(raw, env);
  raw = mergeConfig(raw, overrides);
  return buildConfig(raw);
}

/** Defaults only: for tests and library use. */
export function defaultConfig(overrides: Record<string, unknown> = {}): Config {
  return buildConfig(overrides);
}
