/**
 * Status codes returned by the enforcement Lua scripts (first element of every reply) and by the
 * in-memory store, so both stores answer in the same terms. The scripts hard-code these numbers;
 * each script's header lists the ones it returns.
 */
export enum ScriptStatus {
  /** apply-limit: a new limit was written (counted against the hourly cap) */
  Created = 1,
  /** apply-limit: an existing live limit was replaced (escalated, extended or taken over by another alert) */
  Updated = 2,
  /** apply-limit: not written, the alert already limited caps.perAlert accounts */
  CapPerAlert = -1,
  /** apply-limit: not written, caps.perHour new limits were set in the last hour */
  CapPerHour = -2,
  /** apply-limit: not written, a human released this account from this alert */
  ReleasedByHuman = -3,
  /** release-limit: released */
  Released = 3,
  /** release-limit: the account has no limit */
  NotFound = -4,
  /** release-limit: the limit now belongs to another alert than the caller read; read again */
  Conflict = -5,
  /** take-token: request allowed */
  Allowed = 4,
  /** take-token: bucket empty, request denied */
  Denied = -6,
}

export function statusName(code: number): string {
  return ScriptStatus[code] ?? `unknown(${code})`;
}
