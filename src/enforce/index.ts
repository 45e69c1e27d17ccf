import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { Producer } from 'kafkajs';
import type { AlertSource } from '../alerts/source';
import type { Clock } from '../clock';
import type { Config } from '../config/config';
import type { Router } from '../http/router';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import { AdminAuth } from './auth';
import { GatewayCheck } from './check';
import { Enforcer, type PageHuman } from './engine';
import { EnforcementKeys } from './keys';
import { MemoryLimitStore } from './memory-store';
import { AccountOrgs, type OrgLookup } from './orgs';
import { EnforcementPublisher } from './publisher';
import { RedisLimitStore } from './redis-store';
import { registerEnforcementRoutes } from './routes';
import type { LimitStore } from './store';

export interface EnforcementDeps {
  config: Config;
  /** null = embedded: limits in process memory */
  redis: Redis | Cluster | null;
  /** null = no Kafka: decisions go to the log and the audit trail only */
  producer: Producer | null;
  alerts: AlertSource;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
  /** org of an account, for enforcement.allowlist.orgs */
  orgOf?: OrgLookup;
  /** pages a human when the blast-radius cap stops enforcement (e.g. to Alertmanager) */
  page?: PageHuman;
}

export interface Enforcement {
  routes(router: Router): void;
  /** resolves once the first load of limits from the store finished (the check allows until then) */
  readonly loaded: Promise<void>;
  readonly enforcer: Enforcer;
  readonly store: LimitStore;
  /** fill with what is known of accounts' orgs, for the org allowlist */
  readonly orgs: AccountOrgs;
  /** stops the timers and waits for queued work; does not close the Redis client or the producer */
  stop(): Promise<void>;
}

/**
 * Wires enforcement: listens to alerts, keeps limits in Redis (or memory), refreshes the check's
 * cache and sweeps expiry on timers, and offers the HTTP routes (gateway check, limits, releases,
 * audit). See docs/enforcement.md.
 */
export function createEnforcement(deps: EnforcementDeps): Enforcement {
  const cfg = deps.config.enforcement;
  const log = deps.log.child({ component: 'enforcement' });
  const store: LimitStore = deps.redis === null ? new MemoryLimitStore() : new RedisLimitStore(deps.redis, new EnforcementKeys(deps.config.redis.keyPrefix));
  const orgs = new AccountOrgs(deps.orgOf);
  const publisher = new EnforcementPublisher(deps.producer, deps.config.kafka.enforcementTopic, log);
  const enforcer = new Enforcer({ config: deps.config, store, publisher, alerts: deps.alerts, metrics: deps.metrics, clock: deps.clock, log, orgs, page: deps.page });
  const check = new GatewayCheck(deps.config, enforcer.cache, store, deps.metrics, deps.clock, log);
  const auth = new AdminAuth(deps.config.http.adminToken);
  if (!auth.configured) log.warn('http.adminToken (ADMIN_TOKEN) is empty: the enforcement admin endpoints refuse every request');
  log.info({ dryRun: !cfg.enabled, store: store.kind }, cfg.enabled ? 'enforcement is ON: limits are enforced' : 'enforcement in dry run: limits are computed and published, never enforced');

  let stopped = false;
  // the promise tells the detector when the alert was acted on (its checkpoint keeps it until then)
  deps.alerts.onAlert((alert) => (stopped ? undefined : enforcer.enqueue(`of alert ${alert.alertId}`, () => enforcer.handleAlert(alert))));

  const timers = new Set<NodeJS.Timeout>();
  const every = (ms: number, what: string, work: () => Promise<unknown>): void => {
    const tick = (): void => {
      const t = setTimeout(() => {
        timers.delete(t);
        if (stopped) return;
        void enforcer.enqueue(what, work).finally(() => {
          if (!stopped) tick();
        });
      }, ms);
      t.unref();
      timers.add(t);
    };
    tick();
  };
  const loaded = enforcer.cache.refresh();
  every(cfg.cacheRefreshMs, 'cache refresh', () => enforcer.cache.refresh());
  every(cfg.sweepIntervalMs, 'sweep', () => enforcer.sweep());

  return {
    routes: (router) => registerEnforcementRoutes(router, { config: deps.config, enforcer, check, store, auth, clock: deps.clock }),
    loaded,
    enforcer,
    store,
    orgs,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await enforcer.idle();
    },
  };
}

export type { LimitRecord, EnforcementMessage, AuditEntry, StoredAuditEntry } from './limit';
export type { LimitStore } from './store';
export type { PageHuman } from './engine';
export type { OrgLookup } from './orgs';
