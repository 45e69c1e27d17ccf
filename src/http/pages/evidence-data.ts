import type { Config, ScaleConfig } from '../../config/config';
import type { Alert, Link } from '../../alerts/alert';
import type { BucketData, KeyRef, WindowStore } from '../../windows/store';
import { ewmaUpdate, type Ewma } from '../../detect/stats';
import { addCapabilities, BASELINE_ALPHA, recentBuckets } from '../../detect/assess';

/** Rows in the heatmap: enough to see bands, few enough to stay small and fast for any fleet size. */
export const HEATMAP_MAX_ROWS = 60;
/** Links whose windows are read: bounds the store read for an alert that merged many fleets (primary first). */
export const MAX_LINKS_READ = 12;

export interface HeatmapRow {
  accountId: string;
  /** requests per bucket (the most any of the alert's links saw: one request is on every link) */
  counts: number[];
  total: number;
  young: boolean;
}

export interface LinkShare {
  link: Link;
  /** accounts listed in the alert that are on this link in the window; null for links past MAX_LINKS_READ */
  listedOnLink: number | null;
  /** distinct accounts on the link in the window: members and bystanders */
  distinctOnLink: number | null;
  requests: number | null;
}

/** What the evidence page draws, read from the window store at the alert's evidence scale. */
export interface EvidenceData {
  scale: ScaleConfig;
  /** bucket starts, oldest first */
  starts: number[];
  /** index of the first bucket of the burst test's "now" */
  recentFrom: number;
  /** the primary link's requests per bucket */
  fleetRate: number[];
  /** EWMA of the buckets before each one (held once the "now" starts: what the burst test compared with) */
  baseline: (number | null)[];
  /** population volume per bucket scaled by the fleet's baseline share of it; null when the fleet had no baseline */
  populationScaled: number[] | null;
  fleetCapabilities: Record<string, number>;
  populationCapabilities: Record<string, number>;
  rows: HeatmapRow[];
  /** members the rows were sampled from */
  listed: number;
  links: LinkShare[];
  /** false when the store no longer holds the window (expired): the page says so instead of drawing zeros as facts */
  hasData: boolean;
}

/** The evidence scale's buckets that end at the alert's windowEnd: the window the detector judged. */
export function evidenceWindow(config: Config, alert: Alert): { scale: ScaleConfig; first: number; last: number } {
  const scales = config.windows.scales;
  const scale = scales.find((s) => s.name === alert.evidence.scale) ?? scales[0];
  const end = alert.windowEnd - (alert.windowEnd % scale.bucketMs);
  const last = end - scale.bucketMs;
  return { scale, first: last - (scale.buckets - 1) * scale.bucketMs, last };
}

/**
 * Deterministic sample of a ranked list: every member when few, else ranks spread evenly from the
 * heaviest to the lightest, so the picture shows the whole fleet and not only its loudest accounts.
 */
export function sampleRanked<T>(ranked: readonly T[], max: number): T[] {
  if (ranked.length <= max) return [...ranked];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(ranked[Math.round((i * (ranked.length - 1)) / (max - 1))]);
  return out;
}

/** One store round trip: the population and every link of the alert over the evidence window. */
export async function readEvidence(store: WindowStore, config: Config, alert: Alert): Promise<EvidenceData> {
  const { scale, first, last } = evidenceWindow(config, alert);
  const isPrimary = (l: Link): boolean => l.type === alert.link.type && l.value === alert.link.value;
  const links = [alert.link, ...alert.links.filter((l) => !isPrimary(l))];
  const read = links.slice(0, MAX_LINKS_READ);
  const keys: KeyRef[] = [{ type: 'population', value: '*' }, ...read.map((l) => ({ type: l.type, value: l.value }))];
  const [population, ...perLink] = await store.readBuckets(keys, scale, first, last);
  return buildEvidence(alert, scale, population, perLink, links);
}

/** Pure: the page's figures from buckets already read. `links[0]` is the primary link; perLink[i] holds links[i]'s buckets, for the links read. */
export function buildEvidence(alert: Alert, scale: ScaleConfig, population: BucketData[], perLink: BucketData[][], links: Link[]): EvidenceData {
  const n = population.length;
  const starts = population.map((b) => b.start);
  const primary = perLink[0] ?? [];
  const recentFrom = Math.max(0, n - recentBuckets(scale));

  const fleetRate = primary.map((b) => b.requests);
  const popRate = population.map((b) => b.requests);
  const baseline: (number | null)[] = [];
  let ewma: Ewma | null = null;
  let fleetBase = 0;
  let popBase = 0;
  for (let t = 0; t < n; t++) {
    baseline.push(ewma?.mean ?? null);
    if (t < recentFrom) {
      ewma = ewmaUpdate(ewma, fleetRate[t] ?? 0, BASELINE_ALPHA);
      fleetBase += fleetRate[t] ?? 0;
      popBase += popRate[t];
    }
  }
  const share = popBase > 0 ? fleetBase / popBase : 0;
  const populationScaled = share > 0 ? popRate.map((v) => v * share) : null;

  const fleetCapabilities: Record<string, number> = {};
  const populationCapabilities: Record<string, number> = {};
  for (const b of primary) addCapabilities(fleetCapabilities, b.byCapability);
  for (const b of population) addCapabilities(populationCapabilities, b.byCapability);

  const listedSet = new Set(alert.accounts);
  const linkShares: LinkShare[] = links.map((link, i) => {
    if (i >= perLink.length) return { link, listedOnLink: null, distinctOnLink: null, requests: null };
    const seen = new Set<string>();
    let requests = 0;
    for (const b of perLink[i]) {
      for (const a of b.members.keys()) seen.add(a);
      requests += b.requests;
    }
    let listedOnLink = 0;
    for (const a of seen) if (listedSet.has(a)) listedOnLink++;
    return { link, listedOnLink, distinctOnLink: seen.size, requests };
  });

  const rows: HeatmapRow[] = sampleRanked(alert.accounts, HEATMAP_MAX_ROWS).map((accountId) => {
    const counts = new Array<number>(n).fill(0);
    let young = false;
    for (const buckets of perLink) {
      for (let t = 0; t < n && t < buckets.length; t++) {
        const c = buckets[t].members.get(accountId);
        if (c !== undefined && c > counts[t]) counts[t] = c;
        if (!young && buckets[t].young.has(accountId)) young = true;
      }
    }
    let sum = 0;
    for (const c of counts) sum += c;
    return { accountId, counts, total: sum, young };
  });

  return {
    scale,
    starts,
    recentFrom,
    fleetRate,
    baseline,
    populationScaled,
    fleetCapabilities,
    populationCapabilities,
    rows,
    listed: alert.accounts.length,
    links: linkShares,
    hasData: fleetRate.some((v) => v > 0),
  };
}
