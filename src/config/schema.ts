import { ATTRIBUTE_LINK_TYPES, LINK_TYPES, type LinkType } from '../events/request-event';

/**
 * Link types an honest account seldom changes more than a few times an hour, and their smaller share
 * of values: accounts that rotate them on every request meet on "(rotating)" within their first burst
 * (docs/resilience.md has what it finds and what it costs).
 */
const SMALL_VALUE_SHARES: Partial<Record<LinkType, number>> = { ip_prefix: 8, asn: 8, user_agent: 8 };

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
        heartbeatIntervalMs: { type: 'integer', minimum: 100, default: 3000, description: 'at most two thirds of sessionTimeoutMs (checked at start-up); a batch waiting for its store heartbeats four times per interval' },
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
        flushMaxEvents: { type: 'integer', minimum: 1, default: 10000, description: 'flush to the store (and commit) after this many events; a flush\'s transient memory grows with it (docs/performance.md)' },
        flushIntervalMs: { type: 'integer', minimum: 1, default: 500, description: '... or after this long' },
        idlePartitionMs: { type: 'integer', minimum: 0, default: 10000, description: 'the overall watermark waits this long (wall clock) for an assigned partition that has shown no event yet, then leaves it out' },
        linkTypes: {
          type: 'array', uniqueItems: true, default: [...LINK_TYPES],
          items: { enum: [...LINK_TYPES] },
        },
        valueCap: {
          type: 'object', additionalProperties: false, default: {},
          description: 'bounds the keys one account adds: each distinct link value is a key in every scale\'s bucket (docs/performance.md)',
          properties: {
            maxValues: { type: 'integer', minimum: 1, default: 32, description: 'distinct values of one attribute link type (ip_prefix, asn, payment, prompt_template, user_agent, org) an account adds per bucket of the longest scale; later new ones count under the value "(rotating)"' },
            maxValuesByType: {
              type: 'object', additionalProperties: false, default: {},
              description: 'maxValues for one link type (ip_prefix, asn and user_agent default to 8, the others to maxValues): lower, accounts that rotate the value on every request meet on "(rotating)" sooner, but so do more honest ones (docs/resilience.md)',
              properties: Object.fromEntries(
                ATTRIBUTE_LINK_TYPES.map((t) => [
                  t,
                  SMALL_VALUE_SHARES[t] === undefined
                    ? { type: 'integer', minimum: 1, description: `maxValues for ${t} values (default: maxValues)` }
                    : { type: 'integer', minimum: 1, default: SMALL_VALUE_SHARES[t], description: `maxValues for ${t} values: an honest account seldom changes one more than a few times an hour` },
                ]),
              ),
            },
            maxAccounts: { type: 'integer', minimum: 1, default: 500000, description: 'accounts whose values are tracked per process: those active in the current period, at most this many (oldest evicted; an evicted account may add its share again)' },
          },
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
        accountScales: {
          type: 'array', uniqueItems: true, items: { type: 'string' },
          description: 'the scales at which each account\'s own request counts are kept, read only by GET /v1/keys/account/… (the detector never reads them); default: every scale. ["1h"] saves ~6% of Redis CPU per event, [] ~8% (docs/performance.md)',
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
        partitionStallMs: { type: 'integer', minimum: 0, default: 60000, description: 'the detector judges event time only up to the slowest input partition (all instances\'), leaving out one whose watermark has not moved for this long (wall clock): above kafka.sessionTimeoutMs, so that a dead member\'s partitions are waited for until their new owner reads them, and a quiet partition stops the detector no longer than this; 0: judge by this instance\'s partitions only, each holding it back until it moves' },
        leaseTtlMs: { type: 'integer', minimum: 1000, default: 15000, description: 'wall time after which another instance takes over evaluation from one that died; the holder renews at a third of it' },
        holdEvaluations: { type: 'integer', minimum: 1, default: 2, description: 'evaluations the score must hold before an alert fires' },
        quietPeriodMs: { type: 'integer', minimum: 0, default: 1800000, description: 'event time below threshold before an alert resolves' },
        growthToReemit: { type: 'number', minimum: 0, default: 0.25, description: 'membership growth (fraction) that re-emits a firing alert' },
        mergeOverlap: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'membership overlap (Jaccard) above which alerts merge into one' },
        agedFleetFactor: { type: 'number', minimum: 0, maximum: 1, default: 0.6, description: 'score multiplier for a fleet with no young accounts (linear up to 1 for all young); campaigns open fresh accounts, customers\' service accounts are old' },
        coreCorrelation: { type: 'number', minimum: -1, maximum: 1, default: 0.5, description: 'a member belongs to a synchronized fleet when its activity correlates this well with the fleet profile' },
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
        runbookUrl: { type: 'string', default: 'https://github.com/lockstep-dev/lockstep/blob/main/README.md#runbook-distillationfleet' },
        grafanaUrl: { type: 'string', default: '' },
        queueSize: { type: 'integer', minimum: 1, default: 1000 },
        maxAttempts: { type: 'integer', minimum: 1, default: 8 },
        retryBaseMs: { type: 'integer', minimum: 1, default: 200 },
        maxAccountsListed: { type: 'integer', minimum: 1, default: 1000 },
        keepResolved: { type: 'integer', minimum: 0, default: 200 },
      },
    },
    enforcement: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: { type: 'boolean', default: false, description: 'false = dry run: decisions are computed, logged, audited and published with dryRun true, and never enforced' },
        severities: { type: 'array', uniqueItems: true, minItems: 1, items: { enum: ['warning', 'critical'] }, default: ['critical'], description: 'alert severities that limit their accounts' },
        minScore: { type: 'number', minimum: 0, maximum: 1, default: 0.8, description: 'alerts scoring below this never limit' },
        linkTypes: {
          type: 'array', uniqueItems: true, default: [...LINK_TYPES],
          items: { enum: [...LINK_TYPES] },
          description: 'primary link types of alerts that limit',
        },
        limitRpm: { type: 'integer', minimum: 1, default: 60, description: 'requests per minute allowed to a limited account (first level)' },
        capabilitiesOnly: { type: 'boolean', default: false, description: "limit only the alert's targeted capabilities, not the whole account" },
        ttlMs: { type: 'integer', minimum: 1000, default: 3600000, description: 'every limit expires this long after it was set or last extended' },
        escalation: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            afterMs: { type: 'integer', minimum: 1000, default: 900000, description: 'a fleet still firing this long after its last level escalates one level' },
            factor: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.5, description: 'limitRpm is multiplied by this per level' },
            minRpm: { type: 'integer', minimum: 1, default: 1, description: 'escalation never goes below this' },
            maxLevel: { type: 'integer', minimum: 0, default: 3, description: '0 = never escalate' },
          },
        },
        allowlist: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            orgs: { type: 'array', items: { type: 'string' }, default: [], description: 'never limited (org resolved through the orgOf lookup)' },
            accounts: { type: 'array', items: { type: 'string' }, default: [], description: 'never limited' },
          },
        },
        caps: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            perAlert: { type: 'integer', minimum: 0, default: 500, description: 'accounts one alert may limit; past it: no more limits, a page instead' },
            perHour: { type: 'integer', minimum: 0, default: 2000, description: 'new limits in any sliding hour, over all alerts' },
          },
        },
        accountHeader: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$', default: 'x-account-id', description: 'request header the check endpoint reads the account from' },
        capabilityHeader: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$', default: 'x-capability', description: 'request header naming the capability (for capability-scoped limits)' },
        denyStatus: { type: 'integer', minimum: 400, maximum: 599, default: 429, description: 'status of a denied check: 429 for Envoy ext_authz; 403 for nginx auth_request (map it to 429 with error_page)' },
        failOpen: { type: 'boolean', default: true, description: 'allow requests when the limit store cannot be reached (else answer 503)' },
        cacheRefreshMs: { type: 'integer', minimum: 50, default: 1000, description: 'how often the in-process copy of limited accounts is checked against Redis' },
        sweepIntervalMs: { type: 'integer', minimum: 100, default: 10000, description: 'how often limits are extended/escalated for firing alerts and released when expired' },
        auditMaxLen: { type: 'integer', minimum: 100, default: 100000, description: 'audit entries kept (approximately) in the Redis stream' },
        alertStateTtlMs: { type: 'integer', minimum: 60000, default: 604800000, description: 'how long per-alert state (accounts limited, manual releases) is kept after its last change' },
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
