import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock';
import type { Config } from '../config/config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import type { LimitCache } from './cache';
import { isEnforced, type LimitRecord } from './limit';
import type { LimitStore } from './store';

const DENY_BODY = JSON.stringify({ error: { code: 'rate_limited', message: 'account is rate limited by lockstep' } });
/** while the store is down, one warning per this interval, not one per request */
const ERROR_LOG_INTERVAL_MS = 10_000;
const UNAVAILABLE_BODY = JSON.stringify({ error: { code: 'store_unavailable', message: 'limit store unreachable' } });

/**
 * The gateway check (nginx auth_request, Envoy ext_authz HTTP mode): 2xx allows, `denyStatus` with
 * Retry-After denies. An account without a limit, or a request outside a capability-scoped limit, is
 * answered from the in-process cache without touching Redis; a limited account takes one token from
 * its bucket (one EVALSHA). A dry-run limit counts the request but always allows it.
 *
 * A denied request takes no token, and other instances can only take tokens, never add them: so once
 * the bucket says "empty until T", every request of that account before T is denied here without
 * asking Redis. That state hangs on the cached limit object, so a release or a new level forgets it.
 */
export class GatewayCheck {
  private readonly accountHeader: string;
  private readonly capabilityHeader: string;
  private readonly cfg: Config['enforcement'];
  private readonly allowCount;
  private readonly denyCount;
  private readonly dryRunDenyCount;
  private readonly errorCount;
  private lastErrorLogged = -Infinity;
  private readonly emptyUntil = new WeakMap<LimitRecord, number>();

  constructor(
    config: Config,
    private readonly cache: LimitCache,
    private readonly store: LimitStore,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.cfg = config.enforcement;
    this.accountHeader = this.cfg.accountHeader.toLowerCase();
    this.capabilityHeader = this.cfg.capabilityHeader.toLowerCase();
    this.allowCount = metrics.checkDecisionsTotal.labels('allow');
    this.denyCount = metrics.checkDecisionsTotal.labels('deny');
    this.dryRunDenyCount = metrics.checkDecisionsTotal.labels('dry_run_deny');
    this.errorCount = metrics.checkDecisionsTotal.labels('error');
  }

  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void> {
    const started = performance.now();
    const account = req.headers[this.accountHeader];
    if (typeof account !== 'string' || account === '') return this.allow(res, started);
    const limit = this.cache.lookup(account);
    const now = this.clock.now();
    if (limit === undefined || limit.expiresAt <= now) return this.allow(res, started);
    if (limit.capabilities.length > 0) {
      // no capability header: the request may be in scope, so it counts
      const capability = req.headers[this.capabilityHeader];
      if (typeof capability === 'string' && !limit.capabilities.includes(capability)) return this.allow(res, started);
    }
    const emptyUntil = this.emptyUntil.get(limit);
    if (emptyUntil !== undefined && emptyUntil > now) return this.deny(res, started, limit, emptyUntil - now);
    return this.store.take(account, limit.limitRpm, now).then(
      (taken) => {
        if (taken.allowed) return this.allow(res, started);
        this.emptyUntil.set(limit, now + taken.retryAfterMs);
        this.deny(res, started, limit, taken.retryAfterMs);
      },
      (err: unknown) => {
        this.errorCount.inc();
        if (now - this.lastErrorLogged >= ERROR_LOG_INTERVAL_MS) {
          this.lastErrorLogged = now;
          this.log.warn({ err, failOpen: this.cfg.failOpen }, 'gateway check could not reach the limit store');
        }
        if (this.cfg.failOpen) return this.allow(res, started, false);
        res.writeHead(503, { 'content-type': 'application/json', 'content-length': UNAVAILABLE_BODY.length });
        res.end(UNAVAILABLE_BODY);
        this.metrics.checkDuration.observe((performance.now() - started) / 1000);
      },
    );
  }

  /** denies an enforced limit; a dry-run limit is allowed and counted as a would-be denial */
  private deny(res: ServerResponse, started: number, limit: LimitRecord, retryAfterMs: number): void {
    if (!isEnforced(limit, this.cfg.enabled)) {
      this.dryRunDenyCount.inc();
      return this.allow(res, started, false);
    }
    this.denyCount.inc();
    res.writeHead(this.cfg.denyStatus, {
      'content-type': 'application/json',
      'content-length': DENY_BODY.length,
      'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
      'x-lockstep-limit-rpm': String(limit.limitRpm),
    });
    res.end(DENY_BODY);
    this.metrics.checkDuration.observe((performance.now() - started) / 1000);
  }

  private allow(res: ServerResponse, started: number, count = true): void {
    if (count) this.allowCount.inc();
    res.statusCode = 200;
    res.setHeader('content-length', 0);
    res.end();
    this.metrics.checkDuration.observe((performance.now() - started) / 1000);
  }
}
