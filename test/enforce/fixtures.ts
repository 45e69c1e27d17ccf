import pino from 'pino';
import type { Alert } from '../../src/alerts/alert';
import type { AlertSource } from '../../src/alerts/source';
import { defaultConfig, type Config } from '../../src/config/config';
import { EnforcementPublisher } from '../../src/enforce/publisher';
import type { EnforcementMessage } from '../../src/enforce/limit';
import type { Logger } from '../../src/log';

/** A critical, firing alert over `accounts`; any field can be overridden. */
export function makeAlert(accounts: string[], over: Partial<Alert> = {}): Alert {
  return {
    alertId: 'alert-1',
    status: 'firing',
    fleetId: 'fleet-1',
    link: { type: 'ip_prefix', value: '203.0.113.0/24' },
    links: [{ type: 'ip_prefix', value: '203.0.113.0/24' }],
    accountCount: accounts.length,
    accounts,
    targetedCapabilities: ['coding'],
    capabilityShare: { coding: 0.9, chat: 0.1 },
    score: 0.93,
    severity: 'critical',
    windowStart: 0,
    windowEnd: 60_000,
    detectedAt: 60_000,
    evidence: {
      scale: '1m',
      burst: { score: 0.9, observed: 500, expected: 20, pValue: 1e-9, populationRatio: 8 },
      synchrony: { score: 0.9, chi: 0.8, meanPairwiseCorrelation: 0.7, sampledMembers: accounts.length },
      targeting: { score: 0.9, jsDivergence: 0.4, highValueShare: 0.9, populationHighValueShare: 0.3 },
      size: { score: 0.9, accounts: accounts.length, youngAccounts: accounts.length, youngShare: 1, requests: 500 },
      linkRarity: 0.9,
      reason: 'synchronized burst on coding',
    },
    ...over,
  };
}

export function accounts(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
}

/** The detector's side as the enforcement sees it: alerts are emitted by hand. */
export class FakeAlertSource implements AlertSource {
  private readonly alerts = new Map<string, Alert>();
  private readonly listeners: Array<(a: Alert) => void> = [];

  list(): Alert[] {
    return [...this.alerts.values()];
  }

  get(alertId: string): Alert | undefined {
    return this.alerts.get(alertId);
  }

  onAlert(listener: (a: Alert) => void): void {
    this.listeners.push(listener);
  }

  emit(alert: Alert): void {
    this.alerts.set(alert.alertId, alert);
    for (const l of this.listeners) l(alert);
  }
}

/** Keeps what would be sent to the enforcement topic. */
export class CapturingPublisher extends EnforcementPublisher {
  readonly sent: EnforcementMessage[] = [];

  constructor() {
    super(null, 'distill.enforcement', silentLog());
  }

  override async publish(messages: EnforcementMessage[]): Promise<void> {
    this.sent.push(...messages);
  }
}

export function silentLog(): Logger {
  return pino({ level: 'silent' });
}

/** A logger whose entries the test can read. */
export function recordingLog(): { log: Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => entries.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, entries };
}

export function enforcementConfig(enforcement: Record<string, unknown> = {}, rest: Record<string, unknown> = {}): Config {
  return defaultConfig({ enforcement, ...rest });
}
