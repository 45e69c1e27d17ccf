import { defaultConfig } from '../../src/config/config';
import { AccountValueCap, ROTATING_VALUE, valueShares } from '../../src/ingest/value-cap';

const HOUR = 3_600_000;
const t0 = Date.UTC(2026, 0, 15, 12);

/** A cap of `maxValues` per type (or the types' own in `byType`) over `maxAccounts`, per hour. */
function capOf(maxValues: number, maxAccounts: number, byType: Partial<Record<string, number>> = {}): AccountValueCap {
  return new AccountValueCap({ maxValues, maxAccounts, maxValuesByType: byType }, HOUR);
}

/** Each of `accounts`, in turn, sends one event at `ts` with org o1. */
function eachUsesOrg(cap: AccountValueCap, accounts: string[], ts: number): void {
  for (const a of accounts) {
    cap.begin(a, ts);
    cap.admit('org', 'o1');
  }
}

describe('AccountValueCap', () => {
  it('lets an account add maxValues distinct values of a type per period; later new ones count under (rotating)', () => {
    const cap = capOf(3, 100);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      cap.begin('a', t0 + i);
      seen.push(cap.admit('user_agent', `ua-${i}`));
    }
    expect(seen).toEqual(['ua-0', 'ua-1', 'ua-2', ROTATING_VALUE, ROTATING_VALUE, ROTATING_VALUE]);
    // a value it already uses keeps counting under itself
    cap.begin('a', t0 + 10);
    expect(cap.admit('user_agent', 'ua-1')).toBe('ua-1');
  });

  it("gives a type its own share where maxValuesByType names it", () => {
    const cap = capOf(3, 100, { ip_prefix: 1 });
    cap.begin('a', t0);
    expect(cap.admit('ip_prefix', '10.0.0.0/24')).toBe('10.0.0.0/24');
    expect(cap.admit('ip_prefix', '10.0.1.0/24')).toBe(ROTATING_VALUE);
    expect(['t1', 't2', 't3', 't4'].map((t) => cap.admit('prompt_template', t))).toEqual(['t1', 't2', 't3', ROTATING_VALUE]);
  });

  it('by default keeps 8 network addresses, ASNs and client strings an hour and 32 of the others; a type named in maxValuesByType keeps its own', () => {
    expect(valueShares(defaultConfig().ingest.valueCap)).toEqual({ ip_prefix: 8, asn: 8, user_agent: 8, payment: 32, prompt_template: 32, org: 32 });
    // naming one type keeps the other types' defaults
    expect(valueShares(defaultConfig({ ingest: { valueCap: { maxValues: 20, maxValuesByType: { asn: 16, prompt_template: 4 } } } }).ingest.valueCap)).toEqual({ ip_prefix: 8, asn: 16, user_agent: 8, payment: 20, prompt_template: 4, org: 20 });
  });

  it('counts each type apart, and each account apart', () => {
    const cap = capOf(1, 100);
    cap.begin('a', t0);
    expect(cap.admit('user_agent', 'x')).toBe('x');
    expect(cap.admit('prompt_template', 'x')).toBe('x');
    expect(cap.admit('ip_prefix', '10.0.0.0/24')).toBe('10.0.0.0/24');
    expect(cap.admit('ip_prefix', '10.0.1.0/24')).toBe(ROTATING_VALUE);
    cap.begin('b', t0);
    expect(cap.admit('ip_prefix', '10.0.1.0/24')).toBe('10.0.1.0/24');
  });

  it('starts every account afresh in each period (the longest scale bucket)', () => {
    const cap = capOf(1, 100);
    cap.begin('a', t0);
    expect(cap.admit('asn', '1')).toBe('1');
    expect(cap.admit('asn', '2')).toBe(ROTATING_VALUE);
    cap.begin('a', t0 + HOUR);
    expect(cap.admit('asn', '2')).toBe('2');
    // a late event of the previous period counts against the current one
    cap.begin('a', t0 + 5);
    expect(cap.admit('asn', '3')).toBe(ROTATING_VALUE);
  });

  it('tracks at most maxAccounts accounts, evicting the one whose period began first', () => {
    const cap = capOf(1, 2);
    eachUsesOrg(cap, ['a', 'b', 'c'], t0);
    expect(cap.size).toBe(2);
    // b was kept: its share is used; a was evicted: it starts over
    cap.begin('b', t0 + 1);
    expect(cap.admit('org', 'o2')).toBe(ROTATING_VALUE);
    cap.begin('a', t0 + 1);
    expect(cap.admit('org', 'o2')).toBe('o2');
  });

  it('holds only the accounts seen in the latest period', () => {
    const cap = capOf(1, 100);
    eachUsesOrg(cap, ['a', 'b', 'c'], t0);
    expect(cap.size).toBe(3);
    cap.begin('b', t0 + HOUR);
    expect(cap.size).toBe(1);
    // a late event of the earlier period starts its account afresh
    cap.begin('a', t0 + 5);
    expect(cap.admit('org', 'o2')).toBe('o2');
    expect(cap.size).toBe(2);
  });

  it('refuses admit() before begin()', () => {
    expect(() => capOf(1, 1).admit('org', 'o')).toThrow(/before begin/);
  });
});
