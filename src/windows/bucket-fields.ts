import type { BucketData } from './store';

/** Decodes one bucket hash (the layout in keys.ts) into BucketData. */
export function decodeBucket(start: number, fields: Iterable<[string, string | number]>): BucketData {
  const b: BucketData = { start, byCapability: {}, members: new Map(), young: new Set(), overflow: 0, distinct: 0 };
  for (const [f, raw] of fields) {
    const v = Number(raw);
    const kind = f.charCodeAt(0);
    if (f.length > 2 && f.charCodeAt(1) === 58 /* ':' */) {
      const name = f.slice(2);
      if (kind === 99 /* c */) b.byCapability[name] = (b.byCapability[name] ?? 0) + v;
      else if (kind === 109 /* m */) b.members.set(name, (b.members.get(name) ?? 0) + v);
      else if (kind === 121 /* y */) {
        b.members.set(name, (b.members.get(name) ?? 0) + v);
        b.young.add(name);
      }
    } else if (f === 'o') b.overflow = v;
  }
  b.distinct = b.members.size;
  return b;
}

/** Parses a candidates-set member "type:value" (the value may itself contain ':'). */
export function parseRef(ref: string): { type: string; value: string } {
  const i = ref.indexOf(':');
  return { type: ref.slice(0, i), value: ref.slice(i + 1) };
}
