import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { generateEvents } from '../src/sim/generate';
import { loadScenario } from '../src/sim/scenario';

const execFileAsync = promisify(execFile);

/** The mock keeps about 5 MiB per partition; stay well below it so nothing is dropped before it is read. */
const MAX_BYTES_PER_PARTITION = 3 * 1024 * 1024;

export interface Dataset {
  scenario: string;
  seed: number;
  events: number;
  bytes: number;
  /** NDJSON of the events, in event-time order (the replay input) */
  ndjsonFile: string;
  /** "accountId<TAB>event" lines (kcat's keyed input) */
  keyedFile: string;
  firstTs: number;
  lastTs: number;
  dir: string;
}

/**
 * The first `n` events of a simulator scenario, serialised once. Fails when the scenario is
 * shorter than `n`: a bench must say what it measured.
 */
export function buildDataset(scenarioName: string, seed: number, n: number): Dataset {
  const scenario = loadScenario(scenarioName);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-bench-data-'));
  const ndjsonFile = path.join(dir, 'events.ndjson');
  const keyedFile = path.join(dir, 'events.keyed');
  const nd = fs.openSync(ndjsonFile, 'w');
  const keyed = fs.openSync(keyedFile, 'w');
  let events = 0;
  let bytes = 0;
  let firstTs = 0;
  let lastTs = 0;
  let ndChunk: string[] = [];
  let keyedChunk: string[] = [];
  const drain = (): void => {
    fs.writeSync(nd, ndChunk.join(''));
    fs.writeSync(keyed, keyedChunk.join(''));
    ndChunk = [];
    keyedChunk = [];
  };
  for (const e of generateEvents(scenario, seed)) {
    if (events === n) break;
    const line = JSON.stringify(e);
    if (events === 0) firstTs = e.ts;
    lastTs = e.ts;
    events++;
    bytes += line.length;
    ndChunk.push(line + '\n');
    keyedChunk.push(e.accountId + '\t' + line + '\n');
    if (ndChunk.length === 10_000) drain();
  }
  drain();
  fs.closeSync(nd);
  fs.closeSync(keyed);
  if (events < n) throw new Error(`scenario ${scenarioName} has only ${events} events, fewer than the ${n} asked for`);
  return { scenario: scenarioName, seed, events, bytes, ndjsonFile, keyedFile, firstTs, lastTs, dir };
}

/** Partitions for a topic that holds the dataset without the mock's retention dropping any of it. */
export function partitionsFor(d: Dataset): number {
  let p = 8;
  while ((d.bytes * 1.1) / p > MAX_BYTES_PER_PARTITION) p *= 2;
  return p;
}

/**
 * Produces the dataset keyed by account (each account's events stay in order on one partition)
 * with kcat: librdkafka batches far larger than kafkajs does, so loading is not what takes time.
 */
export async function produceDataset(d: Dataset, brokers: string[], topic: string): Promise<void> {
  await execFileAsync('kcat', ['-P', '-b', brokers.join(','), '-t', topic, '-K', '\t', '-X', 'linger.ms=20', '-X', 'batch.num.messages=10000', '-X', 'queue.buffering.max.messages=1000000', '-l', d.keyedFile], { maxBuffer: 1 << 20 });
  const kafka = new Kafka({ clientId: 'lockstep-bench', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const held = offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
    const dropped = offsets.filter((o) => Number(o.low) > 0).length;
    if (held !== d.events || dropped > 0) throw new Error(`topic ${topic} holds ${held} of ${d.events} events (${dropped} partitions lost data to the mock's retention)`);
  } finally {
    await admin.disconnect();
  }
}

export function removeDataset(d: Dataset): void {
  fs.rmSync(d.dir, { recursive: true, force: true });
}
