import type { ApplyResult, Flush, WindowStore } from '../../src/windows/store';

/** A window store that hands every call to `inner` except those the test gives its own answer to. */
export function storeWith(inner: WindowStore, own: Partial<Omit<WindowStore, 'kind'>>): WindowStore {
  return {
    kind: inner.kind,
    apply: own.apply ?? ((flush) => inner.apply(flush)),
    readPartition: own.readPartition ?? ((field) => inner.readPartition(field)),
    readWatermarks: own.readWatermarks ?? (() => inner.readWatermarks()),
    readBuckets: own.readBuckets ?? ((keys, scale, from, to) => inner.readBuckets(keys, scale, from, to)),
    readMemberFieldsPeak: own.readMemberFieldsPeak ?? ((keys, scale, from, to) => inner.readMemberFieldsPeak(keys, scale, from, to)),
    readCandidates: own.readCandidates ?? ((scale, starts) => inner.readCandidates(scale, starts)),
    ping: own.ping ?? (() => inner.ping()),
    close: own.close ?? (() => inner.close()),
  };
}

/** A store whose `apply` the test decides: one that answers late, loses writes, or lets only some shards' scripts arrive. */
export function storeWithApply(inner: WindowStore, apply: (flush: Flush) => Promise<ApplyResult>): WindowStore {
  return storeWith(inner, { apply });
}
