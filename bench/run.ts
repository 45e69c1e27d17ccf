/**
 * lockstep against the limits of its own stack. Build, then run:
 *   npm run bench -- [--json] [--events N] [--reps R] [--quick] [--scenario NAME] [--seed S] [--check-seconds S] [--profile DIR]
 *   (= npm run build && node dist/bench/run.js ...)
 * Starts redis-server and the librdkafka mock cluster on loopback, pre-produces N simulator events
 * (keyed by account) to a topic with enough partitions for the mock's retention, then measures, each
 * `reps` times (median reported): a bare kafkajs consumer, the built service draining the topic into
 * Redis with the detector on, `lockstep replay`, the floor (bench/floor: the least any design must do
 * per event) read from the same topic and file, the gateway check (bench/check.bench), and Redis
 * memory per active account. --profile writes V8 CPU profiles of the service and replay processes. See docs/performance.md for what the figures mean and the targets.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../src/config/config';
import { startRedis } from '../test/support/redis';
import { measureCheck, type CheckResult } from './check';
import { buildDataset, partitionsFor, produceDataset, removeDataset } from './dataset';
import { defaultFloor, measureFloor } from './floor';
import { measureRedisMemory, type MemoryRun } from './memory';
import { measurePipeline, type PipelineRun } from './pipeline';
import { measureRawConsume } from './raw-consume';
import { measureReplay } from './replay';
import { formatReport, median, type BenchReport } from './report';
import { startBenchKafka } from './stack';

const TOPIC = 'bench.requests';

function loadAverage(): [number, number, number] {
  const [a, b, c] = os.loadavg();
  return [Number(a.toFixed(2)), Number(b.toFixed(2)), Number(c.toFixed(2))];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      events: { type: 'string', default: '1000000' },
      reps: { type: 'string' },
      scenario: { type: 'string', default: 'mixed' },
      seed: { type: 'string', default: '42' },
      'check-seconds': { type: 'string' },
      profile: { type: 'string' },
    },
  });
  const n = Number(values.events);
  const reps = Number(values.reps ?? (values.quick ? 1 : 3));
  const checkSeconds = Number(values['check-seconds'] ?? (values.quick ? 1 : 5));
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(reps) || reps < 1) throw new Error('--events and --reps must be positive integers');
  const progress = (msg: string): void => void process.stderr.write(`bench: ${msg} (load ${loadAverage().join(' ')})\n`);
  const load: Record<string, [number, number, number]> = { start: loadAverage() };

  progress(`generating ${n} events of scenario ${values.scenario}`);
  const data = buildDataset(values.scenario, Number(values.seed), n);
  const partitions = partitionsFor(data);
  const [redis, kafka] = await Promise.all([startRedis(), startBenchKafka({ [TOPIC]: partitions, [`${TOPIC}.dlq`]: 4, 'bench.alerts': 4 }, 3)]);
  const client = redis.client();
  try {
    progress(`producing to ${TOPIC} (${partitions} partitions)`);
    await produceDataset(data, kafka.brokers, TOPIC);
    const timeoutMs = 60_000 + n / 2;
    const config = defaultConfig({ kafka: { brokers: kafka.brokers, maxWaitTimeInMs: 100 } });

    const raw: number[] = [];
    const floorConsume: number[] = [];
    const pipeline: PipelineRun[] = [];
    const replay: number[] = [];
    const floorReplay: number[] = [];
    load.consume = loadAverage();
    for (let r = 0; r < reps; r++) {
      progress(`raw consume ${r + 1}/${reps}`);
      raw.push(await measureRawConsume(config, TOPIC, n, timeoutMs));
      progress(`floor consume ${r + 1}/${reps}`);
      const floor = defaultFloor();
      floorConsume.push(await measureRawConsume(config, TOPIC, n, timeoutMs, (v) => floor.add(v)));
      progress(`pipeline ${r + 1}/${reps}`);
      pipeline.push(await measurePipeline({ brokers: kafka.brokers, redisUrl: redis.url, redis: client, topic: TOPIC, n, timeoutMs, pollMs: n >= 200_000 ? 200 : 50, cpuProfileDir: values.profile }));
    }
    load.replay = loadAverage();
    let alerts = 0;
    for (let r = 0; r < reps; r++) {
      progress(`replay ${r + 1}/${reps}`);
      const run = await measureReplay(data.ndjsonFile, values.profile);
      replay.push(run.eventsPerSec);
      alerts = run.alerts;
      progress(`floor replay ${r + 1}/${reps}`);
      const floor = await measureFloor(data.ndjsonFile);
      if (floor.events !== run.events) throw new Error(`the floor counted ${floor.events} events, replay ${run.events}`);
      floorReplay.push(floor.eventsPerSec);
    }
    load.memory = loadAverage();
    progress('redis memory');
    const memory: MemoryRun = await measureRedisMemory(data.ndjsonFile, redis.url, client);
    load.check = loadAverage();
    const checks: CheckResult[] = [];
    for (let r = 0; r < reps; r++) {
      progress(`gateway check ${r + 1}/${reps}`);
      checks.push(await measureCheck(checkSeconds));
    }
    // its scenarios as the run whose p99 is the median's: one run's figures, not a mix of several
    const check = [...checks].sort((a, b) => a.checkP99Ms - b.checkP99Ms)[Math.floor(checks.length / 2)];
    load.end = loadAverage();

    const med = (f: (p: PipelineRun) => number): number => median(pipeline.map(f));
    const rawMedian = median(raw);
    const pipelineMedian = med((p) => p.eventsPerSec);
    const report: BenchReport = {
      machine: { cores: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverage: load },
      params: { events: n, reps, scenario: data.scenario, seed: data.seed, partitions, bytesPerEvent: Math.round(data.bytes / n), eventTimeSpanMs: data.lastTs - data.firstTs, checkSeconds },
      rawConsumeEventsPerSec: rawMedian,
      pipelineEventsPerSec: pipelineMedian,
      ratio: pipelineMedian / rawMedian,
      floorConsumeEventsPerSec: median(floorConsume),
      floorRatio: median(floorConsume) / rawMedian,
      redisRoundtripsPerEvent: med((p) => p.roundtripsPerEvent),
      redisCommandsPerEvent: med((p) => p.commandsPerEvent),
      redisServerCommandsPerEvent: med((p) => p.serverCommandsPerEvent),
      serviceCpuUsPerEvent: med((p) => p.serviceCpuUsPerEvent),
      redisCpuUsPerEvent: med((p) => p.redisCpuUsPerEvent),
      redisCommandMix: [...pipeline].sort((a, b) => a.eventsPerSec - b.eventsPerSec)[Math.floor(pipeline.length / 2)].commandMix,
      replayEventsPerSec: median(replay),
      replayAlerts: alerts,
      floorReplayEventsPerSec: median(floorReplay),
      checkPerSec: median(checks.map((c) => c.checkPerSec)),
      checkP99Ms: median(checks.map((c) => c.checkP99Ms)),
      rssMb: med((p) => p.rssMb),
      redisBytesPerActiveAccount: memory.bytesPerActiveAccount,
      memory,
      check,
      runs: { rawConsumeEventsPerSec: raw, floorConsumeEventsPerSec: floorConsume, pipeline, replayEventsPerSec: replay, floorReplayEventsPerSec: floorReplay, check: checks },
    };
    process.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatReport(report));
  } finally {
    client.disconnect();
    await Promise.all([redis.stop(), kafka.stop()]);
    removeDataset(data);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`lockstep bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
