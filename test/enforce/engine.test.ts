import { ManualClock } from '../../src/clock';
import type { Config } from '../../src/config/config';
import { Enforcer, type PageHuman } from '../../src/enforce/engine';
import { MemoryLimitStore } from '../../src/enforce/memory-store';
import { AccountOrgs, type OrgLookup } from '../../src/enforce/orgs';
import { Metrics } from '../../src/metrics/metrics';
import type { Alert } from '../../src/alerts/alert';
import { accounts, CapturingPublisher, enforcementConfig, FakeAlertSource, makeAlert, recordingLog } from './fixtures';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

interface Rig {
  enforcer: Enforcer;
  store: MemoryLimitStore;
  publisher: CapturingPublisher;
  alerts: FakeAlertSource;
  clock: ManualClock;
  metrics: Metrics;
  pages: Array<{ alert: Alert; reason: string }>;
  logs: Array<Record<string, unknown>>;
}

function rig(enforcement: Record<string, unknown> = {}, opts: { orgOf?: OrgLookup } = {}): Rig {
  const config: Config = enforcementConfig(enforcement);
  const store = new MemoryLimitStore();
  const publisher = new CapturingPublisher();
  const alerts = new FakeAlertSource();
  const clock = new ManualClock(T0);
  const metrics = new Metrics({ defaultMetrics: false });
  const pages: Array<{ alert: Alert; reason: string }> = [];
  const page: PageHuman = (alert, reason) => {
    pages.push({ alert, reason });
  };
  const { log, entries } = recordingLog();
  const enforcer = new Enforcer({ config, store, publisher, alerts, metrics, clock, log, orgs: new AccountOrgs(opts.orgOf), page });
  return { enforcer, store, publisher, alerts, clock, metrics, pages, logs: entries };
}

async function metric(m: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const got = await m.registry.getSingleMetric(name)!.get();
  return got.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

async function fire(r: Rig, alert: Alert) {
  r.alerts.emit(alert);
  return r.enforcer.handleAlert(alert);
}

describe('dry run (the default)', () => {
  it('computes, audits, logs and publishes every decision with dryRun true', async () => {
    const r = rig();
    const out = await fire(r, makeAlert(accounts('bot', 3)));
    expect(out.limited).toEqual(['bot-0', 'bot-1', 'bot-2']);
    expect(r.publisher.sent).toHaveLength(3);
    expect(r.publisher.sent[0]).toMatchObject({ action: 'limit', accountId: 'bot-0', limitRpm: 60, capabilities: [], alertId: 'alert-1', fleetId: 'fleet-1', expiresAt: T0 + 60 * MIN, dryRun: true });
    expect(Object.keys(r.publisher.sent[0]).sort()).toEqual(['accountId', 'action', 'alertId', 'capabilities', 'dryRun', 'expiresAt', 'fleetId', 'limitRpm', 'reason'].sort());
    const audit = await r.store.readAudit(10);
    expect(audit.map((e) => [e.action, e.accountId, e.dryRun])).toEqual([['limit', 'bot-2', true], ['limit', 'bot-1', true], ['limit', 'bot-0', true]]);
    expect(r.logs.filter((l) => l.msg === 'enforcement limit bot-0')).toHaveLength(1);
    expect((await r.store.get('bot-0', T0))?.dryRun).toBe(true);
    expect(await metric(r.metrics, 'lockstep_enforcement_actions_total', { action: 'limit', dry_run: 'true' })).toBe(3);
    expect(await metric(r.metrics, 'lockstep_accounts_limited', { dry_run: 'true' })).toBe(3);
    expect(await metric(r.metrics, 'lockstep_accounts_limited', { dry_run: 'false' })).toBe(0);
  });

  it('with enforcement enabled the same decisions are enforced', async () => {
    const r = rig({ enabled: true });
    await fire(r, makeAlert(accounts('bot', 2)));
    expect(r.publisher.sent.every((m) => m.dryRun === false)).toBe(true);
    expect(await metric(r.metrics, 'lockstep_accounts_limited', { dry_run: 'false' })).toBe(2);
  });
});

describe('a message handled twice (a new detector lease holder sends again what it cannot know was handled)', () => {
  it('limits nobody again, publishes nothing more and counts against no cap', async () => {
    const r = rig({ caps: { perAlert: 3, perHour: 100 } });
    const alert = makeAlert(accounts('bot', 3));
    expect((await fire(r, alert)).limited).toHaveLength(3);
    const audited = (await r.store.readAudit(100)).length;
    r.clock.advance(MIN);
    const again = await fire(r, alert);
    expect(again).toEqual({ limited: [], skipped: [], capped: null });
    expect(r.publisher.sent).toHaveLength(3);
    expect(await r.store.readAudit(100)).toHaveLength(audited);
    expect(r.pages).toHaveLength(0);
    expect((await r.store.get('bot-0', T0 + MIN))?.level).toBe(0);
  });
});

describe('which alerts limit', () => {
  it('warnings, low scores, other link types and resolved alerts limit nobody', async () => {
    const r = rig({ enabled: true, linkTypes: ['ip_prefix'] });
    for (const over of [{ severity: 'warning' as const }, { score: 0.5 }, { link: { type: 'asn' as const, value: '64500' } }, { status: 'resolved' as const }]) {
      expect((await fire(r, makeAlert(accounts('bot', 2), over))).limited).toEqual([]);
    }
    expect(r.publisher.sent).toEqual([]);
    expect(await r.store.listActive()).toEqual([]);
  });
});

describe('allowlist', () => {
  it('never limits allowlisted accounts or accounts of allowlisted orgs, and audits the skip', async () => {
    const orgs: Record<string, string> = { 'bot-1': 'acme', 'bot-2': 'other' };
    const r = rig({ enabled: true, allowlist: { accounts: ['bot-0'], orgs: ['acme'] } }, { orgOf: (a) => orgs[a] });
    const out = await fire(r, makeAlert(accounts('bot', 4)));
    expect(out.skipped).toEqual(['bot-0', 'bot-1']);
    expect(out.limited).toEqual(['bot-2', 'bot-3']);
    expect(await r.store.get('bot-0', T0)).toBeNull();
    expect(await r.store.get('bot-1', T0)).toBeNull();
    const skips = (await r.store.readAudit(10)).filter((e) => e.action === 'skip');
    expect(skips.map((e) => [e.accountId, e.reason])).toEqual([
      ['bot-1', 'allowlisted org acme (enforcement.allowlist.orgs)'],
      ['bot-0', 'allowlisted account (enforcement.allowlist.accounts)'],
    ]);
    expect(r.publisher.sent.map((m) => m.accountId)).toEqual(['bot-2', 'bot-3']);
  });

  it('orgs remembered by the service count too', async () => {
    const r = rig({ enabled: true, allowlist: { orgs: ['acme'] } });
    (r.enforcer as unknown as { deps: { orgs: AccountOrgs } }).deps.orgs.remember('bot-0', 'acme');
    expect((await fire(r, makeAlert(accounts('bot', 2)))).skipped).toEqual(['bot-0']);
  });
});

describe('blast-radius cap', () => {
  it('per alert: limits up to the cap, then stops and pages a human once', async () => {
    const r = rig({ enabled: true, caps: { perAlert: 3, perHour: 100 } });
    const alert = makeAlert(accounts('bot', 5));
    const out = await fire(r, alert);
    expect(out).toMatchObject({ limited: ['bot-0', 'bot-1', 'bot-2'], capped: 'alert' });
    expect(await r.store.get('bot-3', T0)).toBeNull();
    expect(r.pages).toHaveLength(1);
    expect(r.pages[0].alert.alertId).toBe('alert-1');
    expect(r.pages[0].reason).toMatch(/caps.perAlert \(3 accounts per alert\) reached: 2 accounts of fleet fleet-1/);
    expect(await metric(r.metrics, 'lockstep_enforcement_cap_reached_total', { scope: 'alert' })).toBe(1);
    expect(r.logs.some((l) => l.level === 50 && l.scope === 'alert')).toBe(true);
    expect((await r.store.readAudit(1))[0]).toMatchObject({ action: 'cap', alertId: 'alert-1' });

    // the fleet grows and the alert is re-emitted: still capped, the human was already paged
    await fire(r, makeAlert(accounts('bot', 8)));
    expect(r.pages).toHaveLength(1);
    expect(await metric(r.metrics, 'lockstep_enforcement_cap_reached_total', { scope: 'alert' })).toBe(2);
    expect((await r.store.listActive()).length).toBe(3);
  });

  it('per hour: over all alerts, until the hour has passed', async () => {
    const r = rig({ enabled: true, caps: { perAlert: 100, perHour: 4 } });
    await fire(r, makeAlert(accounts('a', 3), { alertId: 'x' }));
    const out = await fire(r, makeAlert(accounts('b', 3), { alertId: 'y' }));
    expect(out).toMatchObject({ limited: ['b-0'], capped: 'hour' });
    expect(r.pages[0].reason).toMatch(/caps.perHour \(4 new limits per hour\)/);
    expect(await metric(r.metrics, 'lockstep_enforcement_cap_reached_total', { scope: 'hour' })).toBe(1);
    r.clock.advance(60 * MIN);
    expect((await fire(r, makeAlert(accounts('b', 3), { alertId: 'y' }))).limited).toEqual(['b-0', 'b-1', 'b-2']);
  });
});

describe('expiry, extension and escalation', () => {
  const cfg = { enabled: true, ttlMs: 10 * MIN, limitRpm: 40, escalation: { afterMs: 5 * MIN, factor: 0.5, minRpm: 5, maxLevel: 2 } };

  it('a resolved alert\'s limits lapse at their expiry, released once and published', async () => {
    const r = rig(cfg);
    const alert = makeAlert(accounts('bot', 2));
    await fire(r, alert);
    r.alerts.emit({ ...alert, status: 'resolved' });
    r.clock.advance(10 * MIN - 1);
    await r.enforcer.sweep();
    expect(r.publisher.sent.filter((m) => m.action === 'release')).toEqual([]);
    r.clock.advance(1);
    await r.enforcer.sweep();
    const releases = r.publisher.sent.filter((m) => m.action === 'release');
    expect(releases.map((m) => m.accountId).sort()).toEqual(['bot-0', 'bot-1']);
    expect(releases[0]).toMatchObject({ limitRpm: null, expiresAt: null, alertId: 'alert-1', dryRun: false });
    expect(releases[0].reason).toMatch(/expired/);
    expect(await r.store.listActive()).toEqual([]);
    await r.enforcer.sweep();
    expect(r.publisher.sent.filter((m) => m.action === 'release')).toHaveLength(2);
    expect(await metric(r.metrics, 'lockstep_enforcement_actions_total', { action: 'release', dry_run: 'false' })).toBe(2);
  });

  it('while the fleet keeps firing, limits escalate and never lapse', async () => {
    const r = rig(cfg);
    await fire(r, makeAlert(['bot-0']));
    const rpms: number[] = [];
    for (let m = 1; m <= 30; m++) {
      r.clock.advance(MIN);
      await r.enforcer.sweep();
      const live = await r.store.get('bot-0', r.clock.now());
      expect(live).not.toBeNull();
      rpms.push(live!.limitRpm);
    }
    expect(rpms.slice(0, 4)).toEqual([40, 40, 40, 40]);
    expect(rpms[4]).toBe(20); // 5 minutes: level 1
    expect(rpms[9]).toBe(10); // 10 minutes: level 2 = maxLevel
    expect(rpms[29]).toBe(10);
    expect(r.publisher.sent.filter((m) => m.action === 'release')).toEqual([]);
    expect(r.publisher.sent.filter((m) => m.reason.startsWith('escalate:')).map((m) => m.limitRpm)).toEqual([20, 10]);
  });
});

describe('release', () => {
  it('a manual release restores the account; the alert does not limit it again', async () => {
    const r = rig({ enabled: true });
    const alert = makeAlert(accounts('bot', 3));
    await fire(r, alert);
    const released = await r.enforcer.releaseAccount('bot-1', 'admin', 'manual release: false positive');
    expect(released?.accountId).toBe('bot-1');
    expect(await r.store.get('bot-1', T0)).toBeNull();
    expect(r.enforcer.cache.lookup('bot-1')).toBeUndefined();
    expect(r.publisher.sent.at(-1)).toMatchObject({ action: 'release', accountId: 'bot-1', alertId: 'alert-1' });
    expect((await r.store.readAudit(1))[0]).toMatchObject({ action: 'release', actor: 'admin', accountId: 'bot-1', reason: 'released (admin): manual release: false positive' });
    r.clock.advance(5 * MIN);
    expect((await fire(r, makeAlert(accounts('bot', 4)))).limited).toEqual(['bot-3']);
    expect(await r.store.get('bot-1', r.clock.now())).toBeNull();
    expect(await r.enforcer.releaseAccount('nobody', 'admin', 'x')).toBeNull();
  });

  it('releasing an alert releases all its accounts and nothing else', async () => {
    const r = rig({ enabled: true });
    await fire(r, makeAlert(accounts('a', 3), { alertId: 'x' }));
    await fire(r, makeAlert(accounts('b', 2), { alertId: 'y' }));
    const released = await r.enforcer.releaseAlert('x', 'admin', 'manual release');
    expect(released.map((l) => l.accountId).sort()).toEqual(['a-0', 'a-1', 'a-2']);
    expect((await r.store.listActive()).map((l) => l.accountId).sort()).toEqual(['b-0', 'b-1']);
    expect((await r.enforcer.releaseAlert('x', 'admin', 'again'))).toEqual([]);
  });

  it('an account allowlisted after it was limited is released by the next sweep', async () => {
    const orgs = new Map<string, string>();
    const r = rig({ enabled: true, allowlist: { orgs: ['acme'] } }, { orgOf: (a) => orgs.get(a) });
    await fire(r, makeAlert(accounts('bot', 2)));
    orgs.set('bot-0', 'acme');
    (r.enforcer as unknown as { deps: { orgs: AccountOrgs } }).deps.orgs.remember('bot-0', 'acme');
    await r.enforcer.sweep();
    expect((await r.store.listActive()).map((l) => l.accountId)).toEqual(['bot-1']);
    expect(r.publisher.sent.at(-1)).toMatchObject({ action: 'release', accountId: 'bot-0' });
  });
});
