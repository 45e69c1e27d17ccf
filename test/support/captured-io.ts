import { PassThrough } from 'node:stream';

/** stdout and stderr streams for a CLI command under test, with what was written to each. */
export function capturedIo(): { stdout: PassThrough; stderr: PassThrough; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  stdout.on('data', (b: Buffer) => o.push(b));
  stderr.on('data', (b: Buffer) => e.push(b));
  return { stdout, stderr, out: () => Buffer.concat(o).toString(), err: () => Buffer.concat(e).toString() };
}
