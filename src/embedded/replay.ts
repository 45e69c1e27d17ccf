import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config';
import { createLogger } from '../log';
import { Metrics } from '../metrics/metrics';
import { MemoryWindowStore } from '../windows/memory-store';
import { WindowKeys } from '../windows/keys';
import { IngestPipeline } from '../ingest/pipeline';
import { MemoryDeadLetterSink } from '../ingest/dead-letter';
import { LocalFeed } from '../ingest/local-feed';
import { Detector } from '../detect/detector';
import { LocalLease } from '../detect/lease';
import { BehaviorTracker } from '../detect/behavior';
import type { Clock } from '../clock';
import { ndjsonLines } from './ndjson-lines';

export interface ReplayIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface ReplaySummary {
  events: number;
  invalid: number;
  alerts: number;
  seconds: number;
}

/**
 * `lockstep replay FILE|-`: NDJSON events through the same pipeline and detector as the service,
 * over the in-memory store; alert messages as NDJSON on stdout, progress on stderr. Time is the
 * events' own: the clock is the watermark, so a backtest of last month behaves as it did live.
 */
export async function runReplay(input: NodeJS.ReadableStream, io: ReplayIo, overrides: Record<string, unknown> = {}, progress = true): Promise<ReplaySummary> {
  const loaded = loadConfig(process.env, { ...overrides, ingest: { maxFutureMs: Number.MAX_SAFE_INTEGER, ...((overrides.ingest as object) ?? {}) } });
  // The clock is event time here, and only the detector reads the store, at each tick (the feed
  // flushes then): a flush every flushIntervalMs of event time would serve no reader and, for
  // sparse traffic, undo the pre-aggregation (a flush every few events). Nor would accounts' own
  // windows, which only the HTTP API reads.
  const config = { ...loaded, ingest: { ...loaded.ingest, flushIntervalMs: loaded.detector.evaluationIntervalMs }, windows: { ...loaded.windows, accountScales: [] } };
  const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level, io.stderr as unknown as import('pino').DestinationStream);
  const metrics = new Metrics({ defaultMetrics: false });
  const store = new MemoryWindowStore(new WindowKeys(config.redis.keyPrefix, config.redis.shards));
  const dlq = new MemoryDeadLetterSink(1000);
  let pipelineRef: IngestPipeline | null = null;
  const clock: Clock = { now: () => pipelineRef?.watermark() ?? 0 };
  const pipeline = new IngestPipeline(config, store, dlq, metrics, clock, new BehaviorTracker(config.detector.behavior));
  pipelineRef = pipeline;
  const detector = new Detector(config, store, metrics, new LocalLease(), log);
  let alerts = 0;
  detector.onAlert((a) => {
    alerts++;
    io.stdout.write(JSON.stringify(a) + '\n');
  });
  const feed = new LocalFeed(pipeline, config.detector.evaluationIntervalMs, (wm) => detector.maybeEvaluate(wm));
  const started = process.hrtime.bigint();
  let next = 1_000_000;
  for await (const line of ndjsonLines(input as AsyncIterable<Buffer | string>)) {
    await feed.push(line);
    if (progress && feed.count >= next) {
      next += 1_000_000;
      const s = Number(process.hrtime.bigint() - started) / 1e9;
      io.stderr.write(`replay: ${feed.count} events, ${alerts} alert messages, ${Math.round(feed.count / s)} events/s\n`);
    }
  }
  await feed.end();
  await detector.stop();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const invalid = (await metrics.eventsTotal.get()).values.find((v) => v.labels.result === 'invalid')?.value ?? 0;
  return { events: feed.count, invalid, alerts, seconds };
}

export async function runReplayCommand(argv: string[], io: ReplayIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { quiet: { type: 'boolean', default: false } } });
  } catch (e) {
    io.stderr.write(`lockstep replay: ${(e as Error).message}\nusage: lockstep replay FILE|- [--quiet]\n`);
    return 2;
  }
  const file = parsed.positionals[0];
  if (!file) {
    io.stderr.write('usage: lockstep replay FILE|- [--quiet]\n');
    return 2;
  }
  if (file !== '-' && !fs.existsSync(file)) {
    io.stderr.write(`lockstep replay: no such file: ${file}\n`);
    return 2;
  }
  const input = file === '-' ? io.stdin : fs.createReadStream(file);
  const s = await runReplay(input, io, {}, !parsed.values.quiet);
  if (!parsed.values.quiet) io.stderr.write(`replay: done: ${s.events} events (${s.invalid} invalid), ${s.alerts} alert messages in ${s.seconds.toFixed(1)} s (${Math.round(s.events / s.seconds)} events/s)\n`);
  return 0;
}
