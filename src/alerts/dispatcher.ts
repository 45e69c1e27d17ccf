import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/metrics';
import type { Alert } from './alert';
import { linkTypeOfFleet } from '../detect/alert-book';

/** One destination of alert messages (the alert topic, Alertmanager, ...). */
export interface AlertSink {
  readonly name: string;
  deliver(alert: Alert): Promise<void>;
}

export interface DispatcherOptions {
  queueSize: number;
  maxAttempts: number;
  retryBaseMs: number;
}

/** A message waiting in one sink's queue, and what to call once that sink is done with it. */
interface Queued {
  alert: Alert;
  settle: () => void;
}

/** Waits `ms`; injected so tests of retries do not sleep. */
export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms).unref());

/**
 * Delivers alert messages to each sink from its own bounded queue, with retries and exponential
 * backoff, so that a slow or failing sink never stalls ingestion or the other sinks. What does not
 * fit or exhausts its retries is dropped and counted.
 */
export class AlertDispatcher {
  private readonly queues = new Map<string, Queued[]>();
  private readonly busy = new Set<string>();
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly sinks: AlertSink[],
    private readonly opts: DispatcherOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly sleep: Sleep = realSleep,
  ) {
    for (const s of sinks) {
      this.queues.set(s.name, []);
      // every sink's series exists from the start, so rate() and increase() see the first drop
      metrics.alertSinkDroppedTotal.inc({ sink: s.name }, 0);
      metrics.alertSinkRetriesTotal.inc({ sink: s.name }, 0);
      metrics.alertSinkDeliveredTotal.inc({ sink: s.name }, 0);
      metrics.alertSinkQueueDepth.set({ sink: s.name }, 0);
    }
  }

  /**
   * Never blocks and never throws. `only` names one sink (re-sending firing alerts to Alertmanager).
   * The promise resolves once every sink is done with the message (delivered, or dropped for good):
   * the detector keeps it in its checkpoint's outbox until then.
   */
  dispatch(alert: Alert, only?: string): Promise<void> {
    const done: Promise<void>[] = [];
    for (const s of this.sinks) {
      if (only !== undefined && s.name !== only) continue;
      const q = this.queues.get(s.name) as Queued[];
      if (q.length >= this.opts.queueSize) {
        this.metrics.alertSinkDroppedTotal.inc({ sink: s.name });
        this.log.error({ sink: s.name, alertId: alert.alertId }, 'alert sink queue full; alert dropped');
        continue;
      }
      done.push(new Promise<void>((settle) => q.push({ alert, settle })));
      this.metrics.alertSinkQueueDepth.set({ sink: s.name }, q.length);
      if (!this.busy.has(s.name)) void this.drain(s);
    }
    return Promise.all(done).then(() => undefined);
  }

  private async drain(sink: AlertSink): Promise<void> {
    this.busy.add(sink.name);
    const q = this.queues.get(sink.name) as Queued[];
    while (q.length > 0) {
      const { alert, settle } = q[0];
      for (let attempt = 1; ; attempt++) {
        try {
          await sink.deliver(alert);
          this.metrics.alertSinkDeliveredTotal.inc({ sink: sink.name });
          break;
        } catch (err) {
          if (attempt >= this.opts.maxAttempts) {
            this.metrics.alertSinkDroppedTotal.inc({ sink: sink.name });
            this.log.error({ err, sink: sink.name, alertId: alert.alertId, attempts: attempt }, 'alert delivery failed; dropped');
            break;
          }
          this.metrics.alertSinkRetriesTotal.inc({ sink: sink.name });
          this.log.warn({ err: (err as Error).message, sink: sink.name, alertId: alert.alertId, attempt }, 'alert delivery failed; retrying');
          await this.sleep(Math.min(this.opts.retryBaseMs * 2 ** (attempt - 1), 30_000));
        }
      }
      q.shift();
      settle();
      this.metrics.alertSinkQueueDepth.set({ sink: sink.name }, q.length);
    }
    this.busy.delete(sink.name);
    if (this.busy.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when every queue is empty (graceful shutdown, tests). */
  idle(): Promise<void> {
    if (this.busy.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }
}

/** Alertmanager API v2 payload for one alert message. */
export function alertmanagerPayload(a: Alert, opts: { runbookUrl: string; now: number; resendMs: number }): unknown[] {
  const summary = `${a.severity} distillation fleet: ${a.accountCount} accounts via ${a.link.type} ${a.link.value}`;
  const labels: Record<string, string> = {
    alertname: 'DistillationFleet',
    severity: a.severity,
    fleet: a.fleetId,
    // the link type that opened the episode: a stable label, so one alert stays one Alertmanager alert
    link_type: linkTypeOfFleet(a.fleetId) ?? a.link.type,
    // the episode: a fleet that resolves and fires again is a new page, and the first one's
    // resolution must not be overridden by the second's firing (same labels = same Alertmanager alert)
    alert_id: a.alertId,
    service: 'lockstep',
  };
  const annotations: Record<string, string> = {
    summary,
    description: `${a.evidence.reason}. Score ${a.score}; targeted: ${a.targetedCapabilities.join(', ') || 'none'}; links: ${a.links.map((l) => `${l.type}=${l.value}`).join(', ')}. alertId ${a.alertId}.`,
    runbook_url: opts.runbookUrl,
    alert_id: a.alertId,
  };
  if (a.url) annotations.evidence_url = a.url;
  const firing = a.status === 'firing';
  return [
    {
      labels,
      annotations,
      // producers' clocks (or the demo's simulated time) may run ahead: Alertmanager refuses a start after the end
      startsAt: new Date(Math.min(a.windowStart, opts.now)).toISOString(),
      // a firing alert is re-sent before this passes; a resolved one ends now
      endsAt: new Date(firing ? opts.now + opts.resendMs * 4 : opts.now).toISOString(),
      ...(a.url ? { generatorURL: a.url } : {}),
    },
  ];
}

/** POSTs to Alertmanager's /api/v2/alerts. */
export class AlertmanagerSink implements AlertSink {
  readonly name = 'alertmanager';
  constructor(
    private readonly baseUrl: string,
    private readonly runbookUrl: string,
    private readonly clock: Clock,
    private readonly resendMs: number,
    private readonly timeoutMs = 5000,
  ) {}

  async deliver(alert: Alert): Promise<void> {
    const res = await fetch(`${this.baseUrl.replace(/\/$/, '')}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alertmanagerPayload(alert, { runbookUrl: this.runbookUrl, now: this.clock.now(), resendMs: this.resendMs })),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`alertmanager answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  }
}

/** Writes alert messages as pino lines: on-call's last resort, and the embedded demo's output. */
export class LogSink implements AlertSink {
  readonly name = 'log';
  constructor(private readonly log: Logger) {}
  async deliver(a: Alert): Promise<void> {
    const fields = { alertId: a.alertId, fleetId: a.fleetId, severity: a.severity, score: a.score, accountCount: a.accountCount, link: a.link, links: a.links, targetedCapabilities: a.targetedCapabilities, reason: a.evidence.reason, url: a.url };
    if (a.status === 'firing') this.log.warn(fields, `distillation fleet ${a.status}: ${a.evidence.reason}`);
    else this.log.info(fields, `distillation fleet resolved: ${a.alertId}`);
  }
}
