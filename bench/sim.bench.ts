/**
 * Simulator throughput. Build, then run:
 *   npm run build && node dist/bench/sim.bench.js [scenario-name-or-file] [seed]
 * Prints events/s for generation alone and for generation + NDJSON serialisation.
 */
import { generateEvents } from '../src/sim/generate';
import { loadScenario } from '../src/sim/scenario';

function measure(label: string, run: () => number): void {
  const t0 = process.hrtime.bigint();
  const n = run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`${label}: ${n} events in ${seconds.toFixed(2)} s = ${Math.round(n / seconds)} events/s\n`);
}

const scenario = loadScenario(process.argv[2] ?? 'sync-shared-ip');
const seed = Number(process.argv[3] ?? 42);
measure(`generate ${scenario.name}`, () => {
  let n = 0;
  for (const _event of generateEvents(scenario, seed)) n++;
  return n;
});
measure(`generate + JSON.stringify ${scenario.name}`, () => {
  let n = 0;
  let bytes = 0;
  for (const event of generateEvents(scenario, seed)) {
    bytes += JSON.stringify(event).length + 1;
    n++;
  }
  process.stdout.write(`  ${(bytes / 1e6).toFixed(1)} MB of NDJSON\n`);
  return n;
});
