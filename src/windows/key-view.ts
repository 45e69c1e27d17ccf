import type { Config } from '../config/config';
import type { KeyType } from '../events/request-event';
import type { WindowStore } from './store';

export interface KeyWindowView {
  scale: string;
  start: number;
  end: number;
  requests: number;
  byCapability: Record<string, number>;
  distinctAccounts: number;
  topAccounts: { accountId: string; requests: number }[];
}

export interface KeyView {
  type: KeyType;
  value: string;
  windows: KeyWindowView[];
}

/**
 * One key's windows at every scale, each ending at `watermark` (what GET /v1/keys/{type}/{value}
 * serves); an account's only at the scales its windows are kept (windows.accountScales).
 */
export async function readKeyView(store: WindowStore, cfg: Config, type: KeyType, value: string, watermark: number): Promise<KeyView> {
  const windows: KeyWindowView[] = [];
  for (const scale of cfg.windows.scales) {
    // not kept at this scale: leaving the window out says so, where empty counts would say "idle"
    if (type === 'account' && !cfg.windows.accountScales.includes(scale.name)) continue;
    const last = watermark - (watermark % scale.bucketMs);
    const first = last - (scale.buckets - 1) * scale.bucketMs;
    const [buckets] = await store.readBuckets([{ type, value }], scale, first, last);
    const byCapability: Record<string, number> = {};
    const members = new Map<string, number>();
    let requests = 0;
    for (const b of buckets) {
      for (const [cap, n] of b.byCapability) {
        byCapability[cap] = (byCapability[cap] ?? 0) + n;
        requests += n;
      }
      for (const [a, n] of b.members) members.set(a, (members.get(a) ?? 0) + n);
    }
    const topAccounts = [...members.entries()]
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .slice(0, cfg.windows.topAccounts)
      .map(([accountId, n]) => ({ accountId, requests: n }));
    windows.push({ scale: scale.name, start: first, end: last + scale.bucketMs, requests, byCapability, distinctAccounts: type === 'account' ? 1 : members.size, topAccounts });
  }
  return { type, value, windows };
}
