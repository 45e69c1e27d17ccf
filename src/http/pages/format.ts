/** Display formats of the evidence pages; all times are event time, shown in UTC. */

export function utc(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** "HH:MM" of an event time, for chart axes. */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

export function pct(share: number): string {
  if (!Number.isFinite(share)) return '—';
  const p = share * 100;
  return `${p >= 10 || p === 0 ? Math.round(p) : p.toFixed(1)}%`;
}

export function num(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '—';
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return Number(x.toFixed(digits)).toString();
}

/** A p-value people can read: "< 1e-12" rather than 0, three significant digits otherwise. */
export function pValue(p: number): string {
  if (!(p > 0)) return '< 1e-300';
  if (p < 1e-3) return p.toExponential(1);
  return Number(p.toPrecision(2)).toString();
}

/** Event time between two instants in words: "4 min", "2 h 5 min". */
export function span(ms: number): string {
  const min = Math.round(Math.abs(ms) / 60_000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
}
