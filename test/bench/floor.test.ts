import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFloor } from '../../bench/floor';

/** The floor counts what lockstep would: valid events only, every attribute link its rules derive. */
describe('bench floor', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'lockstep-floor-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts each valid event once and each link lockstep derives from it', () => {
    const ts = Date.UTC(2026, 0, 1);
    const everyLink = { ts, accountId: 'a1', capability: 'coding', ip: '10.1.2.3', asn: 64500, userAgent: 'ua/1', paymentFingerprint: 'pm_1', promptTemplateHash: 'tpl', orgId: 'o1' };
    const lines = [
      // a second account on the same /24 in the same minute: one more link
      JSON.stringify({ ts: ts + 1_000, accountId: 'a2', capability: 'chat', ip: '10.1.2.99' }),
      // no usable address (not an IP): no link
      JSON.stringify({ ts: ts + 2_000, accountId: 'a3', capability: 'chat', ip: 'not-an-ip' }),
      '{"ts": "yesterday"}',
      'not json',
      JSON.stringify(everyLink),
    ];
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, lines.join('\n')); // no newline after the last line: it counts all the same
    const run = runFloor(file);
    expect(run.events).toBe(3);
    expect(run.links).toBe(7);
    expect(run.eventsPerSec).toBeGreaterThan(0);
  });
});
