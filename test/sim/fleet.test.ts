import type { RequestEvent } from '../../src/events/request-event';
import { generateEvents, labelsOf } from '../../src/sim/generate';
import type { Scenario } from '../../src/sim/scenario';
import { everyKind } from './fixtures';

const MIN = 60000;
const events = [...generateEvents(everyKind, 11)];
const labels = labelsOf(everyKind, 11);
const of = (group: string): RequestEvent[] => events.filter((e) => labels.accounts[e.accountId].group === group);
const prefix = (ip: string): string => ip.slice(0, ip.lastIndexOf('.'));
/** spread of event times folded onto one period, centred on the first event (bursts = small spread) */
const foldedSpread = (es: RequestEvent[], period: number): number => {
  const offsets = es.map((e) => ((((e.ts - es[0].ts) % period) + period * 1.5) % period) - period / 2);
  return Math.max(...offsets) - Math.min(...offsets);
};
const distinct = <T>(xs: T[]): number => new Set(xs).size;
const perAccount = <T>(es: RequestEvent[], f: (e: RequestEvent) => T): Map<string, Set<T>> => {
  const m = new Map<string, Set<T>>();
  for (const e of es) {
    const s = m.get(e.accountId) ?? new Set<T>();
    s.add(f(e));
    m.set(e.accountId, s);
  }
  return m;
};

describe('campaign attributes', () => {
  it('shares what is configured shared, pools what is pooled, and rotates the rest', () => {
    const sync = of('sync');
    expect(distinct(sync.map((e) => e.accountId))).toBe(12);
    expect(distinct(sync.map((e) => prefix(e.ip as string)))).toBe(1);
    expect(distinct(sync.map((e) => e.ip))).toBeGreaterThan(6);
    expect(distinct(sync.map((e) => e.asn))).toBe(1);
    expect(distinct(sync.map((e) => e.userAgent))).toBe(1);
    expect(distinct(sync.map((e) => e.paymentFingerprint))).toBe(3);
    expect(distinct(sync.map((e) => e.orgId))).toBe(12);
    expect(distinct(sync.map((e) => e.promptTemplateHash))).toBeGreaterThanOrEqual(12);
    expect(new Set(sync.map((e) => e.capability))).toEqual(new Set(['coding', 'agentic']));

    const jit = of('jit');
    expect(distinct(jit.map((e) => e.promptTemplateHash))).toBe(1);
    expect(distinct(jit.map((e) => prefix(e.ip as string)))).toBe(10);
    expect(distinct(jit.map((e) => e.paymentFingerprint))).toBe(10);

    const slow = of('slow');
    expect(distinct(slow.map((e) => e.asn))).toBe(1);
    expect(distinct(slow.map((e) => prefix(e.ip as string)))).toBeGreaterThan(20);
  });

  it('times synchronized fleets together: every account is active in every burst window', () => {
    const sync = of('sync');
    const windows = perAccount(sync, (e) => Math.floor((e.ts - everyKind.start) / (5 * MIN)));
    const all = new Set([...windows.values()].flatMap((s) => [...s]));
    expect(all.size).toBe(12); // one hour of 5-minute bursts
    // 60/h in bursts every 5m = ~5 requests a burst; P(an account misses a burst) is negligible
    for (const s of windows.values()) expect(s.size).toBeGreaterThanOrEqual(11);
    // all requests fall in a short stretch of each 5-minute period
    expect(foldedSpread(sync, 5 * MIN)).toBeLessThan(MIN);
    expect(foldedSpread(of('slow'), 5 * MIN)).toBeGreaterThan(4 * MIN);
  });

  it('runs slow-and-low accounts at their configured rate, independently', () => {
    const slow = of('slow');
    const rate = slow.length / 30 / 2; // 30 accounts, 2 hours
    expect(rate).toBeGreaterThan(1.3);
    expect(rate).toBeLessThan(2.7);
  });

  it('replaces churned accounts: each lives at most its lifetime and is created just before', () => {
    const churn = of('churn');
    const spans = new Map<string, [number, number, number]>();
    for (const e of churn) {
      const s = spans.get(e.accountId) ?? [e.ts, e.ts, e.accountCreatedTs as number];
      s[1] = e.ts;
      spans.set(e.accountId, s);
    }
    // 8 slots, 90 minutes, 20-minute lives: 8 * (90/20 + 1) at most
    expect(spans.size).toBeGreaterThan(8 * 4);
    expect(spans.size).toBeLessThanOrEqual(8 * 6);
    for (const [first, last, created] of spans.values()) {
      expect(last - first).toBeLessThan(20 * MIN);
      expect(first - created).toBeLessThanOrEqual(10 * MIN + 1);
      expect(first - created).toBeGreaterThanOrEqual(MIN - 1);
    }
  });
});

describe('fleet-like confounders', () => {
  it('runs the enterprise cron as one org, one card, synchronized coding jobs on old accounts', () => {
    const cron = of('cron');
    expect(distinct(cron.map((e) => e.orgId))).toBe(1);
    expect(distinct(cron.map((e) => e.paymentFingerprint))).toBe(1);
    expect(cron.filter((e) => e.capability === 'coding').length / cron.length).toBeGreaterThan(0.8);
    expect(Math.max(...cron.map((e) => e.ts - (e.accountCreatedTs as number)))).toBeGreaterThan(100 * 24 * 60 * MIN);
    expect(foldedSpread(cron, 15 * MIN)).toBeLessThan(MIN);
  });

  it('runs CI bots at their own times under one client string', () => {
    const bots = of('bots');
    expect(distinct(bots.map((e) => e.userAgent))).toBe(1);
    expect(distinct(bots.map((e) => e.orgId))).toBe(distinct(bots.map((e) => e.accountId)));
    const firsts = [...perAccount(bots, (e) => e.ts).values()].map((s) => Math.min(...s));
    expect(Math.max(...firsts) - Math.min(...firsts)).toBeGreaterThan(10 * MIN);
  });

  it('draws new values on every request for the attributes shared "per_request", and only for that fleet', () => {
    const rotating: Scenario = {
      ...everyKind,
      confounders: [],
      campaigns: [{
        id: 'rot', kind: 'per-request-rotation', accounts: 8, start: '1h',
        share: { ip: 'per_request', userAgent: 'per_request', promptTemplate: 'per_request', payment: 'shared' },
        timing: { mode: 'synchronized', burstEvery: '10m', burstLength: '2m' },
        requestsPerAccountPerHour: 60, capabilities: { coding: 1 },
      }],
    };
    const rotatingLabels = labelsOf(rotating, 11);
    const all = [...generateEvents(rotating, 11)];
    const rot = all.filter((e) => rotatingLabels.accounts[e.accountId].group === 'rot');
    expect(rot.length).toBeGreaterThan(400);
    // a new template and browser string each request; a new /24 nearly each (a residential pool), its network with it
    expect(distinct(rot.map((e) => e.promptTemplateHash))).toBe(rot.length);
    expect(distinct(rot.map((e) => e.userAgent))).toBeGreaterThan(rot.length * 0.99);
    expect(distinct(rot.map((e) => prefix(e.ip as string)))).toBeGreaterThan(rot.length * 0.9);
    expect(distinct(rot.map((e) => e.asn))).toBeGreaterThan(1);
    // the account's own attributes stay
    expect(distinct(rot.map((e) => e.paymentFingerprint))).toBe(1);
    expect(distinct(rot.map((e) => e.orgId))).toBe(8);
    // everyone else draws what they drew without the fleet: the benign traffic is the same
    const benign = (es: RequestEvent[], l: typeof rotatingLabels): string[] => es.filter((e) => l.accounts[e.accountId].group === 'benign').map((e) => JSON.stringify(e));
    expect(benign(all, rotatingLabels)).toEqual(benign([...generateEvents({ ...rotating, campaigns: [] }, 11)], labelsOf({ ...rotating, campaigns: [] }, 11)));
  });

  it('gives device apps their users\' addresses and browsers on every request, and each app its own org, card and prompts', () => {
    const apps: Scenario = { ...everyKind, campaigns: [], confounders: [{ kind: 'device_apps', id: 'apps', accounts: 6 }] };
    const appLabels = labelsOf(apps, 5);
    const events = [...generateEvents(apps, 5)].filter((e) => appLabels.accounts[e.accountId].group === 'apps');
    expect(appLabels.confounders).toEqual([{ id: 'apps', kind: 'device_apps', accounts: 6 }]);
    // 30 requests an hour each, steady, over the scenario's 2 hours
    expect(events.length).toBeGreaterThan(6 * 30 * 2 * 0.7);
    expect(distinct(events.map((e) => e.userAgent))).toBeGreaterThan(events.length * 0.99);
    expect(distinct(events.map((e) => prefix(e.ip as string)))).toBeGreaterThan(events.length * 0.9);
    for (const attribute of ['orgId', 'paymentFingerprint'] as const) expect(distinct(events.map((e) => e[attribute]))).toBe(6);
    // each app its own system prompts: no template is shared by two apps
    const appsOf = new Map<string, Set<string>>();
    for (const e of events) (appsOf.get(e.promptTemplateHash as string) ?? appsOf.set(e.promptTemplateHash as string, new Set()).get(e.promptTemplateHash as string)!).add(e.accountId);
    expect(Math.max(...[...appsOf.values()].map((a) => a.size))).toBe(1);
  });

  it('multiplies everyone\'s rate during a viral surge', () => {
    const surged: Scenario = { ...everyKind, campaigns: [], confounders: [{ kind: 'viral_surge', id: 's', start: '1h', end: '2h', factor: 3 }] };
    const flat: Scenario = { ...everyKind, campaigns: [], confounders: [] };
    const count = (sc: Scenario, from: number, to: number): number => {
      let n = 0;
      for (const e of generateEvents(sc, 5)) if (e.ts >= sc.start + from && e.ts < sc.start + to) n++;
      return n;
    };
    const ratio = count(surged, 60 * MIN, 120 * MIN) / count(flat, 60 * MIN, 120 * MIN);
    expect(ratio).toBeGreaterThan(2.5);
    expect(ratio).toBeLessThan(3.5);
  });
});
