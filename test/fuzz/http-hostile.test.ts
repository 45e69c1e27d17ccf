import http from 'node:http';
import { startRedis, type RedisServer } from '../support/redis';
import { startKafka, type KafkaCluster } from '../support/kafka';
import { startLockstep, type LockstepProcess } from '../support/lockstep';
import { ingestEnv } from '../support/ground-truth';

/**
 * The HTTP surface of `lockstep run` against hostile requests: errors answer JSON with a stable code
 * and never a stack trace; unknown routes are 404 JSON; request bodies are bounded by
 * http.maxBodyBytes (64 KiB) whether or not the client declares their length; the server stays up.
 */
const TOKEN = 'fuzz-admin-token';
const LIMIT = 65_536;

interface Answer {
  status: number;
  type: string;
  text: string;
}

function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // Node frames a DELETE body only when told its length
    const headers = opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)), ...opts.headers } : opts.headers;
    const req = http.request(url, { method: opts.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A JSON error with a code and a message, and nothing that looks like a stack trace or a source path. */
function expectJsonError(a: Answer, status: number, code?: string): void {
  expect(a.status).toBe(status);
  expect(a.type).toMatch(/^application\/json/);
  const body = JSON.parse(a.text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code).toBe('string');
  expect(typeof body.error?.message).toBe('string');
  if (code !== undefined) expect(body.error?.code).toBe(code);
  expect(a.text).not.toMatch(/\n\s+at |\.(js|ts):\d+|node_modules|Error:/);
}

describe('HTTP under hostile requests', () => {
  let kafka: KafkaCluster;
  let redis: RedisServer;
  let svc: LockstepProcess;

  beforeAll(async () => {
    [kafka, redis] = await Promise.all([startKafka({ topics: { 'llm.requests': 2, 'llm.requests.dlq': 1, 'distill.alerts': 1 } }), startRedis()]);
    svc = await startLockstep(ingestEnv(kafka, redis, { KAFKA_GROUP_ID: 'lockstep-http', ADMIN_TOKEN: TOKEN }));
  });
  afterAll(async () => {
    await svc?.stop();
    await Promise.all([kafka?.stop(), redis?.stop()]);
  });

  it('unknown routes and methods answer 404/405 JSON', async () => {
    expectJsonError(await request(`${svc.url}/nope`), 404, 'not_found');
    expectJsonError(await request(`${svc.url}/v1/keys/ip_prefix`), 404, 'not_found');
    expectJsonError(await request(`${svc.url}/${'a/'.repeat(500)}`), 404, 'not_found');
    expectJsonError(await request(`${svc.url}/v1/keys/ip_prefix/1.2.3.0%2F24`, { method: 'POST' }), 405, 'method_not_allowed');
  });

  it('bad parameters answer 4xx JSON without a stack trace', async () => {
    expectJsonError(await request(`${svc.url}/v1/keys/not_a_type/x`), 400, 'bad_key_type');
    expectJsonError(await request(`${svc.url}/v1/keys/__proto__/x`), 400, 'bad_key_type');
    expectJsonError(await request(`${svc.url}/v1/keys/constructor/x`), 400, 'bad_key_type');
    // malformed percent-encoding cannot match a route
    expectJsonError(await request(`${svc.url}/v1/keys/ip_prefix/%E0%A4%A`), 404);
    expectJsonError(await request(`${svc.url}/v1/limits`), 401, 'unauthorized');
    const auth = { authorization: `Bearer ${TOKEN}` };
    expectJsonError(await request(`${svc.url}/v1/limits/acct_1`, { method: 'DELETE', headers: { ...auth, 'content-type': 'application/json' }, body: '{"reason":' }), 400, 'bad_json');
    expectJsonError(await request(`${svc.url}/v1/limits/acct_1`, { method: 'DELETE', headers: auth, body: '{"reason":{"__proto__":1}}' }), 400, 'bad_reason');
  });

  it('a huge key value is answered, not crashed on', async () => {
    const a = await request(`${svc.url}/v1/keys/user_agent/${'x'.repeat(8_000)}`);
    expect(a.status).toBe(200);
    expect(a.type).toMatch(/^application\/json/);
  });

  it('bodies above http.maxBodyBytes are refused: declared length 413 JSON, streamed body cut off', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expectJsonError(await request(`${svc.url}/v1/limits/acct_1`, { method: 'DELETE', headers: { ...auth, 'content-length': String(LIMIT + 1) }, body: Buffer.alloc(LIMIT + 1, 0x20) }), 413, 'body_too_large');

    // chunked, no declared length: the server stops reading at the limit. It either answers 413 or
    // drops the connection; either way it never takes the 8 MiB.
    const sent = await new Promise<{ status: number | null; written: number }>((resolve) => {
      let written = 0;
      const req = http.request(`${svc.url}/v1/limits/acct_1`, { method: 'DELETE', headers: { ...auth, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? null, written }));
      });
      req.on('error', () => resolve({ status: null, written }));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (written < 8 * 1024 * 1024) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(sent.status === 413 || sent.status === null).toBe(true);
    expect((await request(`${svc.url}/healthz`)).status).toBe(200);
  });

  it('oversized headers are refused by the HTTP parser and the server stays up', async () => {
    const a = await request(`${svc.url}/healthz`, { headers: { 'x-junk': 'j'.repeat(64 * 1024) } }).catch(() => ({ status: 0, type: '', text: '' }));
    expect([0, 431]).toContain(a.status);
    expect((await request(`${svc.url}/healthz`)).status).toBe(200);
  });
});
