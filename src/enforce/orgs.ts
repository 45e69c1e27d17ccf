/** Looks up the org of an account; undefined = unknown. */
export type OrgLookup = (accountId: string) => string | undefined | Promise<string | undefined>;

/**
 * The account -> org lookup behind the org allowlist. Alerts name accounts, not orgs: orgs are
 * remembered here (by whoever sees them, e.g. the window store) or asked of an optional lookup, and
 * answers are kept (the oldest dropped past `maxEntries`). An account whose org is unknown is judged
 * by the account allowlist alone.
 */
export class AccountOrgs {
  private readonly known = new Map<string, string | undefined>();

  constructor(
    private readonly lookup: OrgLookup | undefined,
    private readonly maxEntries = 100_000,
  ) {}

  remember(accountId: string, org: string): void {
    this.known.delete(accountId);
    this.known.set(accountId, org);
    if (this.known.size > this.maxEntries) this.known.delete(this.known.keys().next().value as string);
  }

  async orgOf(accountId: string): Promise<string | undefined> {
    if (this.known.has(accountId)) return this.known.get(accountId);
    if (this.lookup === undefined) return undefined;
    const org = await this.lookup(accountId);
    if (org !== undefined) this.remember(accountId, org);
    return org;
  }
}
