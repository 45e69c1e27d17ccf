import type { RequestEvent } from '../../src/events/request-event';
import { generateEvents, labelsOf } from '../../src/sim/generate';
import type { Scenario } from '../../src/sim/scenario';

const HOUR = 3600000;
const benignOnly: Scenario = {
  name: 'benign-two-days',
  start: 1730851200000,
  duration: '2d',
  benign: { accounts: 3000, medianRequestsPerDay: 12, rateSigma: 1.6 },
  confounders: [{ kind: 'university_nat', id: 'campus', accounts: 200 }, { kind: 'agent_framework_ua', id: 'agents', accounts: 300, userAgent: 'openagent-kit/0.9.3' }],
};
const events: RequestEvent[] = [...generateEvents(benignOnly, 3)];
const labels = labelsOf(benignOnly, 3);
const benign = events.filter((e) => labels.accounts[e.accountId].group === 'benign');
const prefix = (ip: string): string => ip.slice(0, ip.lastIndexOf('.'));

describe('benign population', () => {
  it('has heavy-tailed per-account volume: the top 1% of accounts carry a large share', () => {
    const perAccount = new Map<string, number>();
    for (const e of benign) perAccount.set(e.accountId, (perAccount.get(e.accountId) ?? 0) + 1);
    const counts = [...perAccount.values()].sort((a, b) => b - a);
    const top = counts.slice(0, 30).reduce((s, c) => s + c, 0);
    expect(top / benign.length).toBeGreaterThan(0.15);
    // and the median account is light
    expect(counts[Math.floor(counts.length / 2)]).toBeLessThan(benign.length / counts.length);
  });

  it('follows a daily cycle', () => {
    const hourly = new Array(48).fill(0);
    for (const e of benign) hourly[Math.floor((e.ts - benignOnly.start) / HOUR)]++;
    expect(Math.max(...hourly) / Math.min(...hourly)).toBeGreaterThan(1.5);
    // the same hour on both days looks alike (a cycle, not a trend)
    const day1 = hourly.slice(0, 24).reduce((s, c) => s + c, 0);
    const day2 = hourly.slice(24).reduce((s, c) => s + c, 0);
    expect(Math.abs(day1 - day2) / day1).toBeLessThan(0.1);
  });

  it('spreads accounts over many networks, skews client strings, and is mostly old accounts', () => {
    const first = new Map<string, RequestEvent>();
    for (const e of benign) if (!first.has(e.accountId)) first.set(e.accountId, e);
    const accounts = [...first.values()];
    expect(new Set(accounts.map((e) => prefix(e.ip as string))).size).toBeGreaterThan(accounts.length * 0.5);
    expect(new Set(accounts.map((e) => e.asn)).size).toBeGreaterThanOrEqual(15);
    const ua = new Map<string, number>();
    for (const e of accounts) ua.set(e.userAgent as string, (ua.get(e.userAgent as string) ?? 0) + 1);
    const uaCounts = [...ua.values()].sort((a, b) => b - a);
    expect(uaCounts[0] / accounts.length).toBeGreaterThan(0.1);
    expect(uaCounts[0] / accounts.length).toBeLessThan(0.5);
    expect(ua.size).toBeGreaterThan(50);
    const young = accounts.filter((e) => benignOnly.start - (e.accountCreatedTs as number) < 14 * 24 * HOUR).length;
    expect(young / accounts.length).toBeGreaterThan(0.02);
    expect(young / accounts.length).toBeLessThan(0.2);
  });

  it('gives accounts capability habits: many mostly code, the population does not', () => {
    const perAccount = new Map<string, { coding: number; all: number }>();
    for (const e of benign) {
      const a = perAccount.get(e.accountId) ?? { coding: 0, all: 0 };
      a.all++;
      if (e.capability === 'coding') a.coding++;
      perAccount.set(e.accountId, a);
    }
    const active = [...perAccount.values()].filter((a) => a.all >= 20);
    const coders = active.filter((a) => a.coding / a.all > 0.5).length;
    expect(coders / active.length).toBeGreaterThan(0.15);
    const codingShare = benign.filter((e) => e.capability === 'coding').length / benign.length;
    expect(codingShare).toBeGreaterThan(0.1);
    expect(codingShare).toBeLessThan(0.5);
  });

  it('puts the university behind one /24 and ASN, with independent students', () => {
    const campus = events.filter((e) => labels.accounts[e.accountId].group === 'campus');
    expect(new Set(campus.map((e) => prefix(e.ip as string))).size).toBe(1);
    expect(new Set(campus.map((e) => e.asn)).size).toBe(1);
    expect(new Set(campus.map((e) => e.paymentFingerprint).filter(Boolean)).size).toBeGreaterThan(100);
    const agents = events.filter((e) => labels.accounts[e.accountId].group === 'agents');
    expect(new Set(agents.map((e) => e.userAgent))).toEqual(new Set(['openagent-kit/0.9.3']));
    expect(new Set(agents.map((e) => prefix(e.ip as string))).size).toBeGreaterThan(200);
  });
});
