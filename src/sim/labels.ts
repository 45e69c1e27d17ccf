/** Ground truth the simulator writes beside its events; `lockstep eval` scores alerts against it. */
export type AccountLabel = 'benign' | 'campaign' | 'confounder';

export interface Labels {
  scenario: string;
  seed: number;
  /** event-time range simulated, epoch ms */
  start: number;
  end: number;
  /** group: the campaign or confounder id, or "benign" */
  accounts: Record<string, { label: AccountLabel; group: string }>;
  campaigns: { id: string; kind: string; start: number; end: number; accounts: number }[];
  /** start/end only for confounders that are a period (viral_surge) */
  confounders: { id: string; kind: string; accounts: number; start?: number; end?: number }[];
}
