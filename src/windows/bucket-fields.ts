import type { BucketData } from './store';

const NO_MEMBERS: ReadonlyMap<string, number> = new Map();
const NO_YOUNG: ReadonlySet<string> = new Set();
const NO_CAPABILITIES: ReadonlyMap<string, number> = new Map();

/** A bucket with nothing in it: what a store returns for a bucket no event reached. Shares its empty collections. */
export function emptyBucket(start: number): BucketData {
  return { start, byCapability: NO_CAPABILITIES, requests: 0, members: NO_MEMBERS, young: NO_YOUNG, overflow: 0, distinct: 0 };
}

/** Decodes one bucket hash (the layout in keys.ts) into BucketData. */
export function decodeBucket(start: number, fields: Iterable<[string, string | number]>): BucketData {
  const byCapability = new Map<string, number>();
  const members = new Map<string, number>();
  const young = new Set<string>();
  let requests = 0;
  let overflow = 0;
  for (const [f, raw] of fields) {
    const v = Number(raw);
    const kind = f.charCodeAt(0);
    if (f.length > 2 && f.charCodeAt(1) === 58 /* ':' */) {
      const name = f.slice(2);
      if (kind === 99 /* c */) {
        byCapability.set(name, (byCapability.get(name) ?? 0) + v);
        requests += v;
      } else if (kind === 109 /* m */) members.set(name, (members.get(name) ?? 0) + v);
      else if (kind === 121 /* y */) {
        members.set(name, (members.get(name) ?? 0) + v);
        young.add(name);
      }
    } else if (f === 'o') overflow = v;
  }
  return { start, byCapability, requests, members, young, overflow, distinct: members.size };
}

/** Parses a candidates-set member "type:value" (the value may itself contain ':'). */
export function parseRef(ref: string): { type: string; value: string } {
  const i = ref.indexOf(':');
  return { type: ref.slice(0, i), value: ref.slice(i + 1) };
}
