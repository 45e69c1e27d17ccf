/**
 * Every string that reaches a page goes through here: account ids, link values and user agents are
 * chosen by whoever sends the requests, so they are hostile until escaped. One function serves HTML
 * text, HTML attributes and SVG (the same five characters matter in all three).
 */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** Shortens a (raw, unescaped) string for display; the full value goes in a title attribute. */
export function clip(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, Math.max(1, max - 1)) + '…';
}

/** An href for a configured base URL: only http(s) is linked, anything else (javascript:, data:) is dropped. */
export function safeHref(url: string): string | null {
  return /^https?:\/\//i.test(url) ? url : null;
}
