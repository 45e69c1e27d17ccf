import type { AlertMessage } from '../../src/eval/metrics';
import type { Labels } from '../../src/sim/labels';

const DAY = 86400000;
const account = (label: 'benign' | 'campaign' | 'confounder', group: string) => ({ label, group });

/** Two simulated days; campaigns A, B (kind sync) and C (slow); a campus NAT and a surge. */
export const labels: Labels = {
  scenario: 'hand-made',
  seed: 1,
  start: 0,
  end: 2 * DAY,
  accounts: {
    a1: account('campaign', 'A'), a2: account('campaign', 'A'), a3: account('campaign', 'A'), a4: account('campaign', 'A'),
    b1: account('campaign', 'B'), b2: account('campaign', 'B'),
    c1: account('campaign', 'C'), c2: account('campaign', 'C'), c3: account('campaign', 'C'), c4: account('campaign', 'C'),
    u1: account('confounder', 'campus'), u2: account('confounder', 'campus'), u3: account('confounder', 'campus'),
    n1: account('benign', 'benign'), n2: account('benign', 'benign'), n3: account('benign', 'benign'),
    n4: account('benign', 'benign'), n5: account('benign', 'benign'),
  },
  campaigns: [
    { id: 'A', kind: 'sync', start: 1_000_000, end: DAY, accounts: 4 },
    { id: 'B', kind: 'sync', start: 2_000_000, end: DAY, accounts: 2 },
    { id: 'C', kind: 'slow', start: 0, end: 2 * DAY, accounts: 4 },
  ],
  confounders: [
    { id: 'campus', kind: 'university_nat', accounts: 3 },
    { id: 'surge', kind: 'viral_surge', accounts: 0, start: 50_000_000, end: 60_000_000 },
  ],
};

const msg = (alertId: string, status: 'firing' | 'resolved', detectedAt: number, accounts: string[]): AlertMessage => ({ alertId, status, detectedAt, accounts });

export const alerts: AlertMessage[] = [
  msg('X', 'firing', 1_300_000, ['a1', 'a2']),
  msg('X', 'firing', 1_600_000, ['a1', 'a2', 'a3', 'n1']),
  msg('Y', 'firing', 2_500_000, ['b1', 'u1']),
  msg('X', 'resolved', 2_000_000, ['a1', 'a2', 'a3', 'n1', 'n2']), // resolved messages add nobody
  msg('Z', 'firing', 3_000_000, ['u1', 'u2', 'u3', 'n3']),
  msg('V', 'firing', 4_000_000, ['c1']),
  msg('R', 'resolved', 5_000_000, ['a4']), // never fired: not an alert
  msg('W', 'firing', 55_000_000, ['n4', 'n5', 'zz']), // zz: not in the labels
];
