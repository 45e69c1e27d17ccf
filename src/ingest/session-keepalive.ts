/** Heartbeat requests per kafka.heartbeatIntervalMs while a batch waits (see whileHeartbeating). */
const ASKS_PER_INTERVAL = 4;

/**
 * Runs `work` (a batch) while keeping the consumer's group session alive: a batch may wait for the
 * timed flush ahead of it or for a store that hangs (one attempt can last the command timeout), and
 * without heartbeats meanwhile the group evicts a member whose store is down and every instance
 * churns through rebalances until the store is back.
 *
 * kafkajs sends a heartbeat only once `heartbeatInterval` has passed since the previous one
 * *returned*, and skips the call otherwise: a timer of exactly that period finds it not yet due on
 * every other tick (the previous answer took a few milliseconds), so heartbeats went out every two
 * intervals, and with a session of two intervals (6 s and the 3 s default) the group evicted a
 * member that waited out a Redis outage. Asking several times per interval keeps the gap within
 * 1.25 intervals plus a round trip; the calls kafkajs skips cost nothing.
 */
export async function whileHeartbeating(heartbeat: () => Promise<void>, intervalMs: number, work: () => Promise<void>): Promise<void> {
  const timer = setInterval(() => void heartbeat().catch(() => undefined), Math.max(1, Math.floor(intervalMs / ASKS_PER_INTERVAL)));
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
}
