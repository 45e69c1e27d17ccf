import { replayScenario } from '../http/pages/fixtures';
import { storeWith } from '../support/window-store';

describe('detector: the order a store lists candidates in', () => {
  it('changes no alert message (which key leads an alert, which alertId a fleet gets)', async () => {
    const asListed = await replayScenario('small', 42);
    // a Redis set's SMEMBERS has no order; here the memory store's, reversed
    const reversed = await replayScenario('small', 42, {}, (inner) => storeWith(inner, { readCandidates: async (scale, starts) => (await inner.readCandidates(scale, starts)).reverse() }));
    expect(asListed.messages.length).toBeGreaterThan(0);
    expect(reversed.messages).toEqual(asListed.messages);
  }, 120_000);
});
