import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { LockstepError } from '../errors';
import { generateEvents, labelsOf } from './generate';
import { listScenarioNames, loadScenario } from './scenario';
import { produceEvents } from './kafka-out';

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `usage: lockstep simulate --scenario NAME|FILE [--seed N] [--out FILE | --kafka-brokers HOST:PORT,... [--topic T]] [--labels FILE]
       lockstep simulate --list
Writes the scenario's request events as NDJSON (to --out, or stdout, or produced to Kafka) and its ground truth to --labels.
Same scenario and seed give byte-identical output.
  --scenario  a scenario JSON file, or a name from test/scenarios (see --list)
  --seed      integer seed (default 42)
  --out       events file (default: stdout)
  --kafka-brokers  produce the events to Kafka instead (key = accountId)
  --topic     topic to produce to (default llm.requests)
  --labels    labels JSON file (default: not written)
  --list      print the named scenarios and exit
`;

/** Write text, waiting when the stream asks us to (a slow pipe must not buffer millions of events). */
function write(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((resolve, reject) => {
    const onDrain = (): void => { stream.off('error', onError); resolve(); };
    const onError = (err: Error): void => { stream.off('drain', onDrain); reject(err); };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

function finish(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

const CHUNK_CHARS = 1 << 16;

export async function runSimulateCommand(argv: string[], io: CommandIo): Promise<number> {
  let values: { scenario?: string; seed?: string; out?: string; labels?: string; list?: boolean; help?: boolean; 'kafka-brokers'?: string; topic?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        scenario: { type: 'string', short: 's' }, seed: { type: 'string' }, out: { type: 'string', short: 'o' },
        labels: { type: 'string' }, list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        'kafka-brokers': { type: 'string' }, topic: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr.write(`lockstep simulate: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (values.list) {
    io.stdout.write(listScenarioNames().join('\n') + '\n');
    return 0;
  }
  if (!values.scenario) {
    io.stderr.write(`lockstep simulate: --scenario is required\n${USAGE}`);
    return 2;
  }
  const seed = values.seed === undefined ? 42 : Number(values.seed);
  if (!Number.isSafeInteger(seed)) {
    io.stderr.write(`lockstep simulate: --seed must be an integer, got "${values.seed}"\n`);
    return 2;
  }
  try {
    const scenario = loadScenario(values.scenario);
    if (values.labels !== undefined) fs.writeFileSync(values.labels, JSON.stringify(labelsOf(scenario, seed), null, 2) + '\n');
    if (values['kafka-brokers'] !== undefined) {
      const brokers = values['kafka-brokers'].split(',').map((b) => b.trim()).filter(Boolean);
      const topic = values.topic ?? 'llm.requests';
      const sent = await produceEvents(generateEvents(scenario, seed), brokers, topic);
      io.stderr.write(`lockstep simulate: produced ${sent} events to ${topic}\n`);
      return 0;
    }
    const out = values.out === undefined ? io.stdout : fs.createWriteStream(values.out);
    let chunk = '';
    for (const event of generateEvents(scenario, seed)) {
      chunk += JSON.stringify(event) + '\n';
      if (chunk.length >= CHUNK_CHARS) {
        const wait = write(out, chunk);
        chunk = '';
        if (wait) await wait;
      }
    }
    if (chunk.length > 0) await write(out, chunk);
    if (out !== io.stdout) await finish(out);
    return 0;
  } catch (err) {
    // the reader closed the pipe (`lockstep simulate ... | head`): it has what it wanted
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    const code = err instanceof LockstepError ? ` [${err.code}]` : '';
    io.stderr.write(`lockstep simulate: ${(err as Error).message}${code}\n`);
    return 1;
  }
}
