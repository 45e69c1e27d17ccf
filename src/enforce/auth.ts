import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http/router';

/**
 * Bearer-token guard of the admin endpoints. Digests of equal length are compared in constant time,
 * so neither the token's content nor its length leaks through timing. No token configured = every
 * admin request is refused.
 */
export class AdminAuth {
  private readonly digest: Buffer | null;

  constructor(token: string) {
    this.digest = token === '' ? null : sha256(token);
  }

  get configured(): boolean {
    return this.digest !== null;
  }

  allows(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (this.digest === null || header === undefined) return false;
    const m = /^Bearer +(\S+) *$/i.exec(header);
    return m !== null && timingSafeEqual(sha256(m[1]), this.digest);
  }

  /** true when allowed; otherwise answers 401 and returns false */
  guard(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.allows(req)) return true;
    sendJson(res, 401, { error: { code: 'unauthorized', message: 'admin endpoints need Authorization: Bearer <http.adminToken>' } }, { 'www-authenticate': 'Bearer realm="lockstep"' });
    return false;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
