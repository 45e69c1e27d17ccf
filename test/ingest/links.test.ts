import { attributeLinks, ipPrefix } from '../../src/ingest/links';
import type { LinkType } from '../../src/events/request-event';

describe('ipPrefix', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['10.1.2.3', '10.1.2.0/24'],
    ['010.001.002.003', '10.1.2.0/24'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd::/48'],
    ['2001:DB8::1', '2001:db8:0::/48'],
    ['::1', '0:0:0::/48'],
    ['fe80::1%eth0', 'fe80:0:0::/48'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1::/48'],
  ])('%s -> %s', (ip, prefix) => expect(ipPrefix(ip)).toBe(prefix));

  it.each(['', '1.2.3', '1.2.3.256', 'a.b.c.d', '1:2:3:4:5:6:7:8:9', '2001::db8::1', 'example.com', '1.2.3.4.5'])('rejects %p', (ip) => expect(ipPrefix(ip)).toBeNull());
});

describe('attributeLinks', () => {
  const all = new Set<LinkType>(['ip_prefix', 'asn', 'payment', 'prompt_template', 'user_agent', 'org']);
  const collect = (enabled: Set<LinkType>, e: Parameters<typeof attributeLinks>[0]): string[] => {
    const out: string[] = [];
    attributeLinks(e, enabled, (t, v) => out.push(`${t}=${v}`));
    return out;
  };
  it('derives every configured link the event carries', () => {
    const e = { ts: 1, accountId: 'a', capability: 'coding', ip: '198.51.100.4', asn: 64500, paymentFingerprint: 'pf', promptTemplateHash: 'tpl', userAgent: 'ua', orgId: 'org' };
    expect(collect(all, e)).toEqual(['ip_prefix=198.51.100.0/24', 'asn=64500', 'payment=pf', 'prompt_template=tpl', 'user_agent=ua', 'org=org']);
    expect(collect(new Set<LinkType>(['asn']), e)).toEqual(['asn=64500']);
  });
  it('skips absent attributes and unparseable IPs', () => {
    expect(collect(all, { ts: 1, accountId: 'a', capability: 'coding', ip: 'not-an-ip' })).toEqual([]);
  });
});
