import { explainSignals } from '../../../src/http/pages/reasons';
import { ROTATING_VALUE } from '../../../src/ingest/value-cap';
import { accounts, makeAlert } from '../../enforce/fixtures';

const HIGH_VALUE = ['coding', 'agentic'];
const rarityOf = (link: { type: 'payment' | 'user_agent'; value: string }, linkRarity: number): string => {
  const alert = makeAlert(accounts('a', 20), { link, links: [link] });
  alert.evidence = { ...alert.evidence, linkRarity };
  return explainSignals(alert, HIGH_VALUE).find((r) => r.signal === 'linkRarity')?.sentence ?? '';
};

describe('explainSignals: link rarity', () => {
  it('says a rare value of a type unrelated customers do not share counts in full', () => {
    expect(rarityOf({ type: 'payment', value: 'pm_1' }, 1)).toBe('A payment method is not something unrelated customers share by chance, so the link counts in full.');
  });

  it('says what "(rotating)" is, whatever its type and rarity: accounts past their share of values, related or not', () => {
    for (const [link, rarity] of [[{ type: 'payment' as const, value: ROTATING_VALUE }, 1], [{ type: 'user_agent' as const, value: ROTATING_VALUE }, 0.4]] as const) {
      const sentence = rarityOf(link, rarity);
      expect(sentence).toContain('used more distinct');
      expect(sentence).toContain('ingest.valueCap');
      expect(sentence).toContain('unrelated accounts that rotate share too');
      expect(sentence).not.toContain('counts in full');
    }
  });
});

describe('explainSignals: synchrony', () => {
  const synchronyOf = (arrivedTogether?: number): string => {
    const link = { type: 'ip_prefix' as const, value: '34.120.56.0/24' };
    const alert = makeAlert(accounts('a', 20), { link, links: [link] });
    alert.evidence = { ...alert.evidence, synchrony: { score: 0.5, chi: 0.53, meanPairwiseCorrelation: 0.2, sampledMembers: 20, ...(arrivedTogether ? { arrivedTogether } : {}) } };
    return explainSignals(alert, HIGH_VALUE).find((r) => r.signal === 'synchrony')?.sentence ?? '';
  };

  it('says when the members named are the accounts that came onto a new link together', () => {
    expect(synchronyOf(20)).toContain('the 20 members named are the accounts that came onto it together in its first minutes');
    expect(synchronyOf()).not.toContain('came onto it together');
  });
});
