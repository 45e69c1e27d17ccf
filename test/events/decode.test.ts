import { decodeEvent } from '../../src/events/decode';

const opts = { maxMessageBytes: 1024, maxFutureMs: 60_000 };
const NOW = Date.UTC(2026, 10, 27, 12);
const buf = (x: unknown): Buffer => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x));
const valid = { ts: NOW - 1000, accountId: 'acct_1', capability: 'coding' };

describe('decodeEvent', () => {
  it('accepts the required fields and ignores unknown ones', () => {
    const r = decodeEvent(buf({ ...valid, extra: { nested: true }, ip: '203.0.113.9', asn: 64500 }), opts, NOW);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.event).toMatchObject({ ...valid, ip: '203.0.113.9', asn: 64500 });
  });

  it.each([
    ['empty', null, 'empty'],
    ['not JSON', buf('{"ts": 1,'), 'not_json'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not_utf8'],
    ['missing accountId', buf({ ts: NOW, capability: 'coding' }), 'schema'],
    ['ts not an integer', buf({ ...valid, ts: 1.5 }), 'schema'],
    ['ts a string', buf({ ...valid, ts: String(NOW) }), 'schema'],
    ['empty capability', buf({ ...valid, capability: '' }), 'schema'],
    ['negative tokens', buf({ ...valid, inputTokens: -1 }), 'schema'],
    ['asn mistyped', buf({ ...valid, asn: 'AS64500' }), 'schema'],
    ['a JSON array', buf([valid]), 'schema'],
    ['ts far in the future', buf({ ...valid, ts: NOW + 3_600_000 }), 'ts_in_future'],
    ['too large', buf({ ...valid, userAgent: 'x'.repeat(2000) }), 'too_large'],
  ])('rejects %s with reason %s', (_name, value, reason) => {
    const r = decodeEvent(value as Buffer | null, opts, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  it('names the offending field', () => {
    const r = decodeEvent(buf({ ...valid, accountId: 7 }), opts, NOW);
    expect(r).toEqual({ ok: false, reason: 'schema', detail: 'accountId must be string' });
  });

  it('does not let __proto__ keys pollute prototypes', () => {
    const r = decodeEvent(buf(`{"ts":${NOW},"accountId":"a","capability":"coding","__proto__":{"polluted":1},"constructor":{"prototype":{"p":1}}}`), opts, NOW);
    expect(r.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });
});
