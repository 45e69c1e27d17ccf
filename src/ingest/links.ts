import type { LinkType, RequestEvent } from '../events/request-event';

/**
 * The network prefix lockstep links accounts by: /24 for IPv4, /48 for IPv6 (the usual
 * allocation to one site). Returns null for strings that are not IP addresses.
 */
export function ipPrefix(ip: string): string | null {
  if (ip.includes(':')) return ipv6Prefix48(ip);
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
  }
  return `${Number(parts[0])}.${Number(parts[1])}.${Number(parts[2])}.0/24`;
}

function ipv6Prefix48(ip: string): string | null {
  const zone = ip.indexOf('%');
  const addr = (zone >= 0 ? ip.slice(0, zone) : ip).toLowerCase();
  if (!/^[0-9a-f:.]+$/.test(addr)) return null;
  const halves = addr.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  // an embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups
  const groups = (g: string[]): number => g.reduce((n, s) => n + (s.includes('.') ? 2 : 1), 0);
  const total = groups(head) + groups(tail);
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  for (const g of [...head, ...tail]) {
    if (g.includes('.')) continue;
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
  }
  const full = [...head, ...Array(8 - total).fill('0'), ...tail];
  const first3 = full.slice(0, 3).map((g) => (g.includes('.') ? null : parseInt(g, 16).toString(16)));
  if (first3.some((g) => g === null)) return null;
  return `${first3.join(':')}::/48`;
}

/** Produces the attribute-derived link values of one event (behaviour links come from BehaviorTracker). */
export type LinkSink = (type: LinkType, value: string) => void;

export function attributeLinks(e: RequestEvent, enabled: ReadonlySet<LinkType>, emit: LinkSink): void {
  if (e.ip !== undefined && enabled.has('ip_prefix')) {
    const p = ipPrefix(e.ip);
    if (p !== null) emit('ip_prefix', p);
  }
  if (e.asn !== undefined && enabled.has('asn')) emit('asn', String(e.asn));
  if (e.paymentFingerprint && enabled.has('payment')) emit('payment', e.paymentFingerprint);
  if (e.promptTemplateHash && enabled.has('prompt_template')) emit('prompt_template', e.promptTemplateHash);
  if (e.userAgent && enabled.has('user_agent')) emit('user_agent', e.userAgent);
  if (e.orgId && enabled.has('org')) emit('org', e.orgId);
}
