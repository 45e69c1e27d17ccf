/**
 * Splits a byte stream into NDJSON lines without decoding it: each line is a view into the chunk
 * it came in (no copy unless it spans two chunks), so invalid UTF-8 reaches the decoder as bytes
 * and is dead-lettered as such rather than silently replaced. A trailing "\r" (CRLF files) is
 * dropped; empty lines are skipped.
 */
export async function* ndjsonLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let rest: Buffer | null = null;
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    let start = 0;
    let nl = chunk.indexOf(10);
    if (rest !== null && nl >= 0) {
      const line = trimCr(Buffer.concat([rest, chunk.subarray(0, nl)]));
      rest = null;
      if (line.length > 0) yield line;
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    while (nl >= 0) {
      const line = trimCr(chunk.subarray(start, nl));
      if (line.length > 0) yield line;
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) rest = rest === null ? chunk.subarray(start) : Buffer.concat([rest, chunk.subarray(start)]);
  }
  if (rest !== null) {
    const line = trimCr(rest);
    if (line.length > 0) yield line;
  }
}

function trimCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, line.length - 1) : line;
}
