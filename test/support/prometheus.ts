import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { freePort } from './ports';
import { hasExited, spawnServer, stopProcess } from './process';
import { waitFor } from './wait';

/**
 * Real Prometheus and Alertmanager (Debian packages `prometheus` and `prometheus-alertmanager`)
 * on free loopback ports with throwaway storage, and a webhook receiver standing in for the pager.
 * Configs are written as JSON, which is YAML.
 */

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';

const LOG_TAIL_CHARS = 6_000;
const START_TIMEOUT_MS = 20_000;

interface Daemon {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** the last few thousand characters of the process's output */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Spawns a daemon on a fresh free port and waits for `readyPath` to answer 200. A port taken between
 * freePort() and bind makes the daemon exit at once; that is retried on another port.
 */
async function startDaemon(name: string, bin: string, args: (port: number, dir: string) => string[], dir: string, readyPath: string): Promise<Daemon> {
  let lastFailure = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let tail = '';
    const child: ChildProcess = spawnServer(bin, args(port, dir), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let spawnError: Error | null = null;
    child.once('error', (err) => (spawnError = err));
    const url = `http://127.0.0.1:${port}`;
    try {
      // a throwing predicate only means "not yet" to waitFor: a dead process ends the wait, then fails
      await waitFor(
        async () => spawnError !== null || hasExited(child) || (await fetch(url + readyPath).catch(() => null))?.status === 200,
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, what: `${name} on ${url}${readyPath}` },
      );
      if (spawnError) throw new Error(`${name} (${bin}) could not start: ${(spawnError as Error).message}`);
      if (hasExited(child)) throw new Error(`${name} exited during start-up (code ${child.exitCode})`);
      return {
        port,
        url,
        dir,
        logs: () => tail,
        stop: async () => {
          await stopProcess(child, 'SIGTERM', 5_000);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      // a process that never started has nothing to stop (and never emits 'exit')
      if (!spawnError) await stopProcess(child, 'SIGKILL');
      lastFailure = `${(err as Error).message}\n--- ${name} output ---\n${tail}`;
      if (spawnError || !/address already in use/.test(tail)) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const hint = name === 'prometheus' ? 'apt-get install -y prometheus' : 'apt-get install -y prometheus-alertmanager';
  throw new Error(`${lastFailure}\n(${name} comes from \`${hint}\`)`);
}

export interface PromQueryResult {
  status: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> };
}

export interface PrometheusServer extends Daemon {
  /** instant query through the HTTP API (/api/v1/query); resolves to the API's answer, errors included */
  query(expr: string): Promise<PromQueryResult>;
  /** alerts Prometheus holds now (/api/v1/alerts) */
  alerts(): Promise<Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: string }>>;
  /** scrape targets and their health (/api/v1/targets) */
  targets(): Promise<Array<{ labels: Record<string, string>; health: string; lastError: string }>>;
}

export interface StartPrometheusOptions {
  /** job name -> 'host:port' targets */
  scrape: Record<string, string[]>;
  ruleFiles?: string[];
  /** Alertmanager base URLs (http://host:port) */
  alertmanagers?: string[];
  /** scrape and rule evaluation interval; default 1s */
  interval?: string;
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-prometheus-'));
  const interval = opts.interval ?? '1s';
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: opts.ruleFiles ?? [],
    alerting: { alertmanagers: (opts.alertmanagers ?? []).map((u) => ({ static_configs: [{ targets: [new URL(u).host] }] })) },
    scrape_configs: Object.entries(opts.scrape).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const daemon = await startDaemon(
    'prometheus',
    PROMETHEUS_BIN,
    (port, d) => [`--config.file=${join(d, 'prometheus.yml')}`, `--storage.tsdb.path=${join(d, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=info'],
    dir,
    '/-/ready',
  );
  const api = async <T>(path: string): Promise<T> => (await (await fetch(daemon.url + path)).json()) as T;
  return {
    ...daemon,
    query: (expr) => api<PromQueryResult>(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    alerts: async () => (await api<{ data: { alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: string }> } }>('/api/v1/alerts')).data.alerts,
    targets: async () => (await api<{ data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> } }>('/api/v1/targets')).data.activeTargets,
  };
}

export interface AlertmanagerServer extends Daemon {
  /** alerts Alertmanager holds now (/api/v2/alerts) */
  alerts(): Promise<Array<{ labels: Record<string, string>; annotations: Record<string, string>; status: { state: string } }>>;
}

export interface StartAlertmanagerOptions {
  /** the whole alertmanager.yml, as an object */
  config: Record<string, unknown>;
}

export async function startAlertmanager(opts: StartAlertmanagerOptions): Promise<AlertmanagerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-alertmanager-'));
  writeFileSync(join(dir, 'alertmanager.yml'), JSON.stringify(opts.config, null, 2));
  const daemon = await startDaemon(
    'alertmanager',
    ALERTMANAGER_BIN,
    // an empty cluster address turns gossip off: no second port, no peers
    (port, d) => [`--config.file=${join(d, 'alertmanager.yml')}`, `--storage.path=${join(d, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=info'],
    dir,
    '/-/ready',
  );
  return {
    ...daemon,
    alerts: async () => (await (await fetch(`${daemon.url}/api/v2/alerts`)).json()) as Awaited<ReturnType<AlertmanagerServer['alerts']>>,
  };
}

/** One alert of an Alertmanager webhook notification (version 4 payload). */
export interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

export interface WebhookNotification {
  version: string;
  receiver: string;
  status: string;
  groupLabels: Record<string, string>;
  alerts: WebhookAlert[];
}

export interface WebhookReceiver {
  readonly url: string;
  /** every notification received so far, in order */
  readonly notifications: WebhookNotification[];
  /** every alert of every notification */
  alerts(): WebhookAlert[];
  stop(): Promise<void>;
}

/** An HTTP server that records Alertmanager webhook notifications: the test's pager. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const notifications: WebhookNotification[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        notifications.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookNotification);
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    notifications,
    alerts: () => notifications.flatMap((n) => n.alerts),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
