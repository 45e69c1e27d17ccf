import { Rng, cumulativeOf } from './rng';

/**
 * The simulated Internet and product: networks, client libraries, capability habits, models and
 * token sizes. Benign accounts and "rotated" fleet attributes both draw from here, so a fleet that
 * rotates an attribute looks like ordinary traffic on it.
 */

export interface Network {
  asn: number;
  /** first two octets of the /16 blocks this network announces */
  blocks: readonly (readonly [number, number])[];
}

/** Residential / mobile ISPs: where most people are. Many blocks: few unrelated accounts share a /24. */
export const RESIDENTIAL: readonly Network[] = [
  { asn: 7922, blocks: [[24, 0], [24, 1], [67, 160], [73, 10], [98, 200], [76, 100]] },
  { asn: 701, blocks: [[71, 100], [71, 101], [108, 20], [173, 60]] },
  { asn: 7018, blocks: [[99, 10], [99, 11], [107, 200], [76, 250]] },
  { asn: 3320, blocks: [[79, 200], [84, 150], [87, 160], [91, 40]] },
  { asn: 3215, blocks: [[86, 200], [90, 10], [92, 150]] },
  { asn: 2856, blocks: [[81, 150], [86, 140], [109, 150]] },
  { asn: 4134, blocks: [[113, 100], [116, 20], [183, 10], [58, 40]] },
  { asn: 4766, blocks: [[121, 130], [175, 200], [211, 230]] },
  { asn: 9829, blocks: [[117, 200], [59, 90], [61, 1]] },
  { asn: 28573, blocks: [[177, 40], [179, 100], [189, 60]] },
  { asn: 17676, blocks: [[126, 10], [126, 200], [219, 100]] },
  { asn: 12389, blocks: [[95, 24], [178, 70], [188, 120]] },
];
export const RESIDENTIAL_WEIGHTS = cumulativeOf([18, 10, 9, 8, 6, 5, 10, 5, 8, 5, 6, 4]);

/** Cloud providers: servers and notebooks. Fewer blocks, so unrelated servers share /24s more often. */
export const CLOUD: readonly Network[] = [
  { asn: 16509, blocks: [[3, 80], [18, 200], [52, 14], [54, 160]] },
  { asn: 15169, blocks: [[34, 120], [35, 200]] },
  { asn: 8075, blocks: [[20, 40], [40, 80], [52, 160]] },
  { asn: 14061, blocks: [[159, 65], [167, 99]] },
  { asn: 24940, blocks: [[95, 216], [116, 202]] },
  { asn: 16276, blocks: [[51, 38], [141, 94]] },
];
export const CLOUD_WEIGHTS = cumulativeOf([35, 20, 18, 10, 10, 7]);

/** A campus network behind NAT: one ASN, one /24. */
export const UNIVERSITY: Network = { asn: 2152, blocks: [[130, 212]] };
/** Proxy / VPN provider used by fleets that rotate IPs but not the network. */
export const PROXY: Network = { asn: 9009, blocks: [[185, 107], [185, 153], [193, 27], [194, 110], [146, 70], [89, 187]] };

export function ipIn(net: Network, rng: Rng): string {
  const [a, b] = net.blocks[rng.int(net.blocks.length)];
  return `${a}.${b}.${rng.int(256)}.${1 + rng.int(254)}`;
}

/** Another host in the same /24 as `ip`. */
export function ipInPrefix(ip: string, rng: Rng): string {
  return ip.slice(0, ip.lastIndexOf('.') + 1) + String(1 + rng.int(254));
}

export function residentialNetwork(rng: Rng): Network {
  return RESIDENTIAL[rng.pickCumulative(RESIDENTIAL_WEIGHTS)];
}

export function cloudNetwork(rng: Rng): Network {
  return CLOUD[rng.pickCumulative(CLOUD_WEIGHTS)];
}

/** Popular client libraries, heavily skewed, as API traffic really is. */
const POPULAR_UAS = [
  'openai-python/1.54.3', 'anthropic-sdk-python/0.39.0', 'openai-node/4.71.1', 'openai-python/1.51.0',
  'anthropic-sdk-typescript/0.32.1', 'python-requests/2.32.3', 'langchain-python/0.3.7', 'litellm/1.52.6',
  'curl/8.5.0', 'axios/1.7.7', 'Go-http-client/2.0', 'okhttp/4.12.0', 'openai-python/1.35.13', 'node-fetch/1.0',
  'anthropic-sdk-go/0.2.0', 'Java-http-client/17.0.9', 'llama-index/0.12.1', 'vercel-ai-sdk/4.0.3',
];
const POPULAR_UA_WEIGHTS = cumulativeOf(POPULAR_UAS.map((_, i) => 1 / Math.pow(i + 1, 1.1)));
/** share of accounts with an in-house or rare client string */
const LONG_TAIL_UA_SHARE = 0.12;

export function benignUserAgent(rng: Rng): string {
  if (rng.chance(LONG_TAIL_UA_SHARE)) {
    return `${['app', 'svc', 'bot', 'tool', 'client'][rng.int(5)]}-${rng.u32().toString(36)}/${rng.int(5)}.${rng.int(20)}`;
  }
  return POPULAR_UAS[rng.pickCumulative(POPULAR_UA_WEIGHTS)];
}

/** A browser string with randomized versions, as a client spoofing a new one per request sends. */
export function spoofedBrowserUserAgent(rng: Rng): string {
  return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${110 + rng.int(20)}.0.${rng.int(7000)}.${rng.int(200)} Safari/537.36`;
}

export const CAPABILITIES = ['coding', 'agentic', 'chat', 'reasoning', 'math', 'creative', 'translation', 'other'] as const;

/** Habits of legitimate users: many developers mostly code; most people mostly chat. */
const PROFILES: readonly { share: number; weights: readonly number[] }[] = [
  //                 coding agentic chat reasoning math creative translation other
  { share: 0.32, weights: [0.62, 0.10, 0.12, 0.06, 0.03, 0.02, 0.02, 0.03] }, // developers
  { share: 0.08, weights: [0.30, 0.45, 0.10, 0.06, 0.02, 0.02, 0.02, 0.03] }, // agent builders
  { share: 0.40, weights: [0.08, 0.03, 0.48, 0.12, 0.06, 0.10, 0.08, 0.05] }, // general assistants
  { share: 0.12, weights: [0.03, 0.02, 0.30, 0.05, 0.02, 0.38, 0.15, 0.05] }, // content
  { share: 0.08, weights: [0.05, 0.02, 0.25, 0.05, 0.03, 0.05, 0.50, 0.05] }, // translation pipelines
];
const PROFILE_SHARES = cumulativeOf(PROFILES.map((p) => p.share));

/** One account's capability weights: a profile, perturbed so no two accounts are identical. */
export function benignCapabilityWeights(rng: Rng, tilt?: readonly number[]): number[] {
  const base = tilt ?? PROFILES[rng.pickCumulative(PROFILE_SHARES)].weights;
  return base.map((w) => w * rng.logNormal(1, 0.5));
}

/** Capability weights of a fleet spec, in CAPABILITIES order plus any extra names. */
export function capabilityTable(mix: Record<string, number>): { names: string[]; cumulative: Float64Array } {
  const names = Object.keys(mix).sort();
  return { names, cumulative: cumulativeOf(names.map((n) => mix[n])) };
}

export const MODELS = ['atlas-large-2', 'atlas-medium-2', 'atlas-small-2', 'atlas-large-1'] as const;
const MODEL_WEIGHTS = cumulativeOf([0.35, 0.4, 0.2, 0.05]);

export function benignModel(rng: Rng): string {
  return MODELS[rng.pickCumulative(MODEL_WEIGHTS)];
}

/** median [input, output] tokens per capability */
const TOKEN_MEDIANS: Record<string, readonly [number, number]> = {
  coding: [2400, 650], agentic: [6000, 400], chat: [450, 300], reasoning: [900, 1100], math: [350, 800],
  creative: [300, 900], translation: [700, 750], other: [400, 250],
};
const DEFAULT_TOKENS: readonly [number, number] = [500, 400];

export function tokenMedians(capability: string): readonly [number, number] {
  return TOKEN_MEDIANS[capability] ?? DEFAULT_TOKENS;
}

export const DAY_MS = 86400000;
export const HOUR_MS = 3600000;
