import type { Alert } from './alert';

/**
 * What the detector offers the parts downstream of it (sinks, enforcement, HTTP, evidence pages):
 * the alerts it holds and a stream of alert messages as they are emitted (firing, re-emitted on
 * growth, resolved).
 */
export interface AlertSource {
  /** firing alerts and recently resolved ones, newest first */
  list(): Alert[];
  get(alertId: string): Alert | undefined;
  /** called synchronously for each emitted alert message; listeners must not throw or block */
  onAlert(listener: (alert: Alert) => void): void;
}
