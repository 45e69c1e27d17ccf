import http from 'node:http';
import type { Logger } from '../log';
import { Router, sendError } from './router';

/**
 * The HTTP server: routes registered by each part of lockstep on one Router. Errors answer JSON
 * without stack traces; request bodies are bounded by the handlers that read them (readBody).
 */
export function createHttpServer(router: Router, log: Logger): http.Server {
  const server = http.createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, 400, 'bad_url', 'malformed URL');
      return;
    }
    const m = router.match(req.method ?? 'GET', url.pathname);
    if (m === null) return sendError(res, 404, 'not_found', `no route for ${url.pathname}`);
    if (m === 'method-not-allowed') return sendError(res, 405, 'method_not_allowed', `${req.method} not allowed on ${url.pathname}`);
    Promise.resolve()
      .then(() => m.handler({ req, res, params: m.params, url }))
      .catch((err: unknown) => {
        log.error({ err, path: url.pathname }, 'http handler failed');
        if (!res.headersSent) sendError(res, 500, 'internal', 'internal error');
        else res.end();
      });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  return server;
}

/**
 * Reads a request body up to `limit` bytes. Resolves null for a larger one (the caller answers
 * 413); the rest of it is read and dropped, not kept, so the client gets that answer.
 */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      req.resume();
      return resolve(null);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) return;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(null);
      } else chunks.push(c);
    });
    req.on('end', () => (over ? undefined : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
