/** Stable error codes: callers and tests match on `code`, never on message text. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'EVENT_INVALID'
  | 'STORE_CONFLICT'
  | 'STORE_UNAVAILABLE'
  | 'SINK_FAILED'
  | 'HTTP_BAD_REQUEST'
  | 'SHUTDOWN';

export class LockstepError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; field?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LockstepError';
    this.code = code;
    if (opts.field !== undefined) this.field = opts.field;
  }
}
