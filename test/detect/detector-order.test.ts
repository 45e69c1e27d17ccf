import { replayScenario } from '../http/pages/fixtures';
import type { WindowStore } from '../../src/windows/store';

/** The store as it is, but listing candidates in reverse: a Redis set's SMEMBERS order is arbitrary. */
function reversedCandidates(inner: WindowStore): WindowStore {
  return {
    kind: inner.kind,
    apply: (flush) => inner.apply(flush),
    readPartition: (field) => inner.readPartition(field),
    readWatermarks: () => inner.readWatermarks(),
    readBuckets: (keys, scale, from, to) => inner.readBuckets(keys, scale, from, to),
    readCandidates: async (scale, starts) => (await inner.readCandidates(scale, starts)).reverse(),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

describe('detector: the order a store lists candidates in', () => {
  it('changes no alert message (which key leads an alert, which alertId a fleet gets)', async () => {
    const asListed = await replayScenario('small', 42);
    const reversed = await replayScenario('small', 42, {}, reversedCandidates);
    expect(asListed.messages.length).toBeGreaterThan(0);
    expect(reversed.messages).toEqual(asListed.messages);
  }, 120_000);
});
