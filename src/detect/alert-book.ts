import type { Config } from '../config/config';
import { LINK_TYPES, type LinkType } from '../events/request-event';
import type { Alert, Link, Severity } from '../alerts/alert';
import { fnv1a } from '../windows/keys';
import { commonlyShared, type FleetAssessment } from './assess';

/** Per linking key: how many evaluations in a row it scored at or above warning. */
interface FleetState {
  above: number;
  alertId: string | null;
}

/** One alert episode: one campaign, possibly seen through several linking keys (merged). */
interface AlertGroup {
  alertId: string;
  fleetId: string;
  firstAt: number;
  lastAboveAt: number;
  /** linking key ref -> its latest assessment at or above warning, and when that was */
  fleets: Map<string, FleetAssessment>;
  fleetAt: Map<string, number>;
  emittedAccounts: number;
  /** every account named by this episode's messages so far: a fleet that swaps its accounts (churn) is re-emitted with the new ones */
  named: Set<string>;
  emittedSeverity: Severity;
  /** the alert as last rendered; null only between a group's creation and its first render */
  last: Alert | null;
}

export interface AlertBookState {
  fleets: [string, FleetState][];
  groups: { alertId: string; fleetId: string; firstAt: number; lastAboveAt: number; emittedAccounts: number; named: string[]; emittedSeverity: Severity; last: Alert | null }[];
  resolved: Alert[];
  /** null once through JSON when no evaluation ran (-Infinity) */
  lastEvaluatedAt: number | null;
}

const SEVERITY_RANK: Record<Severity, number> = { warning: 1, critical: 2 };

export function fleetIdOf(link: Link): string {
  return `fl_${link.type}_${fnv1a(link.type, link.value).toString(16).padStart(8, '0')}`;
}

/** The link type a fleet id was made from (fleetIdOf), or null for an id of another form. */
export function linkTypeOfFleet(fleetId: string): LinkType | null {
  const m = /^fl_([a-z_]+)_[0-9a-f]{8}$/.exec(fleetId);
  return m && (LINK_TYPES as readonly string[]).includes(m[1]) ? (m[1] as LinkType) : null;
}

/** everyone on a commonly shared value, not a synchronized core: may hold bystanders */
function isLoose(f: FleetAssessment): boolean {
  return !f.core && commonlyShared(f.link);
}

function refOf(link: Link): string {
  return `${link.type}:${link.value}`;
}

/**
 * The alert lifecycle, in event time: a fleet fires after holding its score for holdEvaluations
 * evaluations; one alertId per episode; fleets whose memberships overlap heavily join one alert
 * (every link listed); re-emitted with the same alertId when membership grows materially or
 * severity rises; resolved after quietPeriodMs below threshold. No flapping: a resolved episode
 * needs a fresh hold to fire again.
 */
export class AlertBook {
  private readonly fleets = new Map<string, FleetState>();
  private readonly groups = new Map<string, AlertGroup>();
  private resolved: Alert[] = [];
  /** event time of the last update(); an evaluation at or before it is a repeat */
  lastEvaluatedAt = -Infinity;

  constructor(
    private readonly cfg: Config['detector'],
    private readonly alertsCfg: Config['alerts'],
    private readonly warningOnly: (members: ReadonlyMap<string, number>, link: Link) => boolean,
  ) {}

  /** Takes one evaluation's assessments (every candidate key, at its best scale); returns the alert messages to emit. */
  update(at: number, assessments: FleetAssessment[]): Alert[] {
    this.lastEvaluatedAt = at;
    const out: Alert[] = [];
    const seen = new Set<string>();
    const touchedGroups = new Set<AlertGroup>();
    for (const a of [...assessments].sort((x, y) => y.score - x.score)) {
      const ref = refOf(a.link);
      seen.add(ref);
      let st = this.fleets.get(ref);
      if (!st) this.fleets.set(ref, (st = { above: 0, alertId: null }));
      if (a.severity === null) {
        st.above = 0;
        continue;
      }
      st.above++;
      if (st.above < this.cfg.holdEvaluations) continue;
      let group = st.alertId !== null ? this.groups.get(st.alertId) : undefined;
      group ??= this.overlapping(a);
      if (!group) {
        const fleetId = fleetIdOf(a.link);
        const alertId = `al_${fnv1a(fleetId, String(at)).toString(16).padStart(8, '0')}${(at % 0x10000).toString(16)}`;
        group = { alertId, fleetId, firstAt: at, lastAboveAt: at, fleets: new Map(), fleetAt: new Map(), emittedAccounts: 0, named: new Set(), emittedSeverity: 'warning', last: null };
        this.groups.set(alertId, group);
      }
      st.alertId = group.alertId;
      group.fleets.set(ref, a);
      group.fleetAt.set(ref, at);
      group.lastAboveAt = at;
      touchedGroups.add(group);
    }
    // keys that were not candidates this time lose their hold
    for (const [ref, st] of this.fleets) {
      if (!seen.has(ref)) {
        st.above = 0;
        if (st.alertId === null || !this.groups.has(st.alertId)) this.fleets.delete(ref);
      }
    }
    this.mergeGroups(touchedGroups, at, out);
    for (const g of touchedGroups) {
      // an episode is the fleets above threshold lately, not every key it ever touched
      for (const [ref, when] of g.fleetAt) {
        if (at - when < this.cfg.quietPeriodMs) continue;
        g.fleets.delete(ref);
        g.fleetAt.delete(ref);
        const st = this.fleets.get(ref);
        if (st?.alertId === g.alertId) st.alertId = null;
      }
      const alert = this.render(g, at);
      const isNew = g.emittedAccounts === 0;
      let unnamed = 0;
      for (const a of alert.accounts) if (!g.named.has(a)) unnamed++;
      const grew = unnamed > 0 && unnamed >= this.cfg.growthToReemit * g.emittedAccounts;
      const escalated = SEVERITY_RANK[alert.severity] > SEVERITY_RANK[g.emittedSeverity];
      g.last = alert;
      if (isNew || grew || escalated) {
        g.emittedAccounts = alert.accountCount;
        for (const a of alert.accounts) g.named.add(a);
        g.emittedSeverity = alert.severity;
        out.push(alert);
      }
    }
    for (const g of [...this.groups.values()]) {
      if (at - g.lastAboveAt < this.cfg.quietPeriodMs || g.last === null) continue;
      const done: Alert = { ...g.last, status: 'resolved', detectedAt: at };
      out.push(done);
      this.groups.delete(g.alertId);
      for (const ref of g.fleets.keys()) this.fleets.delete(ref);
      this.pushResolved(done);
    }
    return out;
  }

  /**
   * The firing group this fleet belongs to: most of the smaller of the two is in the other. When
   * the larger side is everyone on a commonly shared value (an ASN, a NAT, an SDK) rather than a
   * synchronized core, it must be at most twice the smaller, so that a fleet inside a large key
   * does not pull the key's bystanders into its alert, nor the key into the fleet's.
   */
  private overlapping(a: FleetAssessment, except?: AlertGroup): AlertGroup | undefined {
    let best: AlertGroup | undefined;
    let bestOverlap = 0;
    for (const g of this.groups.values()) {
      if (g === except) continue;
      const members = this.membersOf(g);
      if (members.size === 0) continue;
      const groupIsLoose = [...g.fleets.values()].some(isLoose);
      const [larger, smaller, largerIsLoose] = members.size >= a.members.size ? [members.size, a.members.size, groupIsLoose] : [a.members.size, members.size, isLoose(a)];
      if (largerIsLoose && larger > 2 * smaller) continue;
      let common = 0;
      for (const acct of a.members.keys()) if (members.has(acct)) common++;
      const overlap = common / Math.max(1, smaller);
      if (overlap >= this.cfg.mergeOverlap && overlap > bestOverlap) {
        best = g;
        bestOverlap = overlap;
      }
    }
    return best;
  }

  /**
   * Groups that have come to overlap (one campaign first seen through two keys in one evaluation)
   * become one: the older episode absorbs the newer, which is emitted as resolved, pointing at it.
   */
  private mergeGroups(touched: Set<AlertGroup>, at: number, out: Alert[]): void {
    for (const g of [...touched].sort((x, y) => x.firstAt - y.firstAt || (x.alertId < y.alertId ? -1 : 1))) {
      if (!this.groups.has(g.alertId)) continue;
      for (const f of g.fleets.values()) {
        const other = this.overlapping(f, g);
        if (!other || !this.groups.has(other.alertId)) continue;
        const [keep, drop] = other.firstAt < g.firstAt || (other.firstAt === g.firstAt && other.alertId < g.alertId) ? [other, g] : [g, other];
        for (const [ref, fa] of drop.fleets) {
          keep.fleets.set(ref, fa);
          keep.fleetAt.set(ref, drop.fleetAt.get(ref) ?? at);
          const st = this.fleets.get(ref);
          if (st) st.alertId = keep.alertId;
        }
        keep.lastAboveAt = Math.max(keep.lastAboveAt, drop.lastAboveAt);
        this.groups.delete(drop.alertId);
        touched.delete(drop);
        touched.add(keep);
        if (drop.emittedAccounts > 0 && drop.last !== null) {
          const done: Alert = { ...drop.last, status: 'resolved', detectedAt: at, evidence: { ...drop.last.evidence, reason: `merged into ${keep.alertId}: ${drop.last.evidence.reason}` } };
          out.push(done);
          this.pushResolved(done);
        }
        if (drop === g) break;
      }
    }
  }

  private pushResolved(a: Alert): void {
    this.resolved.unshift(a);
    this.resolved.length = Math.min(this.resolved.length, this.alertsCfg.keepResolved);
  }

  /**
   * An episode's members. Behaviour bands are the fuzzier evidence (steady heavy users can share a
   * band with a fleet): once an attribute link (IP, payment, template, ...) holds the fleet, bands
   * add their links to the alert but not their members.
   */
  private membersOf(g: AlertGroup): Map<string, number> {
    const m = new Map<string, number>();
    const attributeLinked = [...g.fleets.values()].some((f) => f.link.type !== 'behavior');
    for (const f of g.fleets.values()) {
      if (attributeLinked && f.link.type === 'behavior') continue;
      for (const [acct, n] of f.members) m.set(acct, Math.max(m.get(acct) ?? 0, n));
    }
    return m;
  }

  private render(g: AlertGroup, at: number): Alert {
    const fleets = [...g.fleets.values()].sort((x, y) => y.score - x.score);
    const primary = fleets[0];
    const members = this.membersOf(g);
    let severity: Severity = 'warning';
    for (const f of fleets) if (f.severity === 'critical') severity = 'critical';
    if (severity === 'critical' && this.warningOnly(members, primary.link)) severity = 'warning';
    const accounts = [...members.entries()]
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .slice(0, this.alertsCfg.maxAccountsListed)
      .map(([acct]) => acct);
    return {
      alertId: g.alertId,
      status: 'firing',
      fleetId: g.fleetId,
      link: primary.link,
      links: fleets.map((f) => f.link),
      accountCount: members.size,
      accounts,
      targetedCapabilities: primary.targetedCapabilities,
      capabilityShare: primary.capabilityShare,
      score: primary.score,
      severity,
      windowStart: Math.min(...fleets.map((f) => f.windowStart)),
      windowEnd: Math.max(...fleets.map((f) => f.windowEnd)),
      detectedAt: at,
      evidence: primary.evidence,
      ...(this.alertsCfg.publicUrl ? { url: `${this.alertsCfg.publicUrl.replace(/\/$/, '')}/alerts/${g.alertId}` } : {}),
    };
  }

  firing(): Alert[] {
    return [...this.groups.values()]
      .map((g) => g.last)
      .filter((a): a is Alert => a !== null)
      .sort((a, b) => b.detectedAt - a.detectedAt);
  }

  recentlyResolved(): Alert[] {
    return this.resolved;
  }

  /** Serializable state, so that another instance can take over evaluation without losing episodes. */
  toState(): AlertBookState {
    return {
      fleets: [...this.fleets.entries()],
      groups: [...this.groups.values()].map((g) => ({ alertId: g.alertId, fleetId: g.fleetId, firstAt: g.firstAt, lastAboveAt: g.lastAboveAt, emittedAccounts: g.emittedAccounts, named: [...g.named], emittedSeverity: g.emittedSeverity, last: g.last })),
      resolved: this.resolved,
      lastEvaluatedAt: this.lastEvaluatedAt,
    };
  }

  loadState(s: AlertBookState): void {
    this.fleets.clear();
    this.groups.clear();
    for (const [ref, st] of s.fleets) this.fleets.set(ref, st);
    for (const g of s.groups) this.groups.set(g.alertId, { ...g, named: new Set(g.named ?? []), fleets: new Map(), fleetAt: new Map() });
    this.resolved = s.resolved;
    this.lastEvaluatedAt = s.lastEvaluatedAt ?? -Infinity;
  }
}
