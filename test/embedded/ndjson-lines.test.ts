import { Readable } from 'node:stream';
import { ndjsonLines } from '../../src/embedded/ndjson-lines';
import { runReplay } from '../../src/embedded/replay';
import { capturedIo } from '../support/captured-io';

async function linesOf(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of ndjsonLines(Readable.from(chunks))) out.push(line.toString('latin1'));
  return out;
}

describe('ndjsonLines', () => {
  it('splits lines across chunk borders, drops CR of CRLF and empty lines, keeps a last line without newline', async () => {
    const text = '{"a":1}\r\n\n{"b":2}\n{"c":3}\n\n{"d":4}';
    // every split point, including inside "\r\n"
    for (let cut = 0; cut <= text.length; cut++) {
      const chunks = [Buffer.from(text.slice(0, cut)), Buffer.from(text.slice(cut))];
      expect(await linesOf(chunks)).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}']);
    }
    expect(await linesOf(['{"a":', '1}', '\n'].map((s) => Buffer.from(s)))).toEqual(['{"a":1}']);
  });

  it('passes bytes through undecoded, so invalid UTF-8 stays invalid', async () => {
    const bad = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const [line] = await linesOf([Buffer.concat([bad, Buffer.from('\n')])]);
    expect(Buffer.from(line, 'latin1').equals(bad)).toBe(true);
  });
});

describe('replay input', () => {
  it('counts a line of invalid UTF-8 as invalid instead of replacing its bytes', async () => {
    const ok = JSON.stringify({ ts: 1_730_851_200_000, accountId: 'a1', capability: 'coding' });
    const badUtf8 = Buffer.concat([Buffer.from('{"ts":1730851200001,"accountId":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('","capability":"coding"}')]);
    const input = Readable.from([Buffer.concat([Buffer.from(ok + '\n'), badUtf8, Buffer.from('\n' + ok + '\n')])]);
    const io = capturedIo();
    const summary = await runReplay(input, { stdin: input, ...io }, {}, false);
    expect(summary.events).toBe(3);
    expect(summary.invalid).toBe(1);
  });
});
