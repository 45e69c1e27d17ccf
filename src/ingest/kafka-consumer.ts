import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Config } from '../config/config';
import type { Logger } from '../log';
import { LockstepError } from '../errors';
import type { FlushReport, IngestPipeline } from './pipeline';
import { whileHeartbeating } from './session-keepalive';

/**
 * Feeds the input topic into the pipeline: a consumer group processing whole batches, committing
 * offsets only after the flush that holds them is in the store. While the store is down it stops
 * (keeping the session alive with heartbeats), reports not ready, and resumes by itself.
 */
export class KafkaIngest {
  private consumer: Consumer;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** the flush started last, until the next one starts: true once durable and committed */
  private outstanding: Promise<boolean> | null = null;
  private commits: Promise<void> = Promise.resolve();
  private stopping = false;
  private running = false;
  private storeHealthy = true;
  /** false once the brokers have been silent (no fetch, heartbeat, commit or join) for a session timeout */
  private kafkaHeard = true;
  private kafkaSilence: NodeJS.Timeout | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: Config,
    private readonly pipeline: IngestPipeline,
    private readonly log: Logger,
  ) {
    this.consumer = this.createConsumer();
  }

  private createConsumer(): Consumer {
    const consumer = this.kafka.consumer({
      groupId: this.config.kafka.groupId,
      sessionTimeout: this.config.kafka.sessionTimeoutMs,
      heartbeatInterval: this.config.kafka.heartbeatIntervalMs,
      maxWaitTimeInMs: this.config.kafka.maxWaitTimeInMs,
      maxBytesPerPartition: this.config.kafka.maxBytesPerPartition,
      retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: Number.MAX_SAFE_INTEGER },
    });
    const current = (): boolean => consumer === this.consumer;
    const { GROUP_JOIN, CRASH, CONNECT, DISCONNECT, FETCH, HEARTBEAT, COMMIT_OFFSETS } = consumer.events;
    // a broker outage raises no consumer event (kafkajs retries quietly): readiness goes by silence
    for (const answered of [FETCH, HEARTBEAT, COMMIT_OFFSETS, GROUP_JOIN]) consumer.on(answered, () => this.heardFromKafka());
    consumer.on(GROUP_JOIN, (e) => {
      this.log.info({ assignment: e.payload.memberAssignment }, 'joined consumer group');
      // markers cached for partitions we may have lost and regained are stale now
      const assigned = (e.payload.memberAssignment as Record<string, number[]>)[this.config.kafka.inputTopic] ?? [];
      void this.exclusive(async () => {
        this.pipeline.invalidatePartitions();
        this.pipeline.expectPartitions(this.config.kafka.inputTopic, assigned);
      });
    });
    consumer.on(CONNECT, () => current() && (this.running = true));
    consumer.on(DISCONNECT, () => current() && (this.running = false));
    consumer.on(CRASH, (e) => {
      if (!current()) return;
      this.running = false;
      this.log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      // kafkajs gives up on errors it deems fatal (seen: a SyncGroup refused during a busy rebalance);
      // a process that stays up without consuming would be a silent outage
      if (!e.payload.restart) void this.replaceConsumer();
    });
    return consumer;
  }

  private async runConsumer(): Promise<void> {
    await this.consumer.connect();
    this.running = true;
    await this.consumer.subscribe({ topic: this.config.kafka.inputTopic, fromBeginning: this.config.kafka.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: this.config.kafka.partitionsConsumedConcurrently,
      eachBatch: (payload) => whileHeartbeating(payload.heartbeat, this.config.kafka.heartbeatIntervalMs, () => this.exclusive(() => this.onBatch(payload))),
    });
  }

  /** Starts a fresh consumer in the group after kafkajs abandoned the old one, retrying until it runs. */
  private async replaceConsumer(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 10_000)));
      if (this.stopping) return;
      await this.consumer.disconnect().catch(() => undefined);
      this.consumer = this.createConsumer();
      try {
        await this.runConsumer();
        this.log.warn('Kafka consumer restarted after a fatal error');
        return;
      } catch (err) {
        this.log.error({ err }, 'Kafka consumer restart failed; retrying');
      }
    }
  }

  /** Kafka connected and answering, and the store accepting writes. */
  get ready(): boolean {
    return this.running && this.kafkaHeard && this.storeHealthy && !this.stopping;
  }

  private heardFromKafka(): void {
    this.kafkaHeard = true;
    this.kafkaSilence?.refresh();
  }

  async start(): Promise<void> {
    this.kafkaSilence = setTimeout(() => (this.kafkaHeard = false), this.config.kafka.sessionTimeoutMs);
    this.kafkaSilence.unref();
    await this.runConsumer();
    this.timer = setInterval(() => {
      if (this.pipeline.shouldFlush()) void this.exclusive(() => this.flushAndCommit(null)).catch((err) => this.log.error({ err }, 'timed flush failed'));
      // with nothing to flush the watermark can still move (an empty partition stops holding it back)
      else if (this.pipeline.pendingCount === 0) this.pipeline.announceWatermark();
    }, Math.max(10, Math.floor(this.config.ingest.flushIntervalMs / 2)));
  }

  private async onBatch({ batch, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    await this.withStore(heartbeat, () => this.pipeline.ensurePartition(batch.topic, batch.partition));
    for (const m of batch.messages) {
      // uncommitted messages left here are redelivered to whoever owns the partition next
      if (this.stopping || !isRunning() || isStale()) break;
      this.pipeline.ingest(batch.topic, batch.partition, m);
      if (this.pipeline.shouldFlush()) await this.flushAndCommit(heartbeat);
    }
    if (this.pipeline.shouldFlush()) await this.flushAndCommit(heartbeat);
  }

  /** The store took a write or read: ready again (said once, at the change). */
  private storeAnswered(): void {
    if (!this.storeHealthy) this.log.info('window store reachable again; resuming');
    this.storeHealthy = true;
  }

  /** A write or read failed: not ready until the store answers again (said once, at the change). */
  private storeFailed(err: unknown, message: string): void {
    if (this.storeHealthy) this.log.error({ err }, message);
    this.storeHealthy = false;
  }

  /** Retries a store operation until it succeeds, heartbeating so the group keeps our partitions. */
  private async withStore<T>(heartbeat: (() => Promise<void>) | null, op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await op();
        this.storeAnswered();
        return r;
      } catch (err) {
        if (!(err instanceof LockstepError) || err.code !== 'STORE_UNAVAILABLE') {
          if (!(err instanceof Error) || !/connect|ECONNREFUSED|Connection|timed out|ETIMEDOUT|closed/i.test(err.message)) throw err;
        }
        this.storeFailed(err, 'window store unavailable; holding offsets and retrying');
        if (this.stopping) throw err;
        if (heartbeat) await heartbeat().catch(() => undefined);
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** Math.min(attempt, 5), 2000)));
      }
    }
  }

  /**
   * Starts a flush of what is pending and returns once the flush before it is durable and
   * committed: the store writes one flush while this instance reads and builds the next, and no
   * more than two are ever out. When a flush failed (the store is down), holds here, heartbeating,
   * until everything pending is durable, as a batch always has. `wait` also waits for this one.
   */
  private async flushAndCommit(heartbeat: (() => Promise<void>) | null, wait = false): Promise<void> {
    const previous = this.outstanding;
    const current = this.startFlush();
    this.outstanding = current;
    const ok = (previous === null || (await previous)) && (!wait || (await current));
    if (ok) return;
    // a failed flush returns its events to pending; so does every flush sent after it
    await current;
    await this.withStore(heartbeat, async () => this.commit(await this.pipeline.flush()));
    this.outstanding = null;
  }

  /** One flush, committed when durable; false when it failed (its events are pending again). */
  private startFlush(): Promise<boolean> {
    return this.pipeline.flush().then(
      async (report) => {
        this.storeAnswered();
        await this.commit(report);
        return true;
      },
      (err: unknown) => {
        // retried (or, if it is no outage, raised) by flushAndCommit, which classifies it
        this.storeFailed(err, 'flush failed; holding offsets and retrying');
        return false;
      },
    );
  }

  /** Commits in the order flushes were started (a later flush's offsets are higher). */
  private commit(report: FlushReport): Promise<void> {
    if (report.commits.length === 0) return this.commits;
    this.commits = this.commits.then(async () => {
      try {
        await this.consumer.commitOffsets(report.commits);
      } catch (err) {
        // not fatal: the counters are in the store and guarded by markers, a redelivery counts nothing twice
        this.log.warn({ err, commits: report.commits }, 'offset commit failed');
      }
    });
    return this.commits;
  }

  /** One batch, flush or rebalance step at a time. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Graceful stop: finish the batch, flush, commit, leave the group. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.kafkaSilence) clearTimeout(this.kafkaSilence);
    this.stopping = true;
    this.consumer.pause([{ topic: this.config.kafka.inputTopic }]);
    await this.exclusive(() => this.flushAndCommit(null, true)).catch((err) => this.log.error({ err }, 'final flush failed; uncommitted events will be redelivered'));
    await this.consumer.disconnect();
  }
}
