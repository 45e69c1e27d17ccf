import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Metrics } from '../../src/metrics/metrics';
import {
  ALERTMANAGER_FILE, CHART_DIR, REPO_ROOT, RULES_FILE, RULES_TEST_FILE, RUNBOOK_BASE,
  githubAnchor, metricNamesIn, readYamlFile, run, runOk, toolOnPath,
} from './tools';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertCase {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[];
}

const rulesDoc = readYamlFile(RULES_FILE);
const rules = (rulesDoc.groups as Array<{ name: string; rules: Rule[] }>).flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');
const testsDoc = readYamlFile(RULES_TEST_FILE);
const alertCases = (testsDoc.tests as Array<{ alert_rule_test?: AlertCase[] }>).flatMap((t) => t.alert_rule_test ?? []);

describe('Prometheus rules (deploy/prometheus/lockstep-rules.yml)', () => {
  test('promtool check rules accepts every rule', () => {
    const out = runOk(toolOnPath('promtool'), ['check', 'rules', RULES_FILE]);
    expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  test('promtool unit tests pass', () => {
    const r = run(toolOnPath('promtool'), ['test', 'rules', RULES_TEST_FILE]);
    expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  test('the unit tests catch a broken rule (alerts that ignore their `for:` duration)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-rules-'));
    try {
      fs.writeFileSync(path.join(dir, 'lockstep-rules.yml'), fs.readFileSync(RULES_FILE, 'utf8').replace(/^\s+for: .*$/gm, ''));
      fs.copyFileSync(RULES_TEST_FILE, path.join(dir, 'lockstep-rules.test.yml'));
      const r = run(toolOnPath('promtool'), ['test', 'rules', path.join(dir, 'lockstep-rules.test.yml')]);
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toContain('FAILED');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('has the alerts on-call relies on', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      'LockstepAlertSinkDropping', 'LockstepConsumerLagGrowing', 'LockstepDeadLetterRateHigh', 'LockstepDistillationFleetCritical',
      'LockstepDistillationFleetWarning', 'LockstepDown', 'LockstepEnforcementCapReached', 'LockstepNotReady',
      'LockstepRedisErrors', 'LockstepTargetMissing', 'LockstepWatermarkLagHigh',
    ]);
  });

  test.each(alerts.map((a) => [a.alert, a] as const))('%s has a severity, summary, description and its runbook link', (name, a) => {
    expect(['warning', 'critical']).toContain(a.labels?.severity);
    expect(a.annotations?.summary).toMatch(/\S/);
    expect(a.annotations?.description).toMatch(/\{\{ \$(value|labels\.)/);
    expect(a.annotations?.runbook_url).toBe(RUNBOOK_BASE + name.toLowerCase());
  });

  test.each(alerts.map((a) => [a.alert] as const))('%s is unit-tested both firing and not firing', (name) => {
    const cases = alertCases.filter((c) => c.alertname === name);
    expect(cases.some((c) => (c.exp_alerts ?? []).length > 0)).toBe(true);
    expect(cases.some((c) => (c.exp_alerts ?? []).length === 0)).toBe(true);
  });

  test('every rule reads only metrics from src/metrics/metrics.ts, recording rules, or up', async () => {
    const known = new Set<string>(['up']);
    for (const m of await new Metrics().registry.getMetricsAsJSON()) {
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) known.add(m.name + s);
      else known.add(m.name);
    }
    for (const r of rules) if (r.record) known.add(r.record);
    for (const r of rules) {
      const names = metricNamesIn(r.expr);
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) expect({ rule: r.alert ?? r.record, metric: n, known: known.has(n) }).toEqual({ rule: r.alert ?? r.record, metric: n, known: true });
    }
  });

  test('the rules file is the one the Helm chart ships (one source of truth)', () => {
    expect(fs.realpathSync(RULES_FILE)).toBe(fs.realpathSync(path.join(CHART_DIR, 'files', 'lockstep-rules.yml')));
  });

  test('every runbook link has its section in README.md', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const anchors = new Set([...doc.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => githubAnchor(m[1])));
    for (const a of alerts) expect(anchors).toContain(`runbook-${a.alert.toLowerCase()}`);
  });
});

describe('Alertmanager example (deploy/prometheus/alertmanager.yml)', () => {
  test('amtool accepts the config', () => {
    expect(runOk(toolOnPath('amtool'), ['check-config', ALERTMANAGER_FILE])).toContain('SUCCESS');
  });

  test.each([
    ['critical', 'lockstep-page'],
    ['warning', 'lockstep-ticket'],
  ])('severity=%s routes to %s', (severity, receiver) => {
    const out = runOk(toolOnPath('amtool'), ['config', 'routes', 'test', `--config.file=${ALERTMANAGER_FILE}`, `--verify.receivers=${receiver}`, `severity=${severity}`, 'alertname=LockstepDown']);
    expect(out.trim()).toBe(receiver);
  });
});
