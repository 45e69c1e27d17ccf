/**
 * Gateway check throughput and latency, measured with wrk (Debian package `wrk`) over loopback
 * against a real redis-server. Build, then run:
 *   B=/tmp/lockstep-bench-build; npx tsc -p tsconfig.json --outDir $B && cp -r src/enforce/lua $B/src/enforce/ \
 *     && node $B/bench/check.bench.js [seconds=10] [connections=8] [wrk threads=1]
 * Scenarios: no account limited (the common case: answered from the in-process cache), 10% of
 * accounts limited, every account limited under its rate (each request one EVALSHA of
 * take-token-1.lua), and every account limited over its rate (denied, mostly from memory).
 * Prints wrk's requests/s and latency percentiles, and the server-side check p99 from
 * lockstep_check_duration_seconds.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import pino from 'pino';
import type { Alert } from '../src/alerts/alert';
import type { AlertSource } from '../src/alerts/source';
import { systemClock } from '../src/clock';
import { defaultConfig } from '../src/config/config';
import { createEnforcement } from '../src/enforce';
import { Router } from '../src/http/router';
import { createHttpServer, listen } from '../src/http/server';
import { Metrics } from '../src/metrics/metrics';
import { startRedis } from '../test/support/redis';

const ACCOUNTS = 10_000;
const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 8);
const threads = Number(process.argv[4] ?? 1);

const WRK_SCRIPT = `
local n = ${ACCOUNTS}
local limited = tonumber(os.getenv("LIMITED"))
local prefix = os.getenv("PREFIX")
local i = 0
request = function()
  i = (i * 7919 + 104729) % n
  local id
  if i < limited then id = prefix .. i else id = "cust-" .. i end
  return wrk.format("GET", "/v1/check", { ["X-Account-Id"] = id })
end
local pause = tonumber(os.getenv("DELAY_MS"))
if pause > 0 then
  delay = function() return pause end
end
`;

/**
 * Two loads: "saturated" (each connection sends its next request as soon as the answer arrives:
 * the maximum rate, latency includes queueing) and "paced" (PACED_CONNECTIONS connections, each
 * pausing PACED_DELAY_MS between requests: about 5-6k decisions/s, the target rate, where p99 is judged).
 */
const PACED_CONNECTIONS = 24;
const PACED_DELAY_MS = 3;

function runWrk(url: string, script: string, limited: number, prefix: string, paced: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = paced ? PACED_CONNECTIONS : connections;
    const child = spawn('wrk', [`-t${threads}`, `-c${c}`, `-d${seconds}s`, '--latency', '-s', script, url], { env: { ...process.env, LIMITED: String(limited), PREFIX: prefix, DELAY_MS: String(paced ? PACED_DELAY_MS : 0) } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-bench-'));
  const script = join(dir, 'check.lua');
  writeFileSync(script, WRK_SCRIPT);
  const client = new Redis(redis.url, { enableAutoPipelining: true });
  const config = defaultConfig({ enforcement: { enabled: true, limitRpm: 1_000_000, caps: { perAlert: ACCOUNTS, perHour: 2 * ACCOUNTS } } });
  const fleet = Array.from({ length: ACCOUNTS }, (_, i) => `fleet-${i}`);
  const bench: Alert = {
    alertId: 'bench', status: 'firing', fleetId: 'bench', link: { type: 'ip_prefix', value: 'x' }, links: [], accountCount: fleet.length, accounts: fleet,
    targetedCapabilities: [], capabilityShare: {}, score: 1, severity: 'critical', windowStart: 0, windowEnd: 0, detectedAt: 0,
    evidence: { scale: '1m', burst: { score: 1, observed: 0, expected: 0, pValue: 0, populationRatio: 0 }, synchrony: { score: 1, chi: 1, meanPairwiseCorrelation: 1, sampledMembers: 0 }, targeting: { score: 1, jsDivergence: 0, highValueShare: 0, populationHighValueShare: 0 }, size: { score: 1, accounts: 0, youngAccounts: 0, youngShare: 0, requests: 0 }, linkRarity: 1, reason: 'bench' },
  };
  // fleet-* accounts limited far above the load (every request is counted and allowed); slow-*
  // accounts limited to 1 request per minute (nearly every request is denied)
  const slow = { ...bench, alertId: 'bench-slow', fleetId: 'bench-slow', accounts: fleet.map((a) => a.replace('fleet-', 'slow-')) };
  let listener: ((a: Alert) => void) | undefined;
  const byId = new Map([bench, slow].map((a) => [a.alertId, a]));
  const alerts: AlertSource = { list: () => [...byId.values()], get: (id) => byId.get(id), onAlert: (l) => (listener = l) };
  const log = pino({ level: 'silent' });
  for (const [alert, limitRpm] of [[bench, 1_000_000], [slow, 1]] as const) {
    const setupConfig = defaultConfig({ enforcement: { ...config.enforcement, limitRpm } });
    const setup = createEnforcement({ config: setupConfig, redis: client, producer: null, alerts, metrics: new Metrics({ defaultMetrics: false }), clock: systemClock, log });
    await setup.loaded;
    listener?.(alert);
    await setup.enforcer.idle();
    await setup.stop();
  }

  process.stdout.write(`lockstep check bench: ${ACCOUNTS} accounts, wrk -t${threads} -d${seconds}s, node ${process.version}\n`);
  try {
    const scenarios = [
      ['no account limited', 0, 'fleet-'],
      ['10% of accounts limited', ACCOUNTS / 10, 'fleet-'],
      ['every account limited, under its rate', ACCOUNTS, 'fleet-'],
      ['every account limited, over its rate', ACCOUNTS, 'slow-'],
    ] as const;
    for (const [scenario, limited, prefix] of scenarios) for (const paced of [false, true]) {
      const name = `${scenario}, ${paced ? `paced (${PACED_CONNECTIONS} connections, ${PACED_DELAY_MS} ms pause)` : `saturated (${connections} connections)`}`;
      const metrics = new Metrics({ defaultMetrics: false });
      const e = createEnforcement({ config, redis: client, producer: null, alerts, metrics, clock: systemClock, log });
      await e.loaded;
      const router = new Router();
      e.routes(router);
      const server = createHttpServer(router, log);
      const port = await listen(server, 0, '127.0.0.1');
      const out = await runWrk(`http://127.0.0.1:${port}`, script, limited, prefix, paced);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
      const p50 = /\s50%\s+(\S+)/.exec(out)?.[1];
      const p99 = /\s99%\s+(\S+)/.exec(out)?.[1];
      const denied = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
      const hist = await metrics.registry.getSingleMetricAsString('lockstep_check_duration_seconds');
      process.stdout.write(`\n${name}: ${rps} decisions/s, wrk p50 ${p50}, p99 ${p99}, denied ${denied}\n`);
      process.stdout.write(hist.split('\n').filter((l) => /_bucket\{le="(0.001|0.002|0.005)"\}|_count/.test(l)).map((l) => `  server-side ${l}`).join('\n') + '\n');
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
      await e.stop();
    }
  } finally {
    client.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
