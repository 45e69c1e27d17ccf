import { isUtf8 } from 'node:buffer';
import Ajv from 'ajv';
import schema from './request-event.schema.json';
import type { RequestEvent } from './request-event';

/** Why an event was rejected: a bounded set, used as a metric label and in the dead-letter headers. */
export type RejectReason = 'empty' | 'too_large' | 'not_utf8' | 'not_json' | 'schema' | 'ts_in_future';

export type DecodeResult =
  | { ok: true; event: RequestEvent }
  | { ok: false; reason: RejectReason; detail: string };

const ajv = new Ajv({ allErrors: false, strict: false });
const validateEvent = ajv.compile<RequestEvent>(schema);

export interface DecoderOptions {
  maxMessageBytes: number;
  maxFutureMs: number;
}

/**
 * Turns one message value into a RequestEvent or a reason. Never throws: hostile bytes (invalid
 * UTF-8, deep nesting, huge numbers, __proto__ keys) end as a reason, and oversized values are
 * rejected before they are parsed. `now` is the injected clock's time, for the future-timestamp bound.
 */
export function decodeEvent(value: Buffer | null, opts: DecoderOptions, now: number): DecodeResult {
  if (value === null || value.length === 0) return { ok: false, reason: 'empty', detail: 'message has no value' };
  if (value.length > opts.maxMessageBytes) {
    return { ok: false, reason: 'too_large', detail: `value is ${value.length} bytes, above ingest.maxMessageBytes ${opts.maxMessageBytes}` };
  }
  if (!isUtf8(value)) return { ok: false, reason: 'not_utf8', detail: 'value is not valid UTF-8' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return { ok: false, reason: 'not_json', detail: `not JSON: ${(e as Error).message.slice(0, 200)}` };
  }
  if (!validateEvent(parsed)) {
    const err = validateEvent.errors?.[0];
    const where = err?.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : 'event';
    return { ok: false, reason: 'schema', detail: `${where} ${err?.message ?? 'is invalid'}`.slice(0, 300) };
  }
  if (parsed.ts > now + opts.maxFutureMs) {
    return { ok: false, reason: 'ts_in_future', detail: `ts ${parsed.ts} is more than ${opts.maxFutureMs} ms ahead of the clock (${now})` };
  }
  return { ok: true, event: parsed };
}
