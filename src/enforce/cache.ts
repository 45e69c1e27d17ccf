import type { Logger } from '../log';
import type { LimitRecord } from './limit';
import type { LimitStore } from './store';

/**
 * This process's copy of every limit, so that the gateway check answers an account without a limit
 * (nearly every request) from memory. It reloads from the store when the store's version moved;
 * this process's own changes apply at once, another instance's within one refresh interval.
 */
export class LimitCache {
  private limits = new Map<string, LimitRecord>();
  private loadedVersion: string | null = null;
  private failing = false;

  constructor(
    private readonly store: LimitStore,
    private readonly log: Logger,
    private readonly onChange: (limits: ReadonlyMap<string, LimitRecord>) => void,
  ) {}

  lookup(accountId: string): LimitRecord | undefined {
    return this.limits.get(accountId);
  }

  all(): IterableIterator<LimitRecord> {
    return this.limits.values();
  }

  put(record: LimitRecord): void {
    this.limits.set(record.accountId, record);
    this.onChange(this.limits);
  }

  remove(accountId: string): void {
    if (this.limits.delete(accountId)) this.onChange(this.limits);
  }

  /** reloads if the store changed; a failing store leaves the last copy in place */
  async refresh(): Promise<void> {
    try {
      const version = await this.store.version();
      if (version === this.loadedVersion) return;
      const records = await this.store.listActive();
      const next = new Map<string, LimitRecord>();
      for (const r of records) next.set(r.accountId, r);
      this.limits = next;
      this.loadedVersion = version;
      if (this.failing) this.log.info('limit store reachable again');
      this.failing = false;
      this.onChange(this.limits);
    } catch (err) {
      if (!this.failing) this.log.warn({ err }, 'cannot refresh limits from the store; serving the last copy');
      this.failing = true;
    }
  }
}
