import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Router } from '../../src/http/router';
import { registerEvidencePages } from '../../src/http/pages';
import { sendHtml } from '../../src/http/pages/routes';
import type { Alert } from '../../src/alerts/alert';
import { replayScenario, serveRouter, type ReplayedScenario } from '../http/pages/fixtures';

/**
 * The evidence page in a real browser: Debian's headless Chromium loads it from the HTTP server,
 * with console logging on stderr, and must report no console message (a CSP violation, a failed
 * load or a script error all show up there). LOCKSTEP_UPDATE_SCREENSHOT=1 writes the screenshot to
 * docs/img/evidence-page.png.
 */
const CHROMIUM = ['chromium', 'chromium-browser'].find((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0);
const SCREENSHOT = path.join(__dirname, '..', '..', 'docs', 'img', 'evidence-page.png');
/** console messages, uncaught errors and CSP reports as Chromium logs them with --enable-logging=stderr */
const CONSOLE_PROBLEM = /:CONSOLE[(:\]]|Uncaught|Content Security Policy|Refused to/;

if (!CHROMIUM) {
  // eslint-disable-next-line no-console
  console.warn('browser test skipped: chromium is not installed (apt-get install -y chromium); CI installs it');
}
const describeWithChromium = CHROMIUM ? describe : describe.skip;

interface BrowserRun {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** One headless Chromium run, asynchronous so that this process's server can answer it. */
function chromium(args: string[], url: string): Promise<BrowserRun> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-chromium-'));
  const child = spawn(
    CHROMIUM as string,
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--enable-logging=stderr', '--v=0', `--user-data-dir=${profile}`,
      ...args, url,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      fs.rmSync(profile, { recursive: true, force: true });
      resolve({ stdout, stderr, code });
    });
  });
}

function consoleProblems(stderr: string): string[] {
  return stderr.split('\n').filter((l) => CONSOLE_PROBLEM.test(l));
}

describeWithChromium('evidence page in headless Chromium', () => {
  let replay: ReplayedScenario;
  let alert: Alert;
  let server: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    replay = await replayScenario('small', 42, { alerts: { grafanaUrl: 'http://grafana.invalid', runbookUrl: 'http://runbook.invalid/lockstep' } });
    const critical = replay.detector.list().find((a) => a.severity === 'critical' && a.link.type === 'ip_prefix');
    if (!critical) throw new Error('the small scenario no longer raises a critical alert on a shared /24');
    alert = critical;
    const router = new Router();
    registerEvidencePages(router, { config: replay.config, store: replay.store, alerts: replay.detector, watermark: () => replay.watermark });
    // a page that breaks the policy, served the same way: proves the console scan sees violations
    router.add('GET', '/control', ({ res }) => sendHtml(res, 200, '<!doctype html><title>control</title><p>control</p><script>console.error("control")</script>'));
    server = await serveRouter(router);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('sees a CSP violation on a page that has a script (the scan works)', async () => {
    const run = await chromium(['--dump-dom'], `${server.url}/control`);
    expect(run.stdout).toContain('<p>control</p>');
    expect(consoleProblems(run.stderr).length).toBeGreaterThan(0);
  });

  it('loads the alert page with no console error and renders its charts', async () => {
    const run = await chromium(['--dump-dom'], `${server.url}/alerts/${alert.alertId}`);
    expect(consoleProblems(run.stderr)).toEqual([]);
    expect(run.stdout).toContain('<svg class="chart heatmap"');
    expect(run.stdout).toContain('<svg class="chart rate"');
    expect(run.stdout).toContain('<svg class="chart capabilities"');
    expect(run.stdout).toContain('data-signal="synchrony"');
  });

  it('loads the alert list with no console error', async () => {
    const run = await chromium(['--dump-dom'], `${server.url}/alerts`);
    expect(consoleProblems(run.stderr)).toEqual([]);
    expect(run.stdout).toContain(`href="/alerts/${alert.alertId}"`);
  });

  it('takes a screenshot of the alert page', async () => {
    const out = process.env.LOCKSTEP_UPDATE_SCREENSHOT === '1' ? SCREENSHOT : path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-shot-')), 'evidence-page.png');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const run = await chromium([`--screenshot=${out}`, '--window-size=1280,1800', '--hide-scrollbars'], `${server.url}/alerts/${alert.alertId}`);
    expect(consoleProblems(run.stderr)).toEqual([]);
    const png = fs.readFileSync(out);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR: width and height of the viewport
    expect(png.readUInt32BE(16)).toBe(1280);
    expect(png.readUInt32BE(20)).toBe(1800);
    // a blank or error page compresses to a few KiB; the charts do not
    expect(png.length).toBeGreaterThan(60_000);
  });
});
