import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { freePort, freePortWithCompanion } from './ports';
import { hasExited, spawnServer, stopProcess } from './process';
import { waitFor } from './wait';
import type { ChildProcess } from 'node:child_process';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;
const execFileAsync = promisify(execFile);

export interface StartRedisOptions {
  /** fixed port; default: a free one */
  port?: number;
  /** extra redis-server arguments, e.g. ['--maxmemory', '10mb'] */
  args?: string[];
}

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  /** working directory (log file redis.log lives here); removed by stop() */
  readonly dir: string;
  /** A new ioredis client to this server; every client made here is disconnected by stop(). */
  client(options?: RedisOptions): Redis;
  flushAll(): Promise<void>;
  /** Crash: SIGKILL and wait for exit. The port stays reserved for restart(). */
  kill(): Promise<void>;
  /** Start again on the same port (stopping first if running). Data is gone: nothing is persisted. */
  restart(): Promise<void>;
  /** Freeze (SIGSTOP): connections stay open but nothing is answered, like a hung server. */
  pause(): void;
  resume(): void;
  /** Stop the server, disconnect clients made by client(), remove the working directory. */
  stop(): Promise<void>;
}

/** Sends an inline PING and resolves true on +PONG; false on any failure (refused, timeout, loading). */
export function ping(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function serverArgs(port: number, dir: string, extra: readonly string[]): string[] {
  return [
    '--port', String(port),
    '--bind', HOST,
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--logfile', join(dir, 'redis.log'),
    '--daemonize', 'no',
    ...extra,
  ];
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'redis.log'), 'utf8').split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Spawns redis-server and waits until it answers PING; rejects if it exits first. */
async function launch(port: number, dir: string, extra: readonly string[]): Promise<ChildProcess> {
  const child = spawnServer('redis-server', serverArgs(port, dir, extra), { stdio: 'ignore' });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  try {
    await Promise.race([
      spawnError,
      waitFor(
        async () => {
          if (hasExited(child)) throw new Error(`redis-server exited (code ${child.exitCode}):\n${logTail(dir)}`);
          return ping(HOST, port);
        },
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 20, what: `redis-server on port ${port}` },
      ),
    ]);
  } catch (err) {
    await stopProcess(child, 'SIGKILL');
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`${why}\n${logTail(dir)}`);
  }
  return child;
}

/** Starts a throwaway redis-server on a loopback port, without persistence. */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-redis-'));
  const extra = opts.args ?? [];
  let port = opts.port ?? (await freePort());
  let child: ChildProcess;
  // A free port can be taken between freePort() and redis' bind; retry with another.
  for (let attempt = 1; ; attempt++) {
    try {
      child = await launch(port, dir, extra);
      break;
    } catch (err) {
      if (opts.port !== undefined || attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      port = await freePort();
    }
  }

  const clients = new Set<Redis>();
  const makeClient = (options: RedisOptions = {}): Redis => {
    const client = new Redis({ host: HOST, port, lazyConnect: false, ...options });
    clients.add(client);
    client.once('end', () => clients.delete(client));
    return client;
  };

  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    client: makeClient,
    async flushAll() {
      const client = new Redis({ host: HOST, port, maxRetriesPerRequest: 1 });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    async kill() {
      await stopProcess(child, 'SIGKILL');
    },
    async restart() {
      await stopProcess(child);
      // The old process released the port on exit; a TIME_WAIT listener is not an obstacle for Redis (SO_REUSEADDR).
      child = await launch(port, dir, extra);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stop() {
      for (const client of clients) client.disconnect();
      clients.clear();
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisClusterServer {
  /** 'host:port' of every master, the format of REDIS_CLUSTER_NODES */
  readonly nodes: string[];
  readonly servers: RedisServer[];
  /** A new ioredis Cluster client; every client made here is disconnected by stop(). */
  client(options?: ClusterOptions): Cluster;
  stop(): Promise<void>;
}

async function clusterInfo(port: number): Promise<string> {
  const client = new Redis({ host: HOST, port, maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await client.connect();
    return String(await client.call('CLUSTER', 'INFO'));
  } finally {
    client.disconnect();
  }
}

/** Starts `masters` cluster-enabled redis-servers (no replicas) and joins them into one cluster covering all slots. */
export async function startRedisCluster(opts: { masters?: number } = {}): Promise<RedisClusterServer> {
  const masters = opts.masters ?? 3;
  const servers: RedisServer[] = [];
  const clients = new Set<Cluster>();
  const stop = async (): Promise<void> => {
    for (const client of clients) client.disconnect();
    clients.clear();
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      // The cluster bus listens on port + 10000, so that must be free too.
      const port = await freePortWithCompanion(10_000);
      servers.push(
        await startRedis({
          port,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'],
        }),
      );
    }
    const nodes = servers.map((s) => `${HOST}:${s.port}`);
    await execFileAsync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    await waitFor(
      async () => {
        const infos = await Promise.all(servers.map((s) => clusterInfo(s.port)));
        return infos.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`));
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'cluster_state:ok on every node' },
    );
    return {
      nodes,
      servers,
      client(options: ClusterOptions = {}) {
        const client = new Cluster(
          servers.map((s) => ({ host: HOST, port: s.port })),
          options,
        );
        clients.add(client);
        client.once('end', () => clients.delete(client));
        return client;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Used by tests that must assert a server is gone: resolves once `port` refuses PING. */
export async function waitUntilDown(port: number, timeoutMs = 5_000): Promise<void> {
  await waitFor(async () => !(await ping(HOST, port, 200)), { timeoutMs, what: `port ${port} to stop answering` });
}
