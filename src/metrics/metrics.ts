import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RejectReason } from '../events/decode';
import { ATTRIBUTE_LINK_TYPES } from '../events/request-event';

/** Every dead-letter reason, so each series exists (at 0) from the start; the type makes it complete. */
const DEAD_LETTER_REASONS: Record<RejectReason, true> = { empty: true, too_large: true, not_utf8: true, not_json: true, schema: true, ts_in_future: true };

/**
 * The metrics catalogue: every metric lockstep exports, in one place. Label values are bounded
 * enums (never an account id, IP or other unbounded value). The README's metrics table mirrors this.
 */
export class Metrics {
  readonly registry: Registry;

  readonly eventsTotal: Counter<'result'>;
  readonly deadLetteredTotal: Counter<'reason'>;
  readonly batchDuration: Histogram;
  readonly batchEvents: Histogram;
  readonly watermarkLagSeconds: Gauge;
  readonly watermarkSeconds: Gauge;
  readonly redisRoundtripsTotal: Counter;
  readonly redisCommandsTotal: Counter;
  readonly redisErrorsTotal: Counter;
  readonly storeConflictsTotal: Counter;
  readonly membersCappedTotal: Counter;
  readonly linkValuesCappedTotal: Counter<'link_type'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly ready: Gauge;
  readonly behaviorAccountsTracked: Gauge;

  readonly alertsTotal: Counter<'severity'>;
  readonly fleetsFiring: Gauge<'severity' | 'link_type'>;
  readonly detectorEvaluationSeconds: Histogram;
  readonly fleetScore: Histogram<'link_type'>;
  readonly keysEvaluatedTotal: Counter;
  readonly detectorEvaluatedSeconds: Gauge;

  readonly alertSinkQueueDepth: Gauge<'sink'>;
  readonly alertSinkDeliveredTotal: Counter<'sink'>;
  readonly alertSinkRetriesTotal: Counter<'sink'>;
  readonly alertSinkDroppedTotal: Counter<'sink'>;
  readonly alertMessagesResentTotal: Counter;

  readonly enforcementActionsTotal: Counter<'action' | 'dry_run'>;
  readonly enforcementCapReachedTotal: Counter<'scope'>;
  readonly accountsLimited: Gauge<'dry_run'>;
  readonly checkDecisionsTotal: Counter<'decision'>;
  readonly checkDuration: Histogram;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const r = (this.registry = new Registry());
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: r, prefix: 'lockstep_process_' });
    const reg = [r];
    this.eventsTotal = new Counter({ name: 'lockstep_events_total', help: 'Input events by result: ok (counted), invalid (dead-lettered), late (past allowed lateness, left out)', labelNames: ['result'], registers: reg });
    for (const result of ['ok', 'invalid', 'late']) this.eventsTotal.inc({ result }, 0);
    this.deadLetteredTotal = new Counter({ name: 'lockstep_dead_lettered_total', help: 'Events sent to the dead-letter topic, by reason code', labelNames: ['reason'], registers: reg });
    for (const reason of Object.keys(DEAD_LETTER_REASONS)) this.deadLetteredTotal.inc({ reason }, 0);
    this.batchDuration = new Histogram({ name: 'lockstep_batch_duration_seconds', help: 'Time to aggregate and write one flush to the window store', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: reg });
    this.batchEvents = new Histogram({ name: 'lockstep_batch_events', help: 'Events per flush', buckets: [1, 10, 100, 1000, 5000, 20000, 50000, 100000], registers: reg });
    this.watermarkLagSeconds = new Gauge({ name: 'lockstep_watermark_lag_seconds', help: 'Wall-clock time minus the overall event-time watermark', registers: reg });
    this.watermarkSeconds = new Gauge({ name: 'lockstep_watermark_seconds', help: 'Overall event-time watermark (min over partitions), epoch seconds', registers: reg });
    this.redisRoundtripsTotal = new Counter({ name: 'lockstep_redis_roundtrips_total', help: 'Round trips to Redis (a pipeline counts once)', registers: reg });
    this.redisCommandsTotal = new Counter({ name: 'lockstep_redis_commands_total', help: 'Commands sent to Redis', registers: reg });
    this.redisErrorsTotal = new Counter({ name: 'lockstep_redis_errors_total', help: 'Failed Redis round trips', registers: reg });
    this.storeConflictsTotal = new Counter({ name: 'lockstep_store_conflicts_total', help: 'Flushes refused because another writer advanced a partition (redelivery after rebalance)', registers: reg });
    this.membersCappedTotal = new Counter({ name: 'lockstep_members_capped_total', help: 'Member updates not kept because a key bucket reached windows.maxMembersPerBucket', registers: reg });
    this.linkValuesCappedTotal = new Counter({ name: 'lockstep_link_values_capped_total', help: 'Links counted under the value "(rotating)" because their account had used its share of distinct values of the type this period (ingest.valueCap)', labelNames: ['link_type'], registers: reg });
    for (const link_type of ATTRIBUTE_LINK_TYPES) this.linkValuesCappedTotal.inc({ link_type }, 0);
    this.consumerLag = new Gauge({ name: 'lockstep_consumer_lag_messages', help: 'End offset minus committed offset, per input partition', labelNames: ['topic', 'partition'], registers: reg });
    this.ready = new Gauge({ name: 'lockstep_ready', help: '1 when Kafka and the window store are reachable', registers: reg });
    this.behaviorAccountsTracked = new Gauge({ name: 'lockstep_behavior_accounts_tracked', help: 'Accounts whose behaviour signature this process holds', registers: reg });

    this.alertsTotal = new Counter({ name: 'lockstep_alerts_total', help: 'Fleet alerts fired (new episodes), by severity', labelNames: ['severity'], registers: reg });
    for (const severity of ['warning', 'critical']) this.alertsTotal.inc({ severity }, 0);
    this.fleetsFiring = new Gauge({ name: 'lockstep_fleets_firing', help: 'Fleet alerts now firing, by severity and primary link type', labelNames: ['severity', 'link_type'], registers: reg });
    this.detectorEvaluationSeconds = new Histogram({ name: 'lockstep_detector_evaluation_seconds', help: 'Time of one detector evaluation pass', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: reg });
    this.fleetScore = new Histogram({ name: 'lockstep_fleet_score', help: 'Scores of evaluated candidate fleets', labelNames: ['link_type'], buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], registers: reg });
    this.detectorEvaluatedSeconds = new Gauge({ name: 'lockstep_detector_evaluated_seconds', help: 'Event time of the last detector evaluation (tick), epoch seconds; behind the watermark while the detector catches up', registers: reg });
    this.keysEvaluatedTotal = new Counter({ name: 'lockstep_keys_evaluated_total', help: 'Candidate linking keys evaluated by the detector', registers: reg });

    this.alertSinkQueueDepth = new Gauge({ name: 'lockstep_alert_sink_queue_depth', help: 'Alerts waiting for delivery, per sink', labelNames: ['sink'], registers: reg });
    this.alertSinkDeliveredTotal = new Counter({ name: 'lockstep_alert_sink_delivered_total', help: 'Alerts delivered, per sink', labelNames: ['sink'], registers: reg });
    this.alertSinkRetriesTotal = new Counter({ name: 'lockstep_alert_sink_retries_total', help: 'Alert delivery retries, per sink', labelNames: ['sink'], registers: reg });
    this.alertSinkDroppedTotal = new Counter({ name: 'lockstep_alert_sink_dropped_total', help: 'Alerts dropped (queue full or retries exhausted), per sink', labelNames: ['sink'], registers: reg });
    this.alertMessagesResentTotal = new Counter({ name: 'lockstep_alert_messages_resent_total', help: 'Alert messages sent again by a new lease holder because the previous one had not seen them delivered', registers: reg });

    this.enforcementActionsTotal = new Counter({ name: 'lockstep_enforcement_actions_total', help: 'Enforcement decisions, by action (limit, release) and dry run', labelNames: ['action', 'dry_run'], registers: reg });
    this.enforcementCapReachedTotal = new Counter({ name: 'lockstep_enforcement_cap_reached_total', help: 'Times the blast-radius cap stopped further limits, by scope (alert, hour)', labelNames: ['scope'], registers: reg });
    this.accountsLimited = new Gauge({ name: 'lockstep_accounts_limited', help: 'Accounts under a limit now', labelNames: ['dry_run'], registers: reg });
    this.checkDecisionsTotal = new Counter({ name: 'lockstep_check_decisions_total', help: 'Gateway check decisions', labelNames: ['decision'], registers: reg });
    // Enforcement and check series exist (at 0) from the start: dashboards show 0 rather than "no data",
    // and rate()/increase() (LockstepEnforcementCapReached) see the first event.
    for (const action of ['limit', 'release']) for (const dry_run of ['true', 'false']) this.enforcementActionsTotal.inc({ action, dry_run }, 0);
    for (const scope of ['alert', 'hour']) this.enforcementCapReachedTotal.inc({ scope }, 0);
    for (const dry_run of ['true', 'false']) this.accountsLimited.set({ dry_run }, 0);
    for (const decision of ['allow', 'deny', 'dry_run_deny', 'error']) this.checkDecisionsTotal.inc({ decision }, 0);
    this.checkDuration = new Histogram({ name: 'lockstep_check_duration_seconds', help: 'Gateway check latency', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1], registers: reg });
  }
}
