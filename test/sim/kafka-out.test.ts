import { PassThrough } from 'node:stream';
import { runSimulateCommand } from '../../src/sim/cli';
import { generateEvents } from '../../src/sim/generate';
import { loadScenario } from '../../src/sim/scenario';
import { consumeAll, startKafka, type KafkaCluster } from '../support/kafka';

describe('lockstep simulate --kafka-brokers', () => {
  let kafka: KafkaCluster;
  beforeAll(async () => {
    kafka = await startKafka({ topics: { 'sim.requests': 4 } });
  });
  afterAll(async () => kafka?.stop());

  it('produces the same events as the NDJSON output, keyed by account', async () => {
    const stderr = new PassThrough();
    const code = await runSimulateCommand(['--scenario', 'small', '--seed', '3', '--kafka-brokers', kafka.brokers.join(','), '--topic', 'sim.requests'], { stdout: new PassThrough(), stderr });
    expect(code).toBe(0);
    const expected = [...generateEvents(loadScenario('small'), 3)];
    const got = await consumeAll(kafka.brokers, 'sim.requests', { expected: expected.length, timeoutMs: 60_000 });
    expect(got).toHaveLength(expected.length);
    expect(got.every((m) => JSON.parse(String(m.value)).accountId === String(m.key))).toBe(true);
    const byRequest = new Set(got.map((m) => String(m.value)));
    expect(expected.every((e) => byRequest.has(JSON.stringify(e)))).toBe(true);
  });
});
