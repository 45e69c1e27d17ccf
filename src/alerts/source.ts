import type { Alert } from './alert';

/** Takes one alert message; a promise, when returned, settles once the listener is done with it (see onAlert). */
export type AlertListener = (alert: Alert) => void | Promise<unknown>;

/**
 * What the detector offers the parts downstream of it (sinks, enforcement, HTTP, evidence pages):
 * the alerts it holds and a stream of alert messages as they are emitted (firing, re-emitted on
 * growth, resolved).
 */
export interface AlertSource {
  /** firing alerts and recently resolved ones, newest first */
  list(): Alert[];
  get(alertId: string): Alert | undefined;
  /**
   * Called synchronously for each emitted alert message; listeners must not throw or block. A
   * listener that delivers the message somewhere returns a promise settled once it is done (or
   * gave up): the detector keeps the message in its checkpoint until every such promise settled,
   * and a lease holder that takes over sends again what its predecessor had not finished.
   */
  onAlert(listener: AlertListener): void;
}
