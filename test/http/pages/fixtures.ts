import { defaultConfig, type Config, type ScaleConfig } from '../../../src/config/config';
import { createLogger } from '../../../src/log';
import { Metrics } from '../../../src/metrics/metrics';
import { MemoryWindowStore } from '../../../src/windows/memory-store';
import { WindowKeys } from '../../../src/windows/keys';
import { IngestPipeline } from '../../../src/ingest/pipeline';
import { MemoryDeadLetterSink } from '../../../src/ingest/dead-letter';
import { LocalFeed } from '../../../src/ingest/local-feed';
import { Detector } from '../../../src/detect/detector';
import { LocalLease } from '../../../src/detect/lease';
import { BehaviorTracker } from '../../../src/detect/behavior';
import { generateEvents, labelsOf } from '../../../src/sim/generate';
import { loadScenario } from '../../../src/sim/scenario';
import type { Labels } from '../../../src/sim/labels';
import type { Alert } from '../../../src/alerts/alert';
import type { Clock } from '../../../src/clock';
import type { RequestEvent } from '../../../src/events/request-event';
import type { BucketWrite, KeyRef, WindowStore } from '../../../src/windows/store';
import { assessFleet, populationView, windowBuckets } from '../../../src/detect/assess';
import { ipPrefix } from '../../../src/ingest/links';
import { createHttpServer, listen } from '../../../src/http/server';
import type { Router } from '../../../src/http/router';
import type { AlertSource } from '../../../src/alerts/source';

/** A simulated scenario run through the same pieces as `lockstep replay`, with the store kept for the pages. */
export interface ReplayedScenario {
  config: Config;
  store: MemoryWindowStore;
  detector: Detector;
  labels: Labels;
  /** every alert message emitted, in order */
  messages: Alert[];
  watermark: number | null;
  /** per simulated group (campaign or confounder id): its accounts' /24s, by events */
  prefixesOf: Map<string, Map<string, number>>;
}

/** `view` wraps the store the pipeline and detector use (e.g. to list candidates in another order). */
export async function replayScenario(name: string, seed: number, overrides: Record<string, unknown> = {}, view: (s: WindowStore) => WindowStore = (s) => s): Promise<ReplayedScenario> {
  const config = defaultConfig({ ...overrides, ingest: { maxFutureMs: Number.MAX_SAFE_INTEGER }, log: { level: 'silent' } });
  const log = createLogger('silent');
  const metrics = new Metrics({ defaultMetrics: false });
  const store = new MemoryWindowStore(new WindowKeys(config.redis.keyPrefix, config.redis.shards));
  let pipelineRef: IngestPipeline | null = null;
  const clock: Clock = { now: () => pipelineRef?.watermark() ?? 0 };
  const pipeline = new IngestPipeline(config, view(store), new MemoryDeadLetterSink(1000), metrics, clock, new BehaviorTracker(config.detector.behavior));
  pipelineRef = pipeline;
  const detector = new Detector(config, view(store), metrics, new LocalLease(), log);
  const messages: Alert[] = [];
  detector.onAlert((a) => void messages.push(a));
  const feed = new LocalFeed(pipeline, config.detector.evaluationIntervalMs, (wm) => detector.maybeEvaluate(wm));
  const scenario = loadScenario(name);
  const labels = labelsOf(scenario, seed);
  const prefixesOf = new Map<string, Map<string, number>>();
  const notePrefix = (e: RequestEvent): void => {
    const group = labels.accounts[e.accountId]?.group ?? 'unknown';
    const p = e.ip !== undefined ? ipPrefix(e.ip) : null;
    if (p === null) return;
    let m = prefixesOf.get(group);
    if (!m) prefixesOf.set(group, (m = new Map()));
    m.set(p, (m.get(p) ?? 0) + 1);
  };
  for (const e of generateEvents(scenario, seed)) {
    notePrefix(e);
    await feed.push(Buffer.from(JSON.stringify(e), 'utf8'));
  }
  await feed.end();
  await detector.stop();
  return { config, store, detector, labels, messages, watermark: pipeline.watermark(), prefixesOf };
}

/** The /24 most of a group's events came from (a university NAT's is its campus). */
export function mainPrefixOf(replay: ReplayedScenario, group: string): string {
  const m = replay.prefixesOf.get(group);
  if (!m || m.size === 0) throw new Error(`no events of group ${group}`);
  return [...m.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

/**
 * The alert the detector would send for `key` if it fired: the detector's own assessment of the key
 * (assessFleet, thresholds set to zero so nothing is skipped) at event time `at`, shaped as the alert
 * book shapes one. Lets a page be checked for a benign fleet the detector rightly does not alert on.
 */
export async function assessedAlert(config: Config, store: WindowStore, key: KeyRef, scaleName: string, at: number, alertId = 'al_assessed'): Promise<Alert> {
  const scale = config.windows.scales.find((s) => s.name === scaleName);
  if (!scale) throw new Error(`no scale ${scaleName}`);
  const tick = at - (at % config.detector.evaluationIntervalMs);
  const { first, last } = windowBuckets(scale, tick);
  const [population, buckets] = await store.readBuckets([{ type: 'population', value: '*' }, key], scale, first, last);
  const cfg = { ...config.detector, thresholds: { warning: 0, critical: 1 } };
  const a = assessFleet(key, scale, buckets, populationView(population, cfg), cfg, new Set());
  if (!a) throw new Error(`key ${key.type}:${key.value} has too few members to assess`);
  const accounts = [...a.members.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([acct]) => acct);
  return {
    alertId,
    status: 'firing',
    fleetId: `fl_${key.type}_${key.value}`,
    link: a.link,
    links: [a.link],
    accountCount: a.members.size,
    accounts: accounts.slice(0, config.alerts.maxAccountsListed),
    targetedCapabilities: a.targetedCapabilities,
    capabilityShare: a.capabilityShare,
    score: a.score,
    severity: a.severity ?? 'warning',
    windowStart: a.windowStart,
    windowEnd: a.windowEnd,
    detectedAt: tick,
    evidence: a.evidence,
  };
}

export interface SyntheticFleetOptions {
  accounts: number;
  accountId?: (i: number) => string;
  link: KeyRef;
  /** members act in the same buckets (every 5th), or each on its own at random */
  lockstep: boolean;
  /** bystanders on the population only, for a realistic capability mix */
  populationAccounts?: number;
}

/**
 * A fleet written straight into a MemoryWindowStore through its apply() contract: an hour of 1m
 * buckets; members on `link`, young, mostly coding; a chat-heavy population around them.
 */
export async function syntheticFleet(opts: SyntheticFleetOptions): Promise<{ config: Config; store: MemoryWindowStore; alert: Alert }> {
  const config = defaultConfig({ log: { level: 'silent' } });
  const scale = config.windows.scales.find((s) => s.name === '1m') as ScaleConfig;
  const store = new MemoryWindowStore(new WindowKeys(config.redis.keyPrefix, config.redis.shards));
  const t0 = 1_730_851_200_000;
  const idOf = opts.accountId ?? ((i: number) => `acct_${i.toString(16).padStart(6, '0')}`);
  let seed = 7;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const writes: BucketWrite[] = [];
  const ref = `${opts.link.type}:${opts.link.value}`;
  for (let t = 0; t < scale.buckets + 1; t++) {
    const bucketStart = t0 + t * scale.bucketMs;
    const fleet = new Map<string, number>();
    const fleetCaps = new Map<string, number>();
    const pop = new Map<string, number>([['chat', 40 + Math.floor(rnd() * 20)], ['coding', 20 + Math.floor(rnd() * 10)], ['reasoning', 10]]);
    for (let i = 0; i < opts.accounts; i++) {
      const active = opts.lockstep ? t % 5 < 2 : rnd() < 0.2;
      if (!active) continue;
      const n = 1 + (i % 4);
      fleet.set(idOf(i), n);
      const cap = i % 10 === 0 ? 'chat' : 'coding';
      fleetCaps.set(cap, (fleetCaps.get(cap) ?? 0) + n);
      pop.set(cap, (pop.get(cap) ?? 0) + n);
    }
    writes.push({ type: opts.link.type, value: opts.link.value, ref, scale: scale.name, bucketStart, linked: true, capabilities: fleetCaps, members: null, youngMembers: fleet });
    writes.push({ type: 'population', value: '*', ref: 'population:*', scale: scale.name, bucketStart, linked: false, capabilities: pop, members: null, youngMembers: null });
  }
  await store.apply({
    shards: [{ shard: 0, buckets: writes }],
    advances: new Map(),
    watermarks: new Map(),
    ttlMs: new Map([[scale.name, 7 * 86_400_000]]),
    maxMembersPerBucket: config.windows.maxMembersPerBucket,
    candidateMinMembers: config.detector.minFleetSize,
  });
  const at = t0 + (scale.buckets + 1) * scale.bucketMs;
  const alert = await assessedAlert(config, store, opts.link, scale.name, at, 'al_synthetic');
  return { config, store, alert };
}

/** Serves a router on a free loopback port, as the service does. */
export async function serveRouter(router: Router): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createHttpServer(router, createLogger('silent'));
  const port = await listen(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An AlertSource over fixed alerts (the detector's own, plus ones a test builds). */
export function fixedAlerts(alerts: Alert[]): AlertSource {
  return {
    list: () => alerts,
    get: (id) => alerts.find((a) => a.alertId === id),
    onAlert: () => undefined,
  };
}

/** What a test reads back from a rendered heatmap. */
export interface HeatmapFigures {
  rows: number;
  cells: number;
  /** per bucket with any activity: share of the shown members active */
  activeShares: number[];
}

export function heatmapOf(html: string): HeatmapFigures {
  const svg = /<svg class="chart heatmap"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
  const cells = /<g class="cells"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
  const labels = /<g class="labels"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
  const activeShares = [...svg.matchAll(/(\d+) of (\d+) shown members active/g)].map((m) => Number(m[1]) / Number(m[2]));
  return { rows: (labels.match(/<text /g) ?? []).length, cells: (cells.match(/<rect /g) ?? []).length, activeShares };
}

export function sectionOf(html: string, id: string): string {
  return new RegExp(`<section class="card[^"]*" id="${id}">[\\s\\S]*?</section>`).exec(html)?.[0] ?? '';
}
