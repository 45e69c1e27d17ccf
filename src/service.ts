import os from 'node:os';
import type http from 'node:http';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Config } from './config/config';
import type { Clock } from './clock';
import type { Logger } from './log';
import { Metrics } from './metrics/metrics';
import { KEY_TYPES, type KeyType } from './events/request-event';
import { WindowKeys } from './windows/keys';
import type { KeyRef, WindowStore } from './windows/store';
import { MemoryWindowStore } from './windows/memory-store';
import { RedisWindowStore, createRedisClient } from './windows/redis-store';
import { readKeyView } from './windows/key-view';
import { IngestPipeline } from './ingest/pipeline';
import { MemoryDeadLetterSink, type DeadLetterSink } from './ingest/dead-letter';
import { KafkaDeadLetterSink } from './ingest/kafka-dead-letter';
import { KafkaIngest } from './ingest/kafka-consumer';
import { LocalFeed } from './ingest/local-feed';
import { createKafka } from './kafka/client';
import { BehaviorTracker } from './detect/behavior';
import { Detector } from './detect/detector';
import { LocalLease, RedisLease, type DetectorLease } from './detect/lease';
import { AlertDispatcher, AlertmanagerSink, LogSink, type AlertSink } from './alerts/dispatcher';
import { KafkaAlertSink } from './alerts/kafka-sink';
import { startDemo } from './embedded/demo';
import { Router, sendError, sendJson } from './http/router';
import { createHttpServer, listen } from './http/server';
import { registerEvidencePages } from './http/pages';
import { createEnforcement } from './enforce';
import { startConsumerLagMonitor } from './metrics/consumer-lag';
import { windowBuckets } from './detect/assess';
import { InputWatermark } from './detect/input-watermark';

/** Alertmanager forgets a firing alert that is not re-sent; lockstep re-sends this often (wall clock). */
const ALERTMANAGER_RESEND_MS = 60_000;

/** What `lockstep run` starts, and how tests reach into it. */
export interface Service {
  config: Config;
  metrics: Metrics;
  store: WindowStore;
  pipeline: IngestPipeline;
  detector: Detector;
  router: Router;
  http: http.Server;
  port: number;
  /** true when Kafka (if configured) and the store are reachable */
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

export function createStore(config: Config, log: Logger): WindowStore {
  const keys = new WindowKeys(config.redis.keyPrefix, config.redis.shards);
  if (config.redis.url || config.redis.clusterNodes.length > 0) return new RedisWindowStore(createRedisClient(config.redis, log.child({ component: 'redis' })), keys);
  return new MemoryWindowStore(keys);
}

export async function startService(config: Config, clock: Clock, log: Logger): Promise<Service> {
  const metrics = new Metrics();
  const store = createStore(config, log);
  const embedded = config.kafka.brokers.length === 0;
  let kafka: Kafka | null = null;
  let producer: Producer | null = null;
  let deadLetters: DeadLetterSink;
  if (embedded) {
    deadLetters = new MemoryDeadLetterSink();
  } else {
    kafka = createKafka(config.kafka, log);
    producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    deadLetters = new KafkaDeadLetterSink(producer, config.kafka.dlqTopic);
  }
  // the demo runs simulated time faster than the wall clock: there, time is the events' own
  let pipelineRef: IngestPipeline | null = null;
  const pipelineClock: Clock = embedded ? { now: () => Math.max(clock.now(), pipelineRef?.watermark() ?? 0) } : clock;
  const pipeline = new IngestPipeline(config, store, deadLetters, metrics, pipelineClock, new BehaviorTracker(config.detector.behavior));
  pipelineRef = pipeline;

  const lease: DetectorLease =
    store instanceof RedisWindowStore
      ? new RedisLease(store.client, config.redis.keyPrefix, `${os.hostname()}:${process.pid}:${clock.now()}`, config.detector.leaseTtlMs)
      : new LocalLease();
  const detector = new Detector(config, store, metrics, lease, log.child({ component: 'detector' }));
  detector.startLeaseRenewal();
  const sinks: AlertSink[] = [new LogSink(log.child({ component: 'alerts' }))];
  if (producer) sinks.push(new KafkaAlertSink(producer, config.kafka.alertTopic));
  const alertmanager = config.alerts.alertmanagerUrl ? new AlertmanagerSink(config.alerts.alertmanagerUrl, config.alerts.runbookUrl, clock, ALERTMANAGER_RESEND_MS) : null;
  if (alertmanager) sinks.push(alertmanager);
  const dispatcher = new AlertDispatcher(sinks, config.alerts, metrics, log.child({ component: 'alerts' }));
  detector.onAlert((a) => dispatcher.dispatch(a));
  const resend = alertmanager
    ? setInterval(() => {
        for (const a of detector.list()) if (a.status === 'firing') dispatcher.dispatch(a, alertmanager.name);
      }, ALERTMANAGER_RESEND_MS).unref()
    : null;

  const ingest = kafka ? new KafkaIngest(kafka, config, pipeline, log.child({ component: 'ingest' })) : null;
  if (ingest) {
    // judge no further than the slowest partition of the topic, whoever reads it (input-watermark.ts)
    const input = new InputWatermark(store, config.kafka.inputTopic, config.detector.partitionStallMs, clock);
    pipeline.onFlush((r) => {
      if (r.watermark === null || config.detector.partitionStallMs === 0) return void detector.maybeEvaluate(r.watermark, r.earliest);
      const local = r.watermark;
      void input.read().then(
        (all) => detector.maybeEvaluate(all === null ? local : Math.min(local, all), r.earliest),
        // the store is unreachable: judge nothing now, the next flush asks again
        () => undefined,
      );
    });
  }

  const router = new Router();
  const ready = async (): Promise<boolean> => {
    const storeOk = await store.ping();
    const ok = storeOk && (ingest === null || ingest.ready);
    metrics.ready.set(ok ? 1 : 0);
    return ok;
  };
  router
    .add('GET', '/healthz', ({ res }) => sendJson(res, 200, { status: 'ok' }))
    .add('GET', '/readyz', async ({ res }) => {
      const ok = await ready();
      sendJson(res, ok ? 200 : 503, { ready: ok, store: store.kind, mode: embedded ? 'embedded' : 'kafka' });
    })
    .add('GET', '/metrics', async ({ res }) => {
      await ready();
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
    })
    .add('GET', '/v1/keys/:type/:value', async ({ res, params }) => {
      if (!KEY_TYPES.includes(params.type as KeyType)) {
        return sendError(res, 400, 'bad_key_type', `unknown key type "${params.type}"; one of ${KEY_TYPES.join(', ')}`);
      }
      if (params.type === 'account' && config.windows.accountScales.length === 0) {
        return sendError(res, 404, 'account_windows_off', 'accounts\' own windows are not kept (windows.accountScales is empty); an account\'s requests show in the windows of its linking keys');
      }
      const wm = pipeline.watermark() ?? clock.now();
      sendJson(res, 200, await readKeyView(store, config, params.type as KeyType, params.value, wm));
    })
    .add('GET', '/v1/alerts', ({ res }) => sendJson(res, 200, { alerts: detector.list() }))
    .add('GET', '/v1/alerts/:alertId', ({ res, params }) => {
      const a = detector.get(params.alertId);
      if (!a) return sendError(res, 404, 'not_found', `no alert ${params.alertId}`);
      sendJson(res, 200, a);
    });

  const enforcement = createEnforcement({
    config,
    redis: store instanceof RedisWindowStore ? store.client : null,
    producer,
    alerts: detector,
    metrics,
    clock,
    log,
    orgOf: allowlistedOrgOf(config, store, () => pipeline.watermark() ?? clock.now()),
    page: (alert, reason) => {
      log.error({ alertId: alert.alertId, reason }, 'enforcement blast-radius cap reached: a human must decide');
      if (alertmanager) dispatcher.dispatch({ ...alert, severity: 'critical', evidence: { ...alert.evidence, reason: `enforcement cap reached, no further limits: ${reason}. ${alert.evidence.reason}` } }, alertmanager.name);
    },
  });
  enforcement.routes(router);
  registerEvidencePages(router, {
    config,
    store,
    alerts: detector,
    watermark: () => pipeline.watermark(),
    enforcement: async (accountIds) => {
      const now = clock.now();
      const out = new Map<string, { limited: boolean; dryRun: boolean }>();
      await Promise.all(accountIds.map(async (a) => out.set(a, { limited: (await enforcement.store.get(a, now)) !== null, dryRun: !config.enforcement.enabled })));
      return out;
    },
  });

  const server = createHttpServer(router, log.child({ component: 'http' }));
  const port = await listen(server, config.http.port, config.http.host);
  log.info({ port, mode: embedded ? 'embedded' : 'kafka', store: store.kind }, 'lockstep listening');
  if (ingest) await ingest.start();
  const lagMonitor = kafka ? startConsumerLagMonitor({ kafka, groupId: config.kafka.groupId, topic: config.kafka.inputTopic, metrics, intervalMs: 15_000, log: log.child({ component: 'consumer-lag' }) }) : null;
  const demo = embedded ? startDemo(new LocalFeed(pipeline, config.detector.evaluationIntervalMs, (wm) => detector.maybeEvaluate(wm)), config, clock, log) : null;

  let stopped = false;
  return {
    config,
    metrics,
    store,
    pipeline,
    detector,
    router,
    http: server,
    port,
    ready,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (resend) clearInterval(resend);
      if (demo) await demo.stop();
      if (ingest) await ingest.stop();
      await detector.stop();
      await enforcement.stop();
      await Promise.race([dispatcher.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      if (lagMonitor) await lagMonitor.stop();
      if (producer) await producer.disconnect().catch(() => undefined);
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await store.close();
      log.info('lockstep stopped');
    },
  };
}

/**
 * The org of an account, as far as the enforcement allowlist needs it: an account seen in the
 * window of an allowlisted org's key is in that org. Alerts carry accounts, not orgs; this reads
 * the allowlisted orgs' members from the window store, at most once a minute.
 */
function allowlistedOrgOf(config: Config, store: WindowStore, now: () => number): ((accountId: string) => Promise<string | undefined>) | undefined {
  const orgs = config.enforcement.allowlist.orgs;
  if (orgs.length === 0) return undefined;
  const scale = config.windows.scales[config.windows.scales.length - 1];
  let members = new Map<string, string>();
  let readAt = -Infinity;
  return async (accountId) => {
    if (now() - readAt > 60_000) {
      readAt = now();
      const { first, last } = windowBuckets(scale, now() + scale.bucketMs);
      const keys: KeyRef[] = orgs.map((value) => ({ type: 'org', value }));
      const next = new Map<string, string>();
      (await store.readBuckets(keys, scale, first, last)).forEach((buckets, i) => {
        for (const b of buckets) for (const a of b.members.keys()) next.set(a, orgs[i]);
      });
      members = next;
    }
    return members.get(accountId);
  };
}
