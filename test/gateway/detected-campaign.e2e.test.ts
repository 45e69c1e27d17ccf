/**
 * Issue #5's end-to-end path: a simulated campaign, produced to Kafka, is detected by `lockstep run`
 * (Redis windows, the real detector) and its accounts are then limited at a real nginx gateway,
 * while a benign account passes untouched.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Alert } from '../../src/alerts/alert';
import { generateEvents, labelsOf } from '../../src/sim/generate';
import { loadScenario } from '../../src/sim/scenario';
import { listen } from '../../src/http/server';
import { produce, startKafka, startRedis, type KafkaCluster, type RedisServer } from '../support';
import { serviceEnv } from '../support/ground-truth';
import { startLockstep } from '../support/lockstep';
import { waitFor } from '../support/wait';
import { startNginx } from './nginx';

describe('a detected simulated campaign is limited at the nginx gateway', () => {
  let kafka: KafkaCluster;
  let redis: RedisServer;
  let upstream: http.Server;
  const reached = new Map<string, number>();

  beforeAll(async () => {
    [kafka, redis] = await Promise.all([startKafka({ topics: { 'llm.requests': 4 } }), startRedis()]);
    upstream = http.createServer((req, res) => {
      const a = String(req.headers['x-account-id'] ?? '');
      reached.set(a, (reached.get(a) ?? 0) + 1);
      res.end('ok\n');
    });
  });
  afterAll(async () => {
    upstream?.closeAllConnections();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
    await Promise.all([kafka?.stop(), redis?.stop()]);
  });

  it('detects the campaign, limits its accounts at the gateway, leaves a benign account alone', async () => {
    const scenario = loadScenario('small');
    const labels = labelsOf(scenario, 42);
    const events = [...generateEvents(scenario, 42)];
    await produce(kafka.brokers, 'llm.requests', events.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })), { batchSize: 10_000 });
    const cfgFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-gw-')), 'config.json');
    fs.writeFileSync(cfgFile, JSON.stringify({ enforcement: { enabled: true, denyStatus: 403, limitRpm: 2 } }));
    const svc = await startLockstep(serviceEnv(kafka, redis, { KAFKA_GROUP_ID: 'gw-e2e', ADMIN_TOKEN: 'gw-token', LOCKSTEP_CONFIG: cfgFile }));
    const nginx = await startNginx({ lockstepPort: svc.port, appPort: await listen(upstream, 0, '127.0.0.1') });
    try {
      // a critical alert on a campaign, and its first account limited
      const alert = await waitFor(
        async () => {
          const { alerts } = (await (await fetch(`${svc.url}/v1/alerts`)).json()) as { alerts: Alert[] };
          return alerts.find((a) => a.status === 'firing' && a.severity === 'critical' && a.accounts.every((x) => labels.accounts[x]?.label === 'campaign'));
        },
        { timeoutMs: 90_000, intervalMs: 500, what: 'a critical alert on a campaign' },
      );
      const member = alert.accounts[0];
      await waitFor(async () => ((await (await fetch(`${svc.url}/v1/limits/${member}`)).json()) as { limited: boolean }).limited, { timeoutMs: 20_000, what: 'the member to be limited' });

      const call = async (account: string): Promise<number> => (await fetch(`${nginx.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-account-id': account }, body: '{}' })).status;
      const fleet: number[] = [];
      for (let i = 0; i < 5; i++) fleet.push(await call(member));
      // limitRpm 2: a burst of two, then denied with 429 at the gateway
      expect(fleet.slice(0, 2)).toEqual([200, 200]);
      expect(fleet.slice(2)).toEqual([429, 429, 429]);
      expect(reached.get(member)).toBe(2);

      const benign = Object.entries(labels.accounts).find(([, l]) => l.label === 'benign')![0];
      const ok: number[] = [];
      for (let i = 0; i < 10; i++) ok.push(await call(benign));
      expect(new Set(ok)).toEqual(new Set([200]));
      expect(reached.get(benign)).toBe(10);

      // a manual release restores the account at the gateway
      expect((await fetch(`${svc.url}/v1/limits/${member}`, { method: 'DELETE', headers: { authorization: 'Bearer gw-token' } })).status).toBe(200);
      expect(await call(member)).toBe(200);
    } finally {
      await nginx.stop();
      await svc.stop();
    }
  });
});
