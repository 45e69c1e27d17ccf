import type { Alert } from '../../alerts/alert';
import { num, pct, pValue } from './format';
import { ROTATING_VALUE } from '../../ingest/value-cap';

export type Strength = 'strong' | 'moderate' | 'weak';

/** One signal of the score in plain words, for someone deciding at 3 a.m. */
export interface SignalReason {
  signal: 'burst' | 'synchrony' | 'targeting' | 'size' | 'linkRarity';
  title: string;
  strength: Strength;
  score: number;
  /** plain text (escaped where rendered) */
  sentence: string;
}

/** Signal scores at or above 0.3 are the ones the detector's reason line names as carrying the score. */
export function strengthOf(score: number): Strength {
  return score >= 0.6 ? 'strong' : score >= 0.3 ? 'moderate' : 'weak';
}

const LINK_NOUN: Record<string, string> = {
  ip_prefix: 'network prefix',
  asn: 'network (ASN)',
  payment: 'payment method',
  prompt_template: 'prompt template',
  user_agent: 'user agent',
  org: 'organisation',
  behavior: 'behaviour signature',
};

export function linkNoun(type: string): string {
  return LINK_NOUN[type] ?? type;
}

/** One sentence per signal, strongest first; weak signals are kept and said to be weak. */
export function explainSignals(alert: Alert, highValueCapabilities: readonly string[]): SignalReason[] {
  const e = alert.evidence;
  const b = e.burst;
  const burstSentence =
    b.expected > 0
      ? `The fleet sent ${num(b.observed)} requests in the latest buckets where its own baseline expected about ${num(b.expected, 1)} ` +
        `(chance of that much under the baseline: ${pValue(b.pValue)}); against how the whole population moved, that is ${num(b.populationRatio)}× its usual share.`
      : `The link had no traffic before the latest buckets: it appeared with ${num(b.observed)} requests out of nowhere ` +
        `(chance under the minimum baseline: ${pValue(b.pValue)}; ${num(b.populationRatio)}× its share of the population).`;
  const behaviour = alert.link.type === 'behavior' ? ' Behaviour links are new every window, so the detector does not weigh burst for them.' : '';

  const s = e.synchrony;
  const synchronySentence =
    s.sampledMembers === 0
      ? 'Synchrony was not measured: the fleet was active in too few buckets, or could not reach warning even with perfect synchrony.'
      : strengthOf(s.score) === 'weak'
        ? `Members act independently of each other (chi ${num(s.chi, 3)}, mean pairwise correlation ${num(s.meanPairwiseCorrelation, 3)} over ${num(s.sampledMembers)} sampled members) — what a shared NAT, office or campus looks like.`
        : `Members start and stop together: chi ${num(s.chi, 3)} (1 = perfect lockstep, ≈ 0 = independent) and mean pairwise correlation ${num(s.meanPairwiseCorrelation, 3)} over ${num(s.sampledMembers)} sampled members; see the vertical bands in the heatmap.` +
          (s.arrivedTogether
            ? ` The link is too new for each member's own correlation to mean much yet: the ${num(s.arrivedTogether)} members named are the accounts that came onto it together in its first minutes, where nobody was before.`
            : '');

  const t = e.targeting;
  const leans = alert.targetedCapabilities.length > 0 ? ` It leans towards ${alert.targetedCapabilities.join(', ')}.` : '';
  const targetingSentence =
    `${pct(t.highValueShare)} of the fleet's requests are on high-value capabilities (${highValueCapabilities.join(', ')}), against ${pct(t.populationHighValueShare)} for the whole population; ` +
    `its capability mix diverges from the population's by ${num(t.jsDivergence, 3)} (Jensen–Shannon, 0 = same mix, 1 = disjoint).${leans}`;

  const z = e.size;
  const freshness =
    z.youngAccounts === 0
      ? 'None of them is a young account: established accounts are more likely a customer’s own, and the score was discounted for it.'
      : z.youngShare >= 0.5
        ? `${num(z.youngAccounts)} of them (${pct(z.youngShare)}) were created recently — campaigns open fresh accounts.`
        : `${num(z.youngAccounts)} of them (${pct(z.youngShare)}) were created recently; most are established accounts, and the score was partly discounted for it.`;
  const sizeSentence = `${num(z.accounts)} accounts made ${num(z.requests)} requests in the window. ${freshness}`;

  const rarity = e.linkRarity;
  const noun = linkNoun(alert.link.type);
  const raritySentence =
    alert.link.value === ROTATING_VALUE
      ? `These accounts each used more distinct ${noun}s in an hour than lockstep keeps per account (ingest.valueCap); the rest count under "(rotating)", which unrelated accounts that rotate share too, so the link is weighed like a common one (rarity ${num(rarity, 3)}).`
      : rarity >= 0.999
      ? `A ${noun} is not something unrelated customers share by chance, so the link counts in full.`
      : `Many unrelated accounts can share a ${noun}; this one is ${rarity >= 0.6 ? 'still rare enough' : 'common'} (rarity ${num(rarity, 3)}, 1 = only this fleet uses it), and the score was weighed by it.`;

  const reasons: SignalReason[] = [
    { signal: 'burst', title: 'Burst', score: b.score, strength: strengthOf(b.score), sentence: burstSentence + behaviour },
    { signal: 'synchrony', title: 'Synchrony', score: s.score, strength: strengthOf(s.score), sentence: synchronySentence },
    { signal: 'targeting', title: 'Capability targeting', score: t.score, strength: strengthOf(t.score), sentence: targetingSentence },
    { signal: 'size', title: 'Size and freshness', score: z.score, strength: strengthOf(z.score), sentence: sizeSentence },
    { signal: 'linkRarity', title: 'Link rarity', score: rarity, strength: strengthOf(rarity), sentence: raritySentence },
  ];
  return reasons.sort((x, y) => y.score - x.score);
}
