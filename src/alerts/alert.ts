import type { LinkType } from '../events/request-event';

/** One linking key: the attribute value that ties a fleet's accounts together. */
export interface Link {
  type: LinkType;
  value: string;
}

export type Severity = 'warning' | 'critical';
export type AlertStatus = 'firing' | 'resolved';

/** Evidence behind a score: each signal with the figures on-call needs to check it. */
export interface AlertEvidence {
  /** window scale that scored highest, e.g. "1m" or "1h" */
  scale: string;
  burst: {
    score: number;
    /** requests in the recent buckets: the key's, or its synchronized core's where that burst is the weaker */
    observed: number;
    /** what the same volume's own EWMA baseline expected */
    expected: number;
    /** upper-tail probability of `observed` under the baseline */
    pValue: number;
    /** the key's share of population volume now vs. its baseline share */
    populationRatio: number;
  };
  synchrony: {
    score: number;
    /** Golomb–Rinzel chi in [0,1]: 1 = members' per-bucket activity moves together */
    chi: number;
    /** mean pairwise Pearson correlation over a sample of members */
    meanPairwiseCorrelation: number;
    sampledMembers: number;
    /**
     * present when the members are the accounts that came onto a key too young for correlation in
     * its first minutes (a new /24, ASN or user agent): how many
     */
    arrivedTogether?: number;
  };
  targeting: {
    score: number;
    /** Jensen–Shannon divergence (base 2, in [0,1]) of the fleet's capability mix from the population's */
    jsDivergence: number;
    /** share of the fleet's requests on high-value capabilities */
    highValueShare: number;
    populationHighValueShare: number;
  };
  size: {
    score: number;
    accounts: number;
    youngAccounts: number;
    youngShare: number;
    requests: number;
  };
  /** how rare the link's value is: 1 = few unrelated accounts share it */
  linkRarity: number;
  /** one line a human can read: why this fired */
  reason: string;
}

/** The alert contract: value of a message on the alert topic (key = fleetId). */
export interface Alert {
  alertId: string;
  status: AlertStatus;
  fleetId: string;
  link: Link;
  links: Link[];
  accountCount: number;
  /** all members, or the top 1000 by volume */
  accounts: string[];
  targetedCapabilities: string[];
  capabilityShare: Record<string, number>;
  score: number;
  severity: Severity;
  /** event time, epoch ms */
  windowStart: number;
  windowEnd: number;
  detectedAt: number;
  evidence: AlertEvidence;
  /** link to the alert's evidence page, when config publicUrl is set */
  url?: string;
}
