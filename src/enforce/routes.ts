import type { Config } from '../config/config';
import { readBody } from '../http/server';
import { sendError, sendJson, type Router, type RouteContext } from '../http/router';
import type { AdminAuth } from './auth';
import type { GatewayCheck } from './check';
import type { Enforcer } from './engine';
import { isEnforced, type LimitRecord } from './limit';
import type { LimitStore } from './store';
import type { Clock } from '../clock';

/** Methods the check answers: nginx's auth_request subrequest keeps the client's method, Envoy sends it. */
const CHECK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const MAX_AUDIT_PAGE = 1000;
const MAX_REASON_CHARS = 500;

export interface EnforcementRouteDeps {
  config: Config;
  enforcer: Enforcer;
  check: GatewayCheck;
  store: LimitStore;
  auth: AdminAuth;
  clock: Clock;
}

/** The served view of an account's limit. */
export function limitView(accountId: string, record: LimitRecord | null, enforcementEnabled: boolean) {
  return {
    accountId,
    limited: record !== null && isEnforced(record, enforcementEnabled),
    limitRpm: record?.limitRpm ?? null,
    capabilities: record?.capabilities ?? [],
    reason: record?.reason ?? null,
    alertId: record?.alertId ?? null,
    expiresAt: record?.expiresAt ?? null,
    dryRun: record !== null && !isEnforced(record, enforcementEnabled),
  };
}

/** Optional JSON body `{ "reason": "..." }` of a release; null = already answered (413/400). */
async function releaseReason(ctx: RouteContext, maxBodyBytes: number): Promise<string | null> {
  const body = await readBody(ctx.req, maxBodyBytes);
  if (body === null) {
    sendError(ctx.res, 413, 'body_too_large', `body larger than ${maxBodyBytes} bytes`);
    return null;
  }
  if (body.length === 0) return 'manual release';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    sendError(ctx.res, 400, 'bad_json', 'body must be JSON: { "reason": "..." }');
    return null;
  }
  const reason = (parsed as { reason?: unknown } | null)?.reason;
  if (reason !== undefined && typeof reason !== 'string') {
    sendError(ctx.res, 400, 'bad_reason', 'reason must be a string');
    return null;
  }
  return reason ? `manual release: ${reason.slice(0, MAX_REASON_CHARS)}` : 'manual release';
}

export function registerEnforcementRoutes(router: Router, d: EnforcementRouteDeps): void {
  const enabled = d.config.enforcement.enabled;
  const check = (ctx: RouteContext) => d.check.handle(ctx.req, ctx.res);
  // Envoy's ext_authz appends the original path: any suffix below /v1/check is the same check
  for (const method of CHECK_METHODS) router.add(method, '/v1/check', check).add(method, '/v1/check/*', check);

  router
    .add('GET', '/v1/limits/:accountId', async ({ res, params }) => {
      const record = await d.store.get(params.accountId, d.clock.now());
      sendJson(res, 200, limitView(params.accountId, record, enabled));
    })
    .add('GET', '/v1/limits', async ({ req, res }) => {
      if (!d.auth.guard(req, res)) return;
      const now = d.clock.now();
      const limits = (await d.store.listActive()).filter((r) => r.expiresAt > now).sort((a, b) => a.accountId.localeCompare(b.accountId));
      sendJson(res, 200, { limits: limits.map((r) => limitView(r.accountId, r, enabled)) });
    })
    .add('DELETE', '/v1/limits/:accountId', async (ctx) => {
      if (!d.auth.guard(ctx.req, ctx.res)) return;
      const reason = await releaseReason(ctx, d.config.http.maxBodyBytes);
      if (reason === null) return;
      const accountId = ctx.params.accountId;
      const released = await d.enforcer.enqueue('release', () => d.enforcer.releaseAccount(accountId, 'admin', reason));
      if (released === undefined) return sendError(ctx.res, 503, 'store_unavailable', 'release failed; see the log');
      if (released === null) return sendJson(ctx.res, 404, { accountId, released: false, error: { code: 'not_limited', message: `account ${accountId} has no limit` } });
      sendJson(ctx.res, 200, { accountId, released: true, limit: limitView(accountId, released, enabled) });
    })
    .add('DELETE', '/v1/alerts/:alertId/limits', async (ctx) => {
      if (!d.auth.guard(ctx.req, ctx.res)) return;
      const reason = await releaseReason(ctx, d.config.http.maxBodyBytes);
      if (reason === null) return;
      const alertId = ctx.params.alertId;
      const released = await d.enforcer.enqueue('release of an alert', () => d.enforcer.releaseAlert(alertId, 'admin', reason));
      if (released === undefined) return sendError(ctx.res, 503, 'store_unavailable', 'release failed; see the log');
      sendJson(ctx.res, 200, { alertId, released: released.map((r) => r.accountId).sort() });
    })
    .add('GET', '/v1/audit', async ({ req, res, url }) => {
      if (!d.auth.guard(req, res)) return;
      const limitText = url.searchParams.get('limit') ?? '100';
      const limit = Number(limitText);
      if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_AUDIT_PAGE) return sendError(res, 400, 'bad_limit', `limit must be an integer in 1..${MAX_AUDIT_PAGE}`);
      const before = url.searchParams.get('before') ?? undefined;
      if (before !== undefined && !/^\d+-\d+$/.test(before)) return sendError(res, 400, 'bad_cursor', 'before must be an entry id like 1700000000000-0');
      const entries = await d.store.readAudit(limit, before);
      sendJson(res, 200, { entries, next: entries.length === limit ? entries[entries.length - 1].id : null });
    });
}
