import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEvents } from '../../src/sim/generate';
import { loadScenario } from '../../src/sim/scenario';
import { REPLAY_SEMI_SPACE_MB, respawnArgs } from '../../src/cli/young-generation';
import { waitForExit } from '../support/process';
import { waitFor } from '../support/wait';

const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const FLAG = `--max-semi-space-size=${REPLAY_SEMI_SPACE_MB}`;

describe('respawnArgs', () => {
  it('runs the script again with the flag first, keeping Node arguments and the command line', () => {
    expect(respawnArgs(['--enable-source-maps'], undefined, '/x/main.js', ['replay', 'f.ndjson'])).toEqual([FLAG, '--enable-source-maps', '/x/main.js', 'replay', 'f.ndjson']);
  });

  it('leaves a semi-space size the user chose alone, on the command line or in NODE_OPTIONS (and so never loops)', () => {
    expect(respawnArgs(['--max-semi-space-size=8'], undefined, 'm.js', ['replay', '-'])).toBeNull();
    expect(respawnArgs([], '--inspect --max-semi-space-size=128', 'm.js', ['replay', '-'])).toBeNull();
    expect(respawnArgs([FLAG], '', 'm.js', ['replay', '-'])).toBeNull();
  });

  it('stays in this process under a debugger, whose port a second process could not take', () => {
    expect(respawnArgs(['--inspect'], undefined, 'm.js', ['replay', '-'])).toBeNull();
    expect(respawnArgs(['--inspect-brk=127.0.0.1:9230'], undefined, 'm.js', ['replay', '-'])).toBeNull();
    expect(respawnArgs([], '--inspect-wait', 'm.js', ['replay', '-'])).toBeNull();
    // --inspect-port alone starts no debugger
    expect(respawnArgs(['--inspect-port=9231'], undefined, 'm.js', ['replay', '-'])).toEqual([FLAG, '--inspect-port=9231', 'm.js', 'replay', '-']);
  });
});

describe('lockstep replay through its second process (built CLI)', () => {
  const env = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' };
  let file: string;

  beforeAll(() => {
    file = join(mkdtempSync(join(tmpdir(), 'lockstep-young-')), 'small.ndjson');
    writeFileSync(file, [...generateEvents(loadScenario('small'), 42)].map((e) => JSON.stringify(e)).join('\n') + '\n');
  });

  it('writes the same alerts as a process started with the flag itself, reading stdin', () => {
    const input = readFileSync(file);
    const respawned = spawnSync(process.execPath, [MAIN, 'replay', '--quiet', '-'], { input, env });
    const direct = spawnSync(process.execPath, [FLAG, MAIN, 'replay', '--quiet', '-'], { input, env });
    expect(respawned.status).toBe(0);
    expect(direct.status).toBe(0);
    expect(respawned.stdout.toString()).toContain('"status":"firing"');
    expect(respawned.stdout.toString()).toBe(direct.stdout.toString());
  });

  it("answers with the child's exit code and its stderr", () => {
    const r = spawnSync(process.execPath, [MAIN, 'replay', '/nonexistent.ndjson'], { env });
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toContain('no such file: /nonexistent.ndjson');
  });

  it('runs replay with the larger young generation, and a SIGTERM stops both processes', async () => {
    // stdin that stays open after the first process ends (a pipe of ours would be closed with it,
    // and the child would stop on end of input rather than on the signal)
    const fifo = join(mkdtempSync(join(tmpdir(), 'lockstep-young-')), 'in');
    spawnSync('mkfifo', [fifo]);
    const stdin = openSync(fifo, 'r+');
    const parent = spawn(process.execPath, [MAIN, 'replay', '-'], { env, stdio: [stdin, 'ignore', 'ignore'] });
    const exited = waitForExit(parent);
    // replay waits on the open stdin; find the replay process the first one started
    const childPid = await waitFor(
      () => {
        const r = spawnSync('pgrep', ['-P', String(parent.pid)]);
        const pid = Number(r.stdout.toString().trim().split('\n')[0]);
        return pid > 0 ? pid : null;
      },
      { timeoutMs: 10_000, what: 'the replay child process' },
    );
    const cmdline = readFileSync(`/proc/${childPid}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toContain(FLAG);
    expect(cmdline).toContain('replay');
    parent.kill('SIGTERM');
    await exited;
    expect(parent.signalCode).toBe('SIGTERM');
    await waitFor(
      () => {
        try {
          process.kill(childPid, 0);
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 5_000, what: 'the child to be gone' },
    );
    closeSync(stdin);
  });
});
