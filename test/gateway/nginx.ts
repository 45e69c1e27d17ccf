import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support';
import { hasExited, spawnServer, stopProcess } from '../support/process';
import { waitFor } from '../support/wait';

const DOC = join(__dirname, '..', '..', 'docs', 'enforcement.md');

/** The nginx configuration block of docs/enforcement.md: what users copy is what the test runs. */
export function documentedNginxConfig(): string {
  const m = /```nginx\n([\s\S]*?)```/.exec(readFileSync(DOC, 'utf8'));
  if (!m) throw new Error(`no \`\`\`nginx block in ${DOC}`);
  return m[1];
}

function replaceOnce(text: string, from: string, to: string): string {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`expected "${from}" exactly once in the documented nginx config, found ${parts.length - 1}`);
  return parts.join(to);
}

export interface Nginx {
  port: number;
  url: string;
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Runs Debian's nginx in the foreground from a temp prefix (logs, temp files and pid inside it) with
 * the documented config, pointed at the given lockstep and upstream ports.
 */
export async function startNginx(opts: { lockstepPort: number; appPort: number }): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-nginx-'));
  chmodSync(dir, 0o755); // workers may run as another user
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  let site = documentedNginxConfig();
  site = replaceOnce(site, 'server 127.0.0.1:8080;', `server 127.0.0.1:${opts.lockstepPort};`);
  site = replaceOnce(site, 'server 127.0.0.1:9000;', `server 127.0.0.1:${opts.appPort};`);
  site = replaceOnce(site, 'listen 80;', `listen 127.0.0.1:${port};`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${join(dir, t)};`).join('\n');
  const conf = `worker_processes 1;
error_log ${join(dir, 'logs', 'error.log')} info;
events { worker_connections 256; }
http {
    access_log ${join(dir, 'logs', 'access.log')};
${temp}
${site}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawnServer('nginx', ['-p', dir, '-e', join(dir, 'logs', 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const errorLog = (): string => {
    try {
      return readFileSync(join(dir, 'logs', 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    await stopProcess(child, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (hasExited(child)) throw new Error(`nginx exited (code ${child.exitCode}): ${stderr}\n${errorLog().slice(-2000)}`);
        // any HTTP answer means nginx listens
        return fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' }).then(() => true, () => false);
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'nginx to listen' },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, url: `http://127.0.0.1:${port}`, errorLog, stop };
}
