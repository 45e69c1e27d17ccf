import { defaultConfig } from '../../src/config/config';
import { AlertBook } from '../../src/detect/alert-book';
import type { FleetAssessment } from '../../src/detect/assess';
import type { Link, Severity } from '../../src/alerts/alert';

const cfg = defaultConfig({ detector: { holdEvaluations: 2, quietPeriodMs: 10 * 60_000, growthToReemit: 0.25, mergeOverlap: 0.5 }, alerts: { publicUrl: 'https://lockstep.example/' } });
const MIN = 60_000;

function fleet(link: Link, accounts: string[], score: number, opts: { core?: boolean } = {}): FleetAssessment {
  const severity: Severity | null = score >= 0.8 ? 'critical' : score >= 0.6 ? 'warning' : null;
  return {
    link,
    scale: '1m',
    score,
    severity,
    members: new Map(accounts.map((a, i) => [a, 100 - i])),
    core: opts.core ?? true,
    capabilityShare: { coding: 1 },
    targetedCapabilities: ['coding'],
    windowStart: 0,
    windowEnd: MIN,
    evidence: {
      scale: '1m',
      burst: { score: 0.9, observed: 100, expected: 5, pValue: 1e-9, populationRatio: 10 },
      synchrony: { score: 0.9, chi: 0.9, meanPairwiseCorrelation: 0.8, sampledMembers: accounts.length },
      targeting: { score: 0.9, jsDivergence: 0.4, highValueShare: 1, populationHighValueShare: 0.4 },
      size: { score: 0.9, accounts: accounts.length, youngAccounts: 0, youngShare: 0, requests: 100 },
      linkRarity: 1,
      reason: `fleet on ${link.type}`,
    },
  };
}

const accts = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const ip: Link = { type: 'ip_prefix', value: '203.0.113.0/24' };
const tpl: Link = { type: 'prompt_template', value: 'tpl-1' };

describe('AlertBook', () => {
  it('fires only after the score holds for holdEvaluations, once per episode, with the page URL', () => {
    const book = new AlertBook(cfg.detector, cfg.alerts, () => false);
    expect(book.update(1 * MIN, [fleet(ip, accts('a', 20), 0.9)])).toEqual([]);
    const [fired] = book.update(2 * MIN, [fleet(ip, accts('a', 20), 0.9)]);
    expect(fired).toMatchObject({ status: 'firing', severity: 'critical', accountCount: 20, link: ip, detectedAt: 2 * MIN });
    expect(fired.url).toBe(`https://lockstep.example/alerts/${fired.alertId}`);
    // same membership: nothing new to say
    expect(book.update(3 * MIN, [fleet(ip, accts('a', 20), 0.9)])).toEqual([]);
    expect(book.firing().map((a) => a.alertId)).toEqual([fired.alertId]);
  });

  it('does not fire on a score that does not hold', () => {
    const book = new AlertBook(cfg.detector, cfg.alerts, () => false);
    for (let t = 1; t <= 10; t++) expect(book.update(t * MIN, [fleet(ip, accts('a', 20), t % 2 ? 0.9 : 0.3)])).toEqual([]);
  });

  it('re-emits with the same alertId when membership grows materially or severity rises', () => {
    const book = new AlertBook(cfg.detector, cfg.alerts, () => false);
    book.update(1 * MIN, [fleet(ip, accts('a', 20), 0.7)]);
    const [first] = book.update(2 * MIN, [fleet(ip, accts('a', 20), 0.7)]);
    expect(first.severity).toBe('warning');
    expect(book.update(3 * MIN, [fleet(ip, accts('a', 22), 0.7)])).toEqual([]); // +10%: not material
    const [grown] = book.update(4 * MIN, [fleet(ip, accts('a', 30), 0.7)]);
    expect(grown).toMatchObject({ alertId: first.alertId, accountCount: 30, severity: 'warning' });
    const [escalated] = book.update(5 * MIN, [fleet(ip, accts('a', 30), 0.95)]);
    expect(escalated).toMatchObject({ alertId: first.alertId, severity: 'critical' });
  });

  it('re-emits a fleet that swaps its accounts for new ones (churn), naming them', () => {
    const book = new AlertBook(cfg.detector, cfg.alerts, () => false);
    book.update(1 * MIN, [fleet(ip, accts('gen1-', 20), 0.9)]);
    const [first] = book.update(2 * MIN, [fleet(ip, accts('gen1-', 20), 0.9)]);
    // the same size, half of it new accounts
    const [swapped] = book.update(3 * MIN, [fleet(ip, [...accts('gen1-', 10), ...accts('gen2-', 10)], 0.9)]);
    expect(swapped).toMatchObject({ alertId: first.alertId, accountCount: 20 });
    expect(swapped.accounts.filter((a) => a.startsWith('gen2-'))).toHaveLength(10);
    // nothing new: nothing to say
    expect(book.update(4 * MIN, [fleet(ip, [...accts('gen1-', 10), ...accts('gen2-', 10)], 0.9)])).toEqual([]);
  });

  it('resolves after the quiet period, not before, and a new episode gets a new alertId', () => {
    const book = new AlertBook(cfg.detector, cfg.alerts, () => false);
    book.update(1 * MIN, [fleet(ip, accts('a', 20), 0.9)]);
    const [fired] = book.update(2 * MIN, [fleet(ip, accts('a', 20), 0.9)]);
    expect(book.update(5 * MIN, [fleet(ip, accts('a', 20), 0.2)])).toEqual([]);
    expect(book.update(11 * MIN, [])).toEqual([]);
    const [resolved] = book.update(12 * MIN, []);
    expect(resolved).toMatchObject({ alertId: fired.alertId, status: 'resolved', detectedAt: 12 * MIN });
    expect(book.firing()).toEqual([]);
    expect(book.recentlyResolved()[0].alertId).toBe(fired.alertId);
    book.update(20 * MIN, [fleet(ip, accts('a', 20), 0.9)]);
    const [again] = book.update(21 * MIN, [fleet(ip, accts('a', 20), 0.9)]);
    expect(again.alertId).not.toBe(fired.alertId);
  });

  it('merges one campaign seen through several keys into one alert listing every link', () => {
    const book = new AlertBook(cfg.detector, cfg.alerts, () => false);
    const members = accts('c', 30);
    book.update(1 * MIN, [fleet(ip, members, 0.9), fleet(tpl, members.slice(5), 0.85)]);
    const out = book.update(2 * MIN, [fleet(ip, members, 0.9), fleet(tpl, members.slice(5), 0.85)]);
    expect(out).toHaveLength(1);
    expect(out[0].links).toEqual([ip, tpl]);
    expect(out[0].accountCount).toBe(30);
  });

  it('keeps a large key without a synchronized core from pulling its bystanders into a fleet\'s alert', () => {
    const book = new AlertBook(cfg.detector, cfg.alerts, () => false);
    const fleetMembers = accts('f', 20);
    const asn: Link = { type: 'asn', value: '64500' };
    const wholeAsn = [...fleetMembers, ...accts('bystander', 400)];
    book.update(1 * MIN, [fleet(ip, fleetMembers, 0.9)]);
    book.update(2 * MIN, [fleet(ip, fleetMembers, 0.9)]);
    book.update(3 * MIN, [fleet(ip, fleetMembers, 0.9), fleet(asn, wholeAsn, 0.65, { core: false })]);
    const out = book.update(4 * MIN, [fleet(ip, fleetMembers, 0.9), fleet(asn, wholeAsn, 0.65, { core: false })]);
    const ipAlert = book.firing().find((a) => a.links.some((l) => l.type === 'ip_prefix'));
    expect(ipAlert?.accountCount).toBe(20);
    expect(out.every((a) => a.link.type !== 'ip_prefix' || a.accountCount === 20)).toBe(true);
  });

  it('caps severity at warning for warning-only members', () => {
    const book = new AlertBook(cfg.detector, cfg.alerts, () => true);
    book.update(1 * MIN, [fleet(ip, accts('a', 20), 0.95)]);
    const [a] = book.update(2 * MIN, [fleet(ip, accts('a', 20), 0.95)]);
    expect(a.severity).toBe('warning');
  });

  it('survives a hand-over: state restored into another book continues the same episode', () => {
    const book = new AlertBook(cfg.detector, cfg.alerts, () => false);
    book.update(1 * MIN, [fleet(ip, accts('a', 20), 0.9)]);
    const [fired] = book.update(2 * MIN, [fleet(ip, accts('a', 20), 0.9)]);
    const successor = new AlertBook(cfg.detector, cfg.alerts, () => false);
    successor.loadState(JSON.parse(JSON.stringify(book.toState())));
    expect(successor.lastEvaluatedAt).toBe(2 * MIN);
    expect(successor.update(3 * MIN, [fleet(ip, accts('a', 20), 0.9)])).toEqual([]);
    expect(successor.firing().map((a) => a.alertId)).toEqual([fired.alertId]);
    const [resolved] = successor.update(20 * MIN, []);
    expect(resolved).toMatchObject({ alertId: fired.alertId, status: 'resolved' });
  });
});
