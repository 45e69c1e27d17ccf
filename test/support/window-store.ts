import type { ApplyResult, Flush, WindowStore } from '../../src/windows/store';

/**
 * A window store that hands everything to `inner` except `apply`, which the test decides: a store
 * that answers late, loses writes, or lets only some shards' scripts arrive.
 */
export function storeWithApply(inner: WindowStore, apply: (flush: Flush) => Promise<ApplyResult>): WindowStore {
  return {
    kind: inner.kind,
    apply,
    readPartition: (field) => inner.readPartition(field),
    readWatermarks: () => inner.readWatermarks(),
    readBuckets: (keys, scale, from, to) => inner.readBuckets(keys, scale, from, to),
    readCandidates: (scale, starts) => inner.readCandidates(scale, starts),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}
