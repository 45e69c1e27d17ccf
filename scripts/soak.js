// Soak run (issue #8): lockstep under a steady load for a while, with RSS and Redis memory sampled.
// usage: npm run build && node scripts/soak.js [--minutes 30] [--rate 3000] [--out soak.csv]
// Needs the dev stack (npm run stack -- up). Events are the simulator's `mixed` population, stamped
// with the wall clock, so that event time is real time and Redis TTLs expire as in production. The
// windows are shortened (1m x 10 and 5m x 4) so that steady state (every window full, expiry
// keeping pace) is reached within the run.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Kafka, Partitioners, logLevel } = require('kafkajs');
const Redis = require('ioredis');
const root = path.resolve(__dirname, '..');
const { generateEvents } = require(path.join(root, 'dist/src/sim/generate'));
const { loadScenario } = require(path.join(root, 'dist/src/sim/scenario'));

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, rate: { type: 'string', default: '3000' }, out: { type: 'string', default: path.join(root, '.stack', 'soak.csv') } } });
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const envFile = path.join(root, '.stack', 'env');
if (!fs.existsSync(envFile)) throw new Error('run `npm run stack -- up` first');
const env = Object.fromEntries([...fs.readFileSync(envFile, 'utf8').matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2].replace(/^['"]|['"]$/g, '')]));
const config = path.join(root, '.stack', 'soak-config.json');
fs.writeFileSync(config, JSON.stringify({ windows: { scales: [{ name: '1m', bucketMs: 60000, buckets: 10 }, { name: '5m', bucketMs: 300000, buckets: 4 }] } }));
const port = 18099;

(async () => {
  const redis = new Redis(env.REDIS_URL);
  await redis.flushall();
  const svc = spawn(process.execPath, [path.join(root, 'dist/src/cli/main.js'), 'run'], {
    env: { ...process.env, ...env, HTTP_PORT: String(port), LOCKSTEP_CONFIG: config, KAFKA_GROUP_ID: `soak-${Date.now()}`, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const kafka = new Kafka({ clientId: 'soak', brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.ERROR });
  const producer = kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await new Promise((r) => setTimeout(r, 3000));
  const metric = async (name) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(name + ' '));
    return line ? Number(line.split(' ')[1]) : NaN;
  };
  const rows = ['minute,events_ok,rss_mb,heap_mb,redis_used_mb,redis_keys'];
  const started = Date.now();
  const end = started + minutes * 60_000;
  let nextSample = started;
  let sent = 0;
  let seed = 1;
  let source = generateEvents(loadScenario('mixed'), seed);
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    const batch = [];
    while (sent + batch.length < due && batch.length < 5000) {
      let n = source.next();
      if (n.done) {
        source = generateEvents(loadScenario('mixed'), ++seed);
        n = source.next();
      }
      const e = { ...n.value, ts: Date.now() };
      batch.push({ key: e.accountId, value: JSON.stringify(e) });
    }
    if (batch.length > 0) {
      await producer.send({ topic: 'llm.requests', messages: batch });
      sent += batch.length;
    } else await new Promise((r) => setTimeout(r, 20));
    if (Date.now() >= nextSample) {
      nextSample += 60_000;
      const info = await redis.info('memory');
      const used = Number(/used_memory:(\d+)/.exec(info)[1]) / 1048576;
      const keys = await redis.dbsize();
      const row = [Math.round((Date.now() - started) / 60000), await metric('lockstep_events_total{result="ok"}'), ((await metric('lockstep_process_process_resident_memory_bytes')) / 1048576).toFixed(1), ((await metric('lockstep_process_nodejs_heap_size_used_bytes')) / 1048576).toFixed(1), used.toFixed(1), keys].join(',');
      rows.push(row);
      process.stdout.write(row + '\n');
    }
  }
  fs.writeFileSync(values.out, rows.join('\n') + '\n');
  await producer.disconnect();
  svc.kill('SIGTERM');
  redis.disconnect();
})().catch((err) => {
  process.stderr.write(`soak: ${err.stack}\n`);
  process.exit(1);
});
