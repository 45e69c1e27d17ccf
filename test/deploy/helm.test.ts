import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config';
import { loadDashboard } from './dashboard-queries';
import { CHART_DIR, KUBE_VERSION, Manifest, REPO_ROOT, RULES_FILE, helmBin, readYamlFile, renderChart, run, runOk } from './tools';

const ALL_ON = path.join(REPO_ROOT, 'test', 'deploy', 'values-all-on.yaml');
/** contents of the Secrets values-all-on.yaml names, as "secret/key" */
const SECRET_VALUES: Record<string, string> = {
  'lockstep-kafka/username': 'svc-lockstep', 'lockstep-kafka/password': 'kafka-secret',
  'lockstep-redis/password': 'redis-secret', 'lockstep-admin/admin-token': 'admin-secret',
};

interface Probe { httpGet: { path: string; port: string } }
interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }
interface Container {
  name: string;
  image: string;
  ports: Array<{ name: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom: Array<{ configMapRef: { name: string } }>;
  livenessProbe: Probe;
  readinessProbe: Probe;
  startupProbe: Probe;
  securityContext: Record<string, unknown> & { capabilities: { drop: string[] } };
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface Volume { name: string; configMap?: { name: string; items: Array<{ key: string; path: string }> }; emptyDir?: object; secret?: { secretName: string } }
interface PodSpec {
  securityContext: Record<string, unknown>;
  terminationGracePeriodSeconds: number;
  containers: Container[];
  volumes: Volume[];
}
interface DeploymentSpec { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }

function only(ms: Manifest[], kind: string, name?: string): Manifest {
  const found = ms.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}
const deploymentSpec = (ms: Manifest[]): DeploymentSpec => only(ms, 'Deployment').spec as DeploymentSpec;
const container = (ms: Manifest[]): Container => deploymentSpec(ms).template.spec.containers[0];
const configMapData = (ms: Manifest[], name: string): Record<string, string> => only(ms, 'ConfigMap', name).data as Record<string, string>;

/** What lockstep itself would load in the pod: the mounted config file plus the pod's environment. */
function configSeenByPod(ms: Manifest[], secretValues: Record<string, string>): ReturnType<typeof loadConfig> {
  const c = container(ms);
  const env: NodeJS.ProcessEnv = { ...configMapData(ms, c.envFrom[0].configMapRef.name) };
  for (const e of c.env ?? []) env[e.name] = e.value ?? secretValues[`${e.valueFrom?.secretKeyRef?.name}/${e.valueFrom?.secretKeyRef?.key}`];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-chartcfg-'));
  try {
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, configMapData(ms, 'rel-lockstep')['config.json']);
    return loadConfig({ ...env, LOCKSTEP_CONFIG: file });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const defaults = renderChart();
const allOn = renderChart(['-f', ALL_ON]);

describe('Helm chart helm/lockstep', () => {
  test.each([[[] as string[]], [['-f', ALL_ON]]])('helm lint --strict passes with %j', (args) => {
    expect(runOk(helmBin(), ['lint', '--strict', CHART_DIR, ...args])).toContain('0 chart(s) failed');
  });

  test('default values render the core objects and no optional ones', () => {
    expect(defaults.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      'ConfigMap/rel-lockstep', 'ConfigMap/rel-lockstep-env', 'Deployment/rel-lockstep', 'PodDisruptionBudget/rel-lockstep',
      'Service/rel-lockstep', 'ServiceAccount/rel-lockstep',
    ]);
    expect(deploymentSpec(defaults).replicas).toBe(2);
  });

  test('every flag on renders HPA, ServiceMonitor, PrometheusRule and the dashboard ConfigMap', () => {
    expect(allOn.map((m) => `${m.apiVersion} ${m.kind}`).sort()).toEqual([
      'apps/v1 Deployment', 'autoscaling/v2 HorizontalPodAutoscaler', 'monitoring.coreos.com/v1 PrometheusRule',
      'monitoring.coreos.com/v1 ServiceMonitor', 'policy/v1 PodDisruptionBudget', 'v1 ConfigMap', 'v1 ConfigMap', 'v1 ConfigMap',
      'v1 Service', 'v1 ServiceAccount',
    ]);
    // the HPA owns the replica count
    expect(deploymentSpec(allOn).replicas).toBeUndefined();
    expect((only(allOn, 'HorizontalPodAutoscaler').spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name).toBe('rel-lockstep');
  });

  test.each([['defaults', defaults], ['all on', allOn]])('%s: probes hit /healthz and /readyz on the http port lockstep listens on', (_, ms) => {
    const c = container(ms);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const port = c.ports.find((p) => p.name === 'http')?.containerPort;
    expect(port).toBe(configSeenByPod(ms, SECRET_VALUES).http.port);
  });

  test('runs as non-root 10001 with a read-only root filesystem, no capabilities, and a writable /tmp', () => {
    const pod = deploymentSpec(defaults).template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    const c = pod.containers[0];
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
    const tmp = c.volumeMounts.find((m) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits?.memory).toEqual(expect.any(String));
  });

  test('gives a terminating pod time to finish its flush', () => {
    expect(deploymentSpec(defaults).template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
  });

  test('LOCKSTEP_CONFIG names the config file mounted from the ConfigMap', () => {
    const pod = deploymentSpec(defaults).template.spec;
    const c = pod.containers[0];
    const configPath = configMapData(defaults, c.envFrom[0].configMapRef.name).LOCKSTEP_CONFIG;
    const mount = c.volumeMounts.find((m) => configPath.startsWith(`${m.mountPath}/`));
    const volume = pod.volumes.find((v) => v.name === mount?.name);
    expect(volume?.configMap?.name).toBe('rel-lockstep');
    expect(volume?.configMap?.items).toContainEqual({ key: 'config.json', path: path.posix.relative(mount?.mountPath ?? '', configPath) });
  });

  test('the rendered config and environment are accepted by lockstep and carry the chart values', () => {
    const cfg = configSeenByPod(allOn, SECRET_VALUES);
    expect(cfg.kafka.brokers).toEqual(['kafka-0.kafka:9093', 'kafka-1.kafka:9093']);
    expect(cfg.kafka.ssl).toBe(true);
    expect(cfg.kafka.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'svc-lockstep', password: 'kafka-secret' });
    expect(cfg.redis).toMatchObject({ clusterNodes: ['redis-0.redis:6379', 'redis-1.redis:6379', 'redis-2.redis:6379'], tls: true, password: 'redis-secret' });
    expect(cfg.http).toMatchObject({ port: 9090, adminToken: 'admin-secret' });
    expect(cfg.ingest.flushIntervalMs).toBe(250);
    expect(cfg.log.level).toBe('debug');
    // default values: valid too (embedded mode)
    expect(configSeenByPod(defaults, SECRET_VALUES).kafka.brokers).toEqual([]);
  });

  test('secrets reach the pod only as Secret references, never as values', () => {
    const env = container(allOn).env ?? [];
    const refs = Object.fromEntries(env.filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    expect(refs).toEqual({
      KAFKA_SASL_USERNAME: { name: 'lockstep-kafka', key: 'username' },
      KAFKA_SASL_PASSWORD: { name: 'lockstep-kafka', key: 'password' },
      REDIS_PASSWORD: { name: 'lockstep-redis', key: 'password' },
      ADMIN_TOKEN: { name: 'lockstep-admin', key: 'admin-token' },
    });
    const ca = env.find((e) => e.name === 'NODE_EXTRA_CA_CERTS')?.value ?? '';
    const pod = deploymentSpec(allOn).template.spec;
    const mount = pod.containers[0].volumeMounts.find((m) => ca.startsWith(`${m.mountPath}/`));
    expect(pod.volumes.find((v) => v.name === mount?.name)?.secret?.secretName).toBe('lockstep-ca');
    expect(container(defaults).env).toBeUndefined();
  });

  test('Service, PodDisruptionBudget and ServiceMonitor select the pods and the http port', () => {
    const podLabels = deploymentSpec(allOn).template.metadata.labels;
    const matches = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => podLabels[k] === v);
    const svc = only(allOn, 'Service');
    const svcSpec = svc.spec as { selector: Record<string, string>; ports: Array<{ name: string; targetPort: string }> };
    expect(matches(svcSpec.selector)).toBe(true);
    expect(svcSpec.ports[0].targetPort).toBe('http');
    expect(matches((only(allOn, 'PodDisruptionBudget').spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels)).toBe(true);
    const sm = only(allOn, 'ServiceMonitor');
    expect(sm.metadata.labels?.release).toBe('kube-prometheus-stack');
    const smSpec = sm.spec as { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string; relabelings: Array<{ targetLabel: string; replacement: string }> }> };
    expect(Object.entries(smSpec.selector.matchLabels).every(([k, v]) => svc.metadata.labels?.[k] === v)).toBe(true);
    expect(smSpec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
    // the alert rules select job="lockstep"
    const job = smSpec.endpoints[0].relabelings.find((r) => r.targetLabel === 'job')?.replacement;
    expect(job).toBe('lockstep');
    expect(fs.readFileSync(RULES_FILE, 'utf8')).toContain(`up{job="${job}"}`);
  });

  test('the PrometheusRule carries exactly the promtool-tested rule groups', () => {
    const rule = only(allOn, 'PrometheusRule');
    expect(rule.metadata.labels?.release).toBe('kube-prometheus-stack');
    expect((rule.spec as { groups: unknown }).groups).toEqual(readYamlFile(RULES_FILE).groups);
  });

  test('the dashboard ConfigMap carries the dashboard file for the Grafana sidecar', () => {
    const cm = only(allOn, 'ConfigMap', 'rel-lockstep-dashboard');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(cm.metadata.namespace).toBe('monitoring');
    expect(JSON.parse((cm.data as Record<string, string>)['lockstep-overview.json'])).toEqual(loadDashboard());
  });

  test('a config change rolls the pods', () => {
    const checksum = (ms: Manifest[]) => (deploymentSpec(ms).template as unknown as { metadata: { annotations: Record<string, string> } }).metadata.annotations['checksum/config'];
    expect(checksum(renderChart(['--set', 'config.log.level=warn']))).not.toBe(checksum(defaults));
  });

  test.each([
    ['a wrongly typed value', ['--set', 'replicaCount=two'], 'replicaCount'],
    ['a misspelt flag', ['--set', 'serviceMonitor.enable=true'], 'enable'],
    ['an unknown SASL mechanism', ['--set', 'secrets.kafkaSasl.mechanism=md5'], 'mechanism'],
  ])('values.schema.json rejects %s', (_, args, field) => {
    const r = run(helmBin(), ['template', 'rel', CHART_DIR, '--kube-version', KUBE_VERSION, ...args]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(field);
  });
});
