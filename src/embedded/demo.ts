import type { Config } from '../config/config';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import { durationMs, loadScenario } from '../sim/scenario';
import { pacedEvents } from '../sim/paced';
import type { LocalFeed } from '../ingest/local-feed';

export const DEMO_SCENARIO = 'demo';

/**
 * The embedded default: the simulator's demo scenario, live, paced to the wall clock at
 * sim.speedup, fed through the same pipeline and detector as the service. It starts at the current
 * time and runs again (next seed, next stretch of time) whenever it ends, until stopped.
 */
export function startDemo(feed: LocalFeed, config: Config, clock: Clock, log: Logger): { stop(): Promise<void> } {
  let stopped = false;
  const done = (async () => {
    const base = loadScenario(DEMO_SCENARIO);
    const length = durationMs(base.duration);
    let start = clock.now() - (clock.now() % 60_000);
    for (let round = 0; !stopped; round++) {
      const scenario = { ...base, start };
      log.info({ scenario: base.name, seed: config.sim.seed + round, speedup: config.sim.speedup, start: new Date(start).toISOString() }, 'embedded demo: simulated traffic with distillation campaigns (no KAFKA_BROKERS set)');
      for await (const batch of pacedEvents(scenario, config.sim.seed + round, { speedup: config.sim.speedup, clock, stopped: () => stopped })) {
        if (stopped) break;
        for (const e of batch) await feed.push(Buffer.from(JSON.stringify(e)));
      }
      start += length;
    }
    await feed.end();
  })().catch((err: unknown) => log.error({ err }, 'embedded demo failed'));
  return {
    async stop() {
      stopped = true;
      await done;
    },
  };
}
