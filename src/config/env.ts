import { LockstepError } from '../errors';

type Parse = 'string' | 'list' | 'int' | 'number' | 'bool';

/** Environment variables and the setting each overrides. */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: string; parse: Parse }> = [
  { env: 'KAFKA_BROKERS', path: 'kafka.brokers', parse: 'list' },
  { env: 'KAFKA_CLIENT_ID', path: 'kafka.clientId', parse: 'string' },
  { env: 'KAFKA_GROUP_ID', path: 'kafka.groupId', parse: 'string' },
  { env: 'KAFKA_FROM_BEGINNING', path: 'kafka.fromBeginning', parse: 'bool' },
  { env: 'KAFKA_SSL', path: 'kafka.ssl', parse: 'bool' },
  { env: 'KAFKA_SASL_MECHANISM', path: 'kafka.sasl.mechanism', parse: 'string' },
  { env: 'KAFKA_SASL_USERNAME', path: 'kafka.sasl.username', parse: 'string' },
  { env: 'KAFKA_SASL_PASSWORD', path: 'kafka.sasl.password', parse: 'string' },
  { env: 'KAFKA_SESSION_TIMEOUT_MS', path: 'kafka.sessionTimeoutMs', parse: 'int' },
  { env: 'KAFKA_MAX_WAIT_MS', path: 'kafka.maxWaitTimeInMs', parse: 'int' },
  { env: 'INPUT_TOPIC', path: 'kafka.inputTopic', parse: 'string' },
  { env: 'DLQ_TOPIC', path: 'kafka.dlqTopic', parse: 'string' },
  { env: 'ALERT_TOPIC', path: 'kafka.alertTopic', parse: 'string' },
  { env: 'ENFORCEMENT_TOPIC', path: 'kafka.enforcementTopic', parse: 'string' },
  { env: 'REDIS_URL', path: 'redis.url', parse: 'string' },
  { env: 'REDIS_CLUSTER_NODES', path: 'redis.clusterNodes', parse: 'list' },
  { env: 'REDIS_PASSWORD', path: 'redis.password', parse: 'string' },
  { env: 'REDIS_TLS', path: 'redis.tls', parse: 'bool' },
  { env: 'REDIS_KEY_PREFIX', path: 'redis.keyPrefix', parse: 'string' },
  { env: 'LINK_TYPES', path: 'ingest.linkTypes', parse: 'list' },
  { env: 'FLUSH_MAX_EVENTS', path: 'ingest.flushMaxEvents', parse: 'int' },
  { env: 'FLUSH_INTERVAL_MS', path: 'ingest.flushIntervalMs', parse: 'int' },
  { env: 'ALERTMANAGER_URL', path: 'alerts.alertmanagerUrl', parse: 'string' },
  { env: 'PUBLIC_URL', path: 'alerts.publicUrl', parse: 'string' },
  { env: 'ENFORCEMENT_ENABLED', path: 'enforcement.enabled', parse: 'bool' },
  { env: 'ENFORCEMENT_DENY_STATUS', path: 'enforcement.denyStatus', parse: 'int' },
  { env: 'ENFORCEMENT_ACCOUNT_HEADER', path: 'enforcement.accountHeader', parse: 'string' },
  { env: 'RUNBOOK_URL', path: 'alerts.runbookUrl', parse: 'string' },
  { env: 'GRAFANA_URL', path: 'alerts.grafanaUrl', parse: 'string' },
  { env: 'HTTP_PORT', path: 'http.port', parse: 'int' },
  { env: 'HTTP_HOST', path: 'http.host', parse: 'string' },
  { env: 'ADMIN_TOKEN', path: 'http.adminToken', parse: 'string' },
  { env: 'SIM_SPEEDUP', path: 'sim.speedup', parse: 'number' },
  { env: 'LOG_LEVEL', path: 'log.level', parse: 'string' },
];

function parseValue(name: string, text: string, parse: Parse): unknown {
  switch (parse) {
    case 'string':
      return text;
    case 'list':
      return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'int': {
      if (!/^-?\d+$/.test(text.trim())) throw new LockstepError('CONFIG_INVALID', `invalid config: environment ${name}="${text}" is not an integer`, { field: name });
      return Number(text);
    }
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new LockstepError('CONFIG_INVALID', `invalid config: environment ${name}="${text}" is not a number`, { field: name });
      return n;
    }
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(t)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
      throw new LockstepError('CONFIG_INVALID', `invalid config: environment ${name}="${text}" is not a boolean`, { field: name });
    }
  }
}

export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const o of ENV_OVERRIDES) {
    const text = env[o.env];
    if (text === undefined) continue;
    const value = parseValue(o.env, text, o.parse);
    const parts = o.path.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) {
      if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
      node = node[p] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}
