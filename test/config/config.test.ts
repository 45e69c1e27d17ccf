import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, loadConfig } from '../../src/config/config';
import { LockstepError } from '../../src/errors';

function expectConfigError(fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LockstepError);
    expect((e as LockstepError).code).toBe('CONFIG_INVALID');
    expect((e as LockstepError).message).toContain(field);
    return;
  }
  throw new Error('expected a config error');
}

describe('config', () => {
  it('has a default for every setting and runs embedded without Kafka or Redis', () => {
    const c = defaultConfig();
    expect(c.kafka.brokers).toEqual([]);
    expect(c.redis.url).toBe('');
    expect(c.kafka.inputTopic).toBe('llm.requests');
    expect(c.kafka.dlqTopic).toBe('llm.requests.dlq');
    expect(c.windows.scales.map((s) => s.name)).toEqual(['1m', '1h']);
  });

  it('applies environment overrides', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9092', KAFKA_GROUP_ID: 'g', KAFKA_FROM_BEGINNING: 'true', REDIS_URL: 'redis://x:6379', HTTP_PORT: '9000', INPUT_TOPIC: 'in' });
    expect(c.kafka.brokers).toEqual(['a:9092', 'b:9092']);
    expect(c.kafka.groupId).toBe('g');
    expect(c.kafka.fromBeginning).toBe(true);
    expect(c.redis.url).toBe('redis://x:6379');
    expect(c.http.port).toBe(9000);
    expect(c.kafka.inputTopic).toBe('in');
  });

  it('reads the file named by LOCKSTEP_CONFIG, under the environment', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-')), 'c.json');
    fs.writeFileSync(f, JSON.stringify({ http: { port: 7000 }, detector: { minFleetSize: 20 } }));
    expect(loadConfig({ LOCKSTEP_CONFIG: f }).http.port).toBe(7000);
    expect(loadConfig({ LOCKSTEP_CONFIG: f, HTTP_PORT: '7001' }).http.port).toBe(7001);
    expect(loadConfig({ LOCKSTEP_CONFIG: f }).detector.minFleetSize).toBe(20);
  });

  it('stops start-up with a message naming the bad field', () => {
    expectConfigError(() => loadConfig({ HTTP_PORT: 'eighty' }), 'HTTP_PORT');
    expectConfigError(() => defaultConfig({ http: { port: 70000 } }), 'http.port');
    expectConfigError(() => defaultConfig({ detector: { thresholds: { warning: 0.9, critical: 0.5 } } }), 'detector.thresholds.warning');
    expectConfigError(() => defaultConfig({ kafka: { sessionTimeoutMs: 60000 }, detector: { partitionStallMs: 30000 } }), 'detector.partitionStallMs');
    expect(defaultConfig({ kafka: { sessionTimeoutMs: 60000 }, detector: { partitionStallMs: 0 } }).detector.partitionStallMs).toBe(0);
    expectConfigError(() => defaultConfig({ kafka: { sessionTimeoutMs: 4000 } }), 'kafka.heartbeatIntervalMs');
    expect(defaultConfig({ kafka: { sessionTimeoutMs: 6000 } }).kafka.heartbeatIntervalMs).toBe(3000);
    expectConfigError(() => defaultConfig({ kafka: { brokerz: [] } }), 'kafka.brokerz');
    expectConfigError(() => defaultConfig({ windows: { scales: [{ name: '1m', bucketMs: 60000 }] } }), 'windows.scales.0.buckets');
    expectConfigError(() => defaultConfig({ windows: { scales: [{ name: 'a', bucketMs: 60000, buckets: 2 }, { name: 'a', bucketMs: 120000, buckets: 2 }] } }), 'windows.scales.1.name');
    expectConfigError(() => defaultConfig({ windows: { accountScales: ['1h', '1d'] } }), 'windows.accountScales.1');
    expectConfigError(() => defaultConfig({ ingest: { valueCap: { maxValues: 0 } } }), 'ingest.valueCap.maxValues');
    expectConfigError(() => defaultConfig({ ingest: { valueCap: { maxValuesByType: { ip_prefix: 0 } } } }), 'ingest.valueCap.maxValuesByType.ip_prefix');
    // behaviour links are not capped: their values are the account's own fingerprint bands
    expectConfigError(() => defaultConfig({ ingest: { valueCap: { maxValuesByType: { behavior: 4 } } } }), 'ingest.valueCap.maxValuesByType.behavior');
  });
});
