import { defaultConfig, type Config } from '../../src/config/config';
import { createLogger } from '../../src/log';
import { Metrics } from '../../src/metrics/metrics';
import { MemoryWindowStore } from '../../src/windows/memory-store';
import { WindowKeys } from '../../src/windows/keys';
import { IngestPipeline } from '../../src/ingest/pipeline';
import { MemoryDeadLetterSink } from '../../src/ingest/dead-letter';
import { LocalFeed } from '../../src/ingest/local-feed';
import { Detector, messageKey } from '../../src/detect/detector';
import { LocalLease, RedisLease } from '../../src/detect/lease';
import { BehaviorTracker } from '../../src/detect/behavior';
import { generateEvents } from '../../src/sim/generate';
import { loadScenario } from '../../src/sim/scenario';
import type { Alert } from '../../src/alerts/alert';
import type { Clock } from '../../src/clock';
import { sleep, startRedis, waitFor, type RedisServer } from '../support';

const LEASE_TTL_MS = 1000;
const PREFIX = 'outbox';

/** The ingest side as replay has it (memory store, event time as the clock), for detectors the tests make. */
function replayPipeline(): { config: Config; store: MemoryWindowStore; pipeline: IngestPipeline } {
  const config = defaultConfig({ ingest: { maxFutureMs: Number.MAX_SAFE_INTEGER }, detector: { leaseTtlMs: LEASE_TTL_MS }, log: { level: 'silent' } });
  const store = new MemoryWindowStore(new WindowKeys(config.redis.keyPrefix, config.redis.shards));
  let pipelineRef: IngestPipeline | null = null;
  const clock: Clock = { now: () => pipelineRef?.watermark() ?? 0 };
  const pipeline = new IngestPipeline(config, store, new MemoryDeadLetterSink(1000), new Metrics({ defaultMetrics: false }), clock, new BehaviorTracker(config.detector.behavior));
  pipelineRef = pipeline;
  return { config, store, pipeline };
}

/**
 * The detector's outbox: a lease holder that dies with alert messages not yet delivered (a sink
 * still retrying, enforcement not yet done) leaves them in its checkpoint, and its successor sends
 * them again. Real Redis holds the lease and the checkpoint; the `small` scenario makes the alerts.
 */
describe('detector outbox across a lease holder crash', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('the successor sends again what the dead holder had not seen delivered, and only that', async () => {
    const { config, store, pipeline } = replayPipeline();
    const detectorOn = (owner: string, metrics: Metrics): Detector => new Detector(config, store, metrics, new RedisLease(redis.client(), PREFIX, owner, LEASE_TTL_MS), createLogger('silent'));

    // the first holder's only sink never finishes a delivery (Kafka down, retrying)
    const first = detectorOn('first', new Metrics({ defaultMetrics: false }));
    const sentByFirst: Alert[] = [];
    first.onAlert((a) => {
      sentByFirst.push(a);
      return new Promise<void>(() => undefined);
    });
    const successorMetrics = new Metrics({ defaultMetrics: false });
    const successor = detectorOn('successor', successorMetrics);
    const sentBySuccessor: Alert[] = [];
    successor.onAlert((a) => {
      sentBySuccessor.push(a);
      return Promise.resolve();
    });

    let judging = first;
    const feed = new LocalFeed(pipeline, config.detector.evaluationIntervalMs, (wm) => judging.maybeEvaluate(wm));
    const events = generateEvents(loadScenario('small'), 42);
    for (const e of events) {
      await feed.push(Buffer.from(JSON.stringify(e), 'utf8'));
      if (judging === first && sentByFirst.some((a) => a.status === 'firing')) {
        // the first holder dies here (no release: its lease runs out)
        judging = successor;
        await sleep(LEASE_TTL_MS + 200);
      }
    }
    await feed.end();
    expect(judging).toBe(successor);

    // every message of the dead holder came again, identical, and before the successor's own
    const lost = sentByFirst.map(messageKey);
    expect(lost.length).toBeGreaterThan(0);
    expect(sentBySuccessor.slice(0, lost.length).map(messageKey)).toEqual(lost);
    expect(sentBySuccessor.slice(0, lost.length)).toEqual(sentByFirst);
    expect((await successorMetrics.alertMessagesResentTotal.get()).values[0].value).toBe(lost.length);
    // the successor went on judging: the same episodes (no second alertId for the fleet it resent)
    const firstIds = new Set(sentByFirst.map((a) => a.alertId));
    const laterFirings = sentBySuccessor.slice(lost.length).filter((a) => a.status === 'firing');
    expect(laterFirings.length).toBeGreaterThan(0);
    for (const a of laterFirings) if (sentByFirst.some((b) => b.fleetId === a.fleetId)) expect(firstIds.has(a.alertId)).toBe(true);

    // what the successor delivered leaves its checkpoint: a third holder would repeat nothing
    const lease = new RedisLease(redis.client(), PREFIX, 'reader', LEASE_TTL_MS);
    await waitFor(async () => ((await lease.loadState())?.outbox.length ?? -1) === 0, { timeoutMs: 5000, what: 'an empty outbox in the checkpoint' });
    await successor.stop();
  }, 60_000);

  it('a holder that stops waits for its deliveries and leaves nothing to send again', async () => {
    const { config, store, pipeline } = replayPipeline();
    const detector = new Detector(config, store, new Metrics({ defaultMetrics: false }), new RedisLease(redis.client(), 'stopping', 'holder', LEASE_TTL_MS), createLogger('silent'));
    let sent = 0;
    // a sink that takes a moment: the message is still on its way when stop() is called
    detector.onAlert(() => {
      sent++;
      return sleep(300);
    });
    const feed = new LocalFeed(pipeline, config.detector.evaluationIntervalMs, (wm) => detector.maybeEvaluate(wm));
    for (const e of generateEvents(loadScenario('small'), 42)) {
      await feed.push(Buffer.from(JSON.stringify(e), 'utf8'));
      if (sent > 0) break;
    }
    expect(sent).toBeGreaterThan(0);
    await detector.stop();
    const reader = new RedisLease(redis.client(), 'stopping', 'next', LEASE_TTL_MS);
    expect((await reader.loadState())?.outbox).toEqual([]);
    // and the lease is free for the next holder at once
    expect(await reader.acquire()).toBe('taken');
  }, 60_000);

  it('sends a tick\'s alerts even when its checkpoint cannot be saved (Redis briefly unreachable)', async () => {
    const { config, store, pipeline } = replayPipeline();
    const failing = new LocalLease();
    failing.saveState = async () => {
      throw new Error('connection lost');
    };
    const detector = new Detector(config, store, new Metrics({ defaultMetrics: false }), failing, createLogger('silent'));
    const sent: Alert[] = [];
    detector.onAlert((a) => void sent.push(a));
    const feed = new LocalFeed(pipeline, config.detector.evaluationIntervalMs, (wm) => detector.maybeEvaluate(wm));
    for (const e of generateEvents(loadScenario('small'), 42)) await feed.push(Buffer.from(JSON.stringify(e), 'utf8'));
    await feed.end();
    expect(sent.filter((a) => a.status === 'firing').length).toBeGreaterThan(0);
  }, 60_000);

  it('a holder whose lease another instance took saves nothing over its checkpoint', async () => {
    const client = redis.client();
    const mine = new RedisLease(client, 'fence', 'mine', 60_000);
    const theirs = new RedisLease(client, 'fence', 'theirs', 60_000);
    expect(await mine.acquire()).toBe('taken');
    const book = { fleets: [], groups: [], resolved: [], lastEvaluatedAt: 1 };
    expect(await mine.saveState({ book, outbox: [] })).toBe(true);
    await mine.release();
    expect(await theirs.acquire()).toBe('taken');
    expect(await mine.saveState({ book: { ...book, lastEvaluatedAt: 2 }, outbox: [] })).toBe(false);
    expect((await theirs.loadState())?.book.lastEvaluatedAt).toBe(1);
  });

  it('keeps the book where versions before the outbox read it, so a rolling upgrade can hand over either way', async () => {
    const client = redis.client();
    const book = { fleets: [], groups: [], resolved: [], lastEvaluatedAt: 7 };
    // written by an older version: the book alone
    await client.set('legacy:{detector}:state', JSON.stringify(book));
    const lease = new RedisLease(client, 'legacy', 'new', 60_000);
    expect(await lease.loadState()).toEqual({ book, outbox: [] });
    // written by this version: an older one reads the same key as its whole checkpoint
    expect(await lease.acquire()).toBe('taken');
    expect(await lease.saveState({ book: { ...book, lastEvaluatedAt: 8 }, outbox: [] })).toBe(true);
    expect(JSON.parse((await client.get('legacy:{detector}:state')) as string)).toEqual({ ...book, lastEvaluatedAt: 8 });
  });
});
