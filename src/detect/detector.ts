import type { Config, ScaleConfig } from '../config/config';
import type { Alert, Link } from '../alerts/alert';
import { LINK_TYPES } from '../events/request-event';
import type { AlertListener, AlertSource } from '../alerts/source';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import type { KeyRef, WindowStore } from '../windows/store';
import { assessFleet, combineScales, commonlyShared, populationView, tooCommon, windowBuckets, type FleetAssessment } from './assess';
import { AlertBook } from './alert-book';
import type { DetectorLease } from './lease';

/** keys read per store call: bounds one round trip's size */
const READ_CHUNK = 100;
/** keys whose member-field peak is read per store call (one small field per bucket) */
const PEAK_READ_CHUNK = 1000;
/** how far back a key's candidacy counts */
const CANDIDATE_RECENCY_MS = 15 * 60_000;
/** how long a stopping holder waits for its alert messages' deliveries */
const STOP_DRAIN_MS = 5000;
/** a backlog longer than this many ticks is judged from its last ticks only */
const MAX_CATCH_UP_TICKS = 24 * 60;

/**
 * Evaluates candidate fleets as the event-time watermark advances: at most once per
 * evaluationIntervalMs of event time, only over keys the store lists as candidates in the window
 * (never a scan of all keys), and only on the instance holding the detector lease.
 */
export class Detector implements AlertSource {
  private readonly book: AlertBook;
  private readonly listeners: AlertListener[] = [];
  /** messages emitted and not yet confirmed by every listener (by messageKey): saved with each checkpoint */
  private readonly outbox = new Map<string, Alert>();
  /** checkpoint writes, one after another: each saves the book and outbox as they are when it runs */
  private saving: Promise<unknown> = Promise.resolve();
  private checkpointQueued = false;
  /** deliveries of emitted messages still running (each settles once every listener's has) */
  private readonly delivering = new Set<Promise<unknown>>();
  private lastTick = -Infinity;
  private holder = false;
  private running: Promise<void> | null = null;
  private pendingWatermark: number | null = null;
  private readonly allowAccounts: ReadonlySet<string>;
  private readonly warningOnlyAccounts: ReadonlySet<string>;
  /** members of warning-only orgs, read at each evaluation */
  private warningOnlyOrgMembers: ReadonlySet<string> = new Set();
  /** alert episodes counted in lockstep_alerts_total */
  private readonly seenAlertIds = new Set<string>();
  /** per scale: the last complete bucket judged and what was found */
  private readonly byScale = new Map<string, { last: number; assessments: FleetAssessment[] }>();
  private renewal: NodeJS.Timeout | null = null;
  /** the lease lapsed between evaluations: read the checkpoint again before the next */
  private reloadState = false;
  private stopping = false;
  /** the earliest event time the ingest has reported */
  private earliest: number | null = null;

  constructor(
    private readonly config: Config,
    private readonly store: WindowStore,
    private readonly metrics: Metrics,
    private readonly lease: DetectorLease,
    private readonly log: Logger,
  ) {
    const d = config.detector;
    this.allowAccounts = new Set(d.allowlist.accounts);
    this.warningOnlyAccounts = new Set(d.allowlist.warningOnlyAccounts);
    this.book = new AlertBook(d, config.alerts, (members, link) => this.isWarningOnly(members, link));
  }

  /**
   * Keeps the lease while this instance holds it, between evaluations too (event time may advance
   * slower than the lease's wall-clock TTL), so that a live holder is never replaced.
   */
  startLeaseRenewal(): void {
    if (this.renewal) return;
    this.renewal = setInterval(() => {
      if (this.running) return;
      const wasHolder = this.holder;
      void this.lease
        .acquire()
        .then((r) => {
          this.holder = r !== null;
          // the lease lapsed and was taken again: someone may have evaluated meanwhile
          if (r === 'taken') this.reloadState = true;
          // a standby took over from a holder that died: judge the ticks it left, now, not at the next event
          if (r === 'taken' && !wasHolder && this.lastTick > -Infinity && !this.running) {
            this.running = this.evaluate(this.lastTick).then(
              () => undefined,
              (err: unknown) => this.log.error({ err }, 'detector evaluation failed'),
            ).finally(() => (this.running = null));
          }
        })
        .catch(() => undefined);
    }, Math.max(100, Math.floor(this.config.detector.leaseTtlMs / 3)));
    this.renewal.unref();
  }

  onAlert(listener: AlertListener): void {
    this.listeners.push(listener);
  }

  list(): Alert[] {
    return [...this.book.firing(), ...this.book.recentlyResolved()];
  }

  get(alertId: string): Alert | undefined {
    return this.list().find((a) => a.alertId === alertId);
  }

  private isWarningOnly(members: ReadonlyMap<string, number>, link: Link): boolean {
    if (link.type === 'org' && this.config.detector.allowlist.warningOnlyOrgs.includes(link.value)) return true;
    let n = 0;
    for (const a of members.keys()) if (this.warningOnlyAccounts.has(a) || this.warningOnlyOrgMembers.has(a)) n++;
    return n * 2 > members.size;
  }

  /**
   * Asks for evaluations up to `watermark`: one at every tick of evaluationIntervalMs the
   * watermark has crossed since the last, in order, so that a backlog read in a few large flushes
   * is judged tick by tick as it would have been live (each tick reads only buckets before it).
   * Calls made while one runs coalesce into one more run at the newest watermark.
   */
  maybeEvaluate(watermark: number | null, earliest: number | null = null): Promise<void> {
    if (earliest !== null && (this.earliest === null || earliest < this.earliest)) this.earliest = earliest;
    if (watermark === null) return this.running ?? Promise.resolve();
    const interval = this.config.detector.evaluationIntervalMs;
    const tickOf = (wm: number): number => wm - (wm % interval);
    if (tickOf(watermark) <= this.lastTick) return this.running ?? Promise.resolve();
    if (this.running) {
      this.pendingWatermark = Math.max(this.pendingWatermark ?? -Infinity, watermark);
      return this.running;
    }
    this.running = (async () => {
      try {
        let wm: number | null = watermark;
        while (wm !== null) {
          this.pendingWatermark = null;
          const latest = tickOf(wm);
          // on the first call, start at the earliest data (a backlog read in one flush is judged from
          // its beginning), or far enough back for an alert to hold by the current tick
          let t = this.lastTick === -Infinity ? Math.min(latest - this.config.detector.holdEvaluations * interval, this.earliest === null ? Infinity : tickOf(this.earliest) + interval) : this.lastTick + interval;
          t = Math.max(t, latest - MAX_CATCH_UP_TICKS * interval);
          for (; t <= latest && !this.stopping; t += interval) {
            this.lastTick = t;
            await this.evaluate(t);
          }
          wm = this.pendingWatermark;
        }
      } catch (err) {
        this.log.error({ err }, 'detector evaluation failed');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** One evaluation pass at event time `at`; returns the alert messages it emitted. */
  async evaluate(at: number): Promise<Alert[]> {
    const lease = await this.lease.acquire();
    this.holder = lease !== null;
    // a standby judges nothing (the holder does) and leaves lockstep_detector_evaluated_seconds alone
    if (lease === null) return [];
    if (lease === 'taken' || this.reloadState) {
      // taking over (or starting): continue the episodes the last holder checkpointed, and judge
      // the ticks between its last evaluation and this one
      this.reloadState = false;
      const state = await this.lease.loadState();
      if (state) {
        this.book.loadState(state.book);
        this.resend(state.outbox);
        const interval = this.config.detector.evaluationIntervalMs;
        const from = Math.max(this.book.lastEvaluatedAt + interval, at - MAX_CATCH_UP_TICKS * interval);
        const out: Alert[] = [];
        for (let t = from; t < at && !this.stopping; t += interval) out.push(...(await this.evaluateTick(t)));
        out.push(...(await this.evaluateTick(at)));
        return out;
      }
    }
    return this.evaluateTick(at);
  }

  private async evaluateTick(at: number): Promise<Alert[]> {
    // another holder may have evaluated this tick already
    if (at <= this.book.lastEvaluatedAt) return [];
    const started = process.hrtime.bigint();
    const excluded = await this.excludedAccounts(at);
    const byKey = new Map<string, FleetAssessment[]>();
    for (const scale of this.config.windows.scales) {
      // a scale's judgement changes only when a bucket of it completes: reuse it until then
      const { last } = windowBuckets(scale, at);
      let cached = this.byScale.get(scale.name);
      if (!cached || cached.last !== last) {
        cached = { last, assessments: await this.assessScale(scale, at, excluded) };
        this.byScale.set(scale.name, cached);
      }
      for (const a of cached.assessments) {
        const ref = `${a.link.type}:${a.link.value}`;
        (byKey.get(ref) ?? byKey.set(ref, []).get(ref)!).push(a);
      }
    }
    const best = new Map<string, FleetAssessment>();
    for (const [ref, list] of byKey) best.set(ref, combineScales(list[0].link, list, this.config.detector));
    const assessments = [...best.values()];
    for (const a of assessments) this.metrics.fleetScore.observe({ link_type: a.link.type }, a.score);
    this.metrics.keysEvaluatedTotal.inc(assessments.length);
    const messages = this.book.update(at, assessments);
    // into the outbox before the checkpoint: what this tick emits is saved before it is sent
    for (const m of messages) this.outbox.set(messageKey(m), m);
    if (!(await this.checkpointOrWarn())) {
      // another instance took the lease meanwhile: its judgement of this tick counts, not ours
      for (const m of messages) this.outbox.delete(messageKey(m));
      this.holder = false;
      this.reloadState = true;
      return [];
    }
    for (const m of messages) {
      if (m.status === 'firing' && !this.seenAlertIds.has(m.alertId)) {
        this.seenAlertIds.add(m.alertId);
        this.metrics.alertsTotal.inc({ severity: m.severity });
      }
      if (m.status === 'resolved') this.seenAlertIds.delete(m.alertId);
      this.emit(m);
    }
    this.updateFiringGauge();
    this.metrics.detectorEvaluatedSeconds.set(at / 1000);
    this.metrics.detectorEvaluationSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return messages;
  }

  /** Hands a message to every listener; it leaves the outbox once every delivery they started settled. */
  private emit(m: Alert): void {
    const deliveries: Promise<unknown>[] = [];
    for (const l of this.listeners) {
      const d = l(m);
      if (d) deliveries.push(d);
    }
    const key = messageKey(m);
    const delivery = Promise.allSettled(deliveries).then(() => {
      this.delivering.delete(delivery);
      this.confirm(key);
    });
    this.delivering.add(delivery);
  }

  /** A message the previous holder saved but did not see delivered: sent again (consumers may see it twice). */
  private resend(outbox: readonly Alert[]): void {
    const missing = outbox.filter((m) => !this.outbox.has(messageKey(m)));
    if (missing.length === 0) return;
    this.log.info({ messages: missing.length, alertIds: missing.map((m) => m.alertId) }, 'sending again the alert messages the previous lease holder had not seen delivered');
    this.metrics.alertMessagesResentTotal.inc(missing.length);
    for (const m of missing) {
      this.outbox.set(messageKey(m), m);
      this.emit(m);
    }
  }

  /** A delivered message leaves the outbox; the checkpoint is saved again so that a successor does not repeat it. */
  private confirm(key: string): void {
    if (!this.outbox.delete(key) || !this.holder || this.checkpointQueued) return;
    this.checkpointQueued = true;
    void this.checkpointOrWarn();
  }

  /** Saves the book and the outbox as they are when the write runs, after any write before it. False: another instance holds the lease. */
  private checkpoint(): Promise<boolean> {
    const run = this.saving.then(() => {
      this.checkpointQueued = false;
      return this.lease.saveState({ book: this.book.toState(), outbox: [...this.outbox.values()] });
    });
    this.saving = run.catch(() => undefined);
    return run;
  }

  /** checkpoint(), a failed write only logged: an alert is sent even when its checkpoint could not be saved. */
  private async checkpointOrWarn(): Promise<boolean> {
    try {
      return await this.checkpoint();
    } catch (err) {
      this.log.warn({ err }, 'detector checkpoint not saved; alerts are sent anyway (a successor may miss or repeat some)');
      return true;
    }
  }

  /** Every severity x link type series is set, to 0 when nothing fires, so dashboards show 0 rather than no data. */
  private updateFiringGauge(): void {
    const series = (severity: string, linkType: string): string => `${severity}|${linkType}`;
    const counts = new Map<string, number>();
    for (const a of this.book.firing()) {
      const firing = series(a.severity, a.link.type);
      counts.set(firing, (counts.get(firing) ?? 0) + 1);
    }
    for (const severity of ['warning', 'critical'] as const) {
      for (const link_type of LINK_TYPES) this.metrics.fleetsFiring.set({ severity, link_type }, counts.get(series(severity, link_type)) ?? 0);
    }
  }

  private async assessScale(scale: ScaleConfig, at: number, excluded: ReadonlySet<string>): Promise<FleetAssessment[]> {
    const { first, last } = windowBuckets(scale, at);
    // keys that were candidates lately (the last two buckets, and at least the last quarter hour, so
    // that a fleet bursting every ten minutes stays in view): a fleet gone quiet resolves rather
    // than being re-judged on its past
    const starts: number[] = [];
    const recent = Math.min(scale.buckets, Math.max(2, Math.ceil(CANDIDATE_RECENCY_MS / scale.bucketMs)));
    for (let i = 0; i < recent; i++) starts.push(last - i * scale.bucketMs);
    const allowOrgs = this.config.detector.allowlist.orgs;
    // in one order whatever order the store lists them in (a Redis set has none; the memory store's
    // follows its writes): where fleets overlap, which key leads an alert must not depend on it
    const listed = (await this.store.readCandidates(scale, starts)).filter((k) => !(k.type === 'org' && allowOrgs.includes(k.value))).sort(compareKeyRefs);
    const candidates = await this.withoutTooCommon(listed, scale, first, last);
    if (candidates.length === 0) return [];
    const [populationBuckets] = await this.store.readBuckets([{ type: 'population', value: '*' }], scale, first, last);
    const population = populationView(populationBuckets, this.config.detector);
    const out: FleetAssessment[] = [];
    for (let i = 0; i < candidates.length; i += READ_CHUNK) {
      const chunk = candidates.slice(i, i + READ_CHUNK);
      const buckets = await this.store.readBuckets(chunk, scale, first, last);
      chunk.forEach((k, j) => {
        const a = assessFleet(k, scale, buckets[j], population, this.config.detector, excluded);
        if (a) out.push(a);
      });
    }
    return out;
  }

  /**
   * Sets aside the keys of common types (an ASN, an SDK's user agent) whose widest bucket alone
   * makes them too common to reach warning, on one field per bucket, before their buckets, with
   * thousands of member fields each, are read. assessFleet would reject them too (same rule,
   * tooCommon): half the member fields is a lower bound of the distinct members it counts.
   */
  private async withoutTooCommon(keys: KeyRef[], scale: ScaleConfig, first: number, last: number): Promise<KeyRef[]> {
    const common = keys.filter(commonlyShared);
    if (common.length === 0) return keys;
    const tooCommonRefs = new Set<KeyRef>();
    for (let i = 0; i < common.length; i += PEAK_READ_CHUNK) {
      const chunk = common.slice(i, i + PEAK_READ_CHUNK);
      const peaks = await this.store.readMemberFieldsPeak(chunk, scale, first, last);
      chunk.forEach((k, j) => {
        if (tooCommon(k, Math.ceil(peaks[j] / 2), this.config.detector)) tooCommonRefs.add(k);
      });
    }
    return tooCommonRefs.size === 0 ? keys : keys.filter((k) => !tooCommonRefs.has(k));
  }

  /** Allowlisted accounts, and the members of allowlisted orgs (read from the org keys' windows). */
  private async excludedAccounts(at: number): Promise<ReadonlySet<string>> {
    const { orgs, warningOnlyOrgs } = this.config.detector.allowlist;
    if (orgs.length === 0 && warningOnlyOrgs.length === 0) return this.allowAccounts;
    const scale = this.config.windows.scales[this.config.windows.scales.length - 1];
    const { first, last } = windowBuckets(scale, at + scale.bucketMs);
    const orgMembers = async (list: string[]): Promise<Set<string>> => {
      const keys: KeyRef[] = list.map((value) => ({ type: 'org', value }));
      const set = new Set<string>();
      if (keys.length === 0) return set;
      for (const buckets of await this.store.readBuckets(keys, scale, first, last)) for (const b of buckets) for (const a of b.members.keys()) set.add(a);
      return set;
    };
    this.warningOnlyOrgMembers = await orgMembers(warningOnlyOrgs);
    const excluded = await orgMembers(orgs);
    for (const a of this.allowAccounts) excluded.add(a);
    return excluded;
  }

  /**
   * Stops judging; a holder waits up to `drainMs` for its messages' deliveries and saves its checkpoint
   * once more before it lets the lease go, so that a rolling restart does not make the successor
   * send again what was delivered.
   */
  async stop(drainMs = STOP_DRAIN_MS): Promise<void> {
    // a catch-up over a long backlog stops at the next tick; the successor continues from the checkpoint
    this.stopping = true;
    if (this.renewal) clearInterval(this.renewal);
    await this.running;
    if (!this.holder) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.delivering]), new Promise<void>((r) => (timer = setTimeout(r, drainMs)))]);
    clearTimeout(timer);
    await this.checkpointOrWarn();
    await this.lease.release().catch(() => undefined);
  }
}

function compareKeyRefs(a: KeyRef, b: KeyRef): number {
  return a.type < b.type ? -1 : a.type > b.type ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** What identifies one alert message: an episode emits at most one message per status and tick. */
export function messageKey(m: Alert): string {
  return `${m.alertId}|${m.status}|${m.detectedAt}`;
}
