import fc from 'fast-check';
import { decodeEvent } from '../../src/events/decode';
import { defaultConfig } from '../../src/config/config';
import { IngestPipeline } from '../../src/ingest/pipeline';
import { MemoryDeadLetterSink } from '../../src/ingest/dead-letter';
import { MemoryWindowStore } from '../../src/windows/memory-store';
import { WindowKeys } from '../../src/windows/keys';
import { Metrics } from '../../src/metrics/metrics';

/**
 * ingest.maxMessageBytes: a larger message is rejected as too_large before anything reads it, so a
 * producer cannot make lockstep spend parse time or memory on a giant value.
 */
const NOW = Date.UTC(2026, 0, 15, 12);
const LIMIT = 1024;
const OPTS = { maxMessageBytes: LIMIT, maxFutureMs: 300_000 };

function eventOfSize(bytes: number): Buffer {
  const head = JSON.stringify({ ts: NOW, accountId: 'acct_1', capability: 'coding', requestId: '' });
  const text = head.slice(0, -2) + 'r'.repeat(Math.max(0, bytes - head.length)) + '"}';
  return Buffer.from(text);
}

describe('message size limit', () => {
  afterEach(() => jest.restoreAllMocks());

  it('accepts an event of exactly maxMessageBytes and rejects one byte more as too_large', () => {
    // requestId is capped at 128 chars by the schema: use a limit that keeps the boundary event valid
    const opts = { ...OPTS, maxMessageBytes: 180 };
    const atLimit = eventOfSize(180);
    expect(atLimit.length).toBe(180);
    expect(decodeEvent(atLimit, opts, NOW).ok).toBe(true);
    const over = eventOfSize(181);
    expect(decodeEvent(over, opts, NOW)).toEqual({ ok: false, reason: 'too_large', detail: expect.stringContaining('181 bytes') });
  });

  it('never parses an oversized value: invalid JSON and invalid UTF-8 above the limit are too_large, JSON.parse not called', () => {
    const parse = jest.spyOn(JSON, 'parse');
    fc.assert(
      fc.property(fc.integer({ min: LIMIT + 1, max: 64 * LIMIT }), fc.constantFrom(0x7b, 0xff, 0x22, 0x5b), (size, byte) => {
        const r = decodeEvent(Buffer.alloc(size, byte), OPTS, NOW);
        return !r.ok && r.reason === 'too_large';
      }),
      { numRuns: 300 },
    );
    expect(parse).not.toHaveBeenCalled();
    // the spy sees parses of values within the limit, so the assertion above could fail
    decodeEvent(Buffer.from('{"ts":1}'), OPTS, NOW);
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('a 16 MiB value is rejected in constant time and dead-lettered with its original bytes', async () => {
    const config = defaultConfig();
    config.ingest.maxMessageBytes = LIMIT;
    const sink = new MemoryDeadLetterSink();
    const pipeline = new IngestPipeline(config, new MemoryWindowStore(new WindowKeys('ls', config.redis.shards)), sink, new Metrics({ defaultMetrics: false }), { now: () => NOW });
    await pipeline.ensurePartition('t', 0);
    const huge = Buffer.alloc(16 * 1024 * 1024, 0x5b); // "[[[[..." : would be a deep-nesting bomb if parsed
    const parse = jest.spyOn(JSON, 'parse');
    const started = performance.now();
    pipeline.ingest('t', 0, { key: Buffer.from('k'), value: huge, offset: '0' });
    expect(performance.now() - started).toBeLessThan(50);
    expect(parse).not.toHaveBeenCalled();
    await pipeline.flush();
    expect(sink.letters).toHaveLength(1);
    expect(sink.letters[0].reason).toBe('too_large');
    expect(sink.letters[0].value).toBe(huge);
  });
});
