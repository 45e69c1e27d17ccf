/**
 * Every setting, listed once, with its default and meaning. config/default.json may override any
 * of them, a file named by LOCKSTEP_CONFIG overrides that, and the environment (see env.ts)
 * overrides both. Validation names the field that is wrong.
 */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    kafka: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        brokers: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'bootstrap brokers; empty = embedded mode (simulator, no Kafka)' },
        clientId: { type: 'string', minLength: 1, default: 'lockstep' },
        groupId: { type: 'string', minLength: 1, default: 'lockstep' },
        fromBeginning: { type: 'boolean', default: false },
        inputTopic: { type: 'string', minLength: 1, default: 'llm.requests' },
        dlqTopic: { type: 'string', minLength: 1, default: 'llm.requests.dlq' },
        alertTopic: { type: 'string', minLength: 1, default: 'distill.alerts' },
        enforcementTopic: { type: 'string', minLength: 1, default: 'distill.enforcement' },
        ssl: { type: 'boolean', default: false },
        sasl: {
          type: 'object', additionalProperties: false,
          required: ['mechanism', 'username', 'password'],
          properties: {
            mechanism: { enum: ['plain', 'scram-sha-256', 'scram-sha-512'] },
            username: { type: 'string' },
            password: { type: 'string' },
          },
        },
        sessionTimeoutMs: { type: 'integer', minimum: 1000, default: 30000 },
        heartbeatIntervalMs: { type: 'integer', minimum: 100, default: 3000 },
        maxWaitTimeInMs: { type: 'integer', minimum: 10, default: 500 },
        maxBytesPerPartition: { type: 'integer', minimum: 1024, default: 4194304 },
        partitionsConsumedConcurrently: { type: 'integer', minimum: 1, default: 1 },
        connectionTimeoutMs: { type: 'integer', minimum: 100, default: 3000 },
      },
    },
    redis: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        url: { type: 'string', default: '', description: 'redis://[:password@]host:port/db or rediss:// for TLS; empty (and no clusterNodes) = embedded in-memory store' },
        clusterNodes: { type: 'array', items: { type: 'string', pattern: '^[^:]+:[0-9]+$' }, default: [], description: 'host:port of Redis Cluster seed nodes; set instead of url' },
        password: { type: 'string', default: '' },
        tls: { type: 'boolean', default: false },
        keyPrefix: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,32}$', default: 'ls' },
        shards: { type: 'integer', minimum: 1, maximum: 16384, default: 16, description: 'hash-tag shards: one atomic Lua write per shard per flush' },
        commandTimeoutMs: { type: 'integer', minimum: 10, default: 5000 },
      },
    },
    ingest: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        maxMessageBytes: { type: 'integer', minimum: 64, default: 65536, description: 'messages larger than this are dead-lettered unparsed' },
        allowedLatenessMs: { type: 'integer', minimum: 0, default: 300000, description: 'events older than the partition watermark minus this are counted late and left out' },
        maxFutureMs: { type: 'integer', minimum: 0, default: 300000, description: 'events further than this ahead of the clock are dead-lettered' },
        flushMaxEvents: { type: 'integer', minimum: 1, default: 50000, description: 'flush to the store (and commit) after this many events' },
        flushIntervalMs: { type: 'integer', minimum: 1, default: 500, description: '... or after this long' },
        linkTypes: {
          type: 'array', uniqueItems: true, default: ['ip_prefix', 'asn', 'payment', 'prompt_template', 'user_agent', 'org', 'behavior'],
          items: { enum: ['ip_prefix', 'asn', 'payment', 'prompt_template', 'user_agent', 'org', 'behavior'] },
        },
      },
    },
    windows: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        scales: {
          type: 'array', minItems: 1, default: [
            { name: '1m', bucketMs: 60000, buckets: 60 },
            { name: '1h', bucketMs: 3600000, buckets: 24 },
          ],
          items: {
            type: 'object', additionalProperties: false, required: ['name', 'bucketMs', 'buckets'],
            properties: {
              name: { type: 'string', pattern: '^[A-Za-z0-9]{1,8}$' },
              bucketMs: { type: 'integer', minimum: 1000 },
              buckets: { type: 'integer', minimum: 1, maximum: 1440 },
            },
          },
        },
        maxMembersPerBucket: { type: 'integer', minimum: 1, default: 5000, description: 'distinct accounts kept per key and bucket; more are counted in overflow' },
        youngAccountAgeMs: { type: 'integer', minimum: 0, default: 604800000, description: 'an account created less than this before the event is young' },
        topAccounts: { type: 'integer', minimum: 1, default: 10 },
      },
    },
    detector: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        highValueCapabilities: { type: 'array', items: { type: 'string' }, default: ['coding', 'agentic'] },
        minFleetSize: { type: 'integer', minimum: 2, default: 8 },
        evaluationIntervalMs: { type: 'integer', minimum: 1000, default: 60000, description: 'event time between evaluations' },
        holdEvaluations: { type: 'integer', minimum: 1, default: 2, description: 'evaluations the score must hold before an alert fires' },
        quietPeriodMs: { type: 'integer', minimum: 0, default: 1800000, description: 'event time below threshold before an alert resolves' },
        growthToReemit: { type: 'number', minimum: 0, default: 0.25, description: 'membership growth (fraction) that re-emits a firing alert' },
        mergeOverlap: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'membership overlap (of the smaller fleet) above which alerts merge' },
        thresholds: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            warning: { type: 'number', minimum: 0, maximum: 1, default: 0.6 },
            critical: { type: 'number', minimum: 0, maximum: 1, default: 0.8 },
          },
        },
        allowlist: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            orgs: { type: 'array', items: { type: 'string' }, default: [], description: 'never alerted' },
            accounts: { type: 'array', items: { type: 'string' }, default: [] },
            warningOnlyOrgs: { type: 'array', items: { type: 'string' }, default: [], description: 'never above warning' },
            warningOnlyAccounts: { type: 'array', items: { type: 'string' }, default: [] },
          },
        },
        behavior: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            tokenBucketMs: { type: 'integer', minimum: 1000, default: 300000 },
            windowMs: { type: 'integer', minimum: 60000, default: 3600000 },
            signatureSize: { type: 'integer', minimum: 2, maximum: 256, default: 16 },
            bands: { type: 'integer', minimum: 1, default: 4 },
            minTokens: { type: 'integer', minimum: 1, default: 4 },
            maxAccounts: { type: 'integer', minimum: 1, default: 500000, description: 'accounts whose signature is tracked per process (oldest evicted)' },
          },
        },
      },
    },
    alerts: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        alertmanagerUrl: { type: 'string', default: '' },
        publicUrl: { type: 'string', default: '', description: 'base URL of this service as on-call reaches it; alerts link to their evidence page' },
        runbookUrl: { type: 'string', default: 'https://github.com/lockstep-dev/lockstep/blob/main/README.md#runbook' },
        grafanaUrl: { type: 'string', default: '' },
        queueSize: { type: 'integer', minimum: 1, default: 1000 },
        maxAttempts: { type: 'integer', minimum: 1, default: 8 },
        retryBaseMs: { type: 'integer', minimum: 1, default: 200 },
        maxAccountsListed: { type: 'integer', minimum: 1, default: 1000 },
        keepResolved: { type: 'integer', minimum: 0, default: 200 },
      },
    },
    enforcement: {
      type: 'object', additionalProperties: true, default: {},
      properties: {
        enabled: { type: 'boolean', default: false, description: 'false = dry run: decisions are published with dryRun true and not enforced' },
      },
    },
    http: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
        host: { type: 'string', default: '0.0.0.0' },
        adminToken: { type: 'string', default: '' },
        maxBodyBytes: { type: 'integer', minimum: 0, default: 65536 },
      },
    },
    sim: {
      type: 'object', additionalProperties: true, default: {},
      properties: {
        speedup: { type: 'number', exclusiveMinimum: 0, default: 60, description: 'embedded demo: simulated seconds per wall-clock second' },
        seed: { type: 'integer', default: 42 },
      },
    },
    log: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
      },
    },
  },
} as const;
