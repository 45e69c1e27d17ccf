import type { RequestEvent } from '../events/request-event';
import { Rng, cumulativeOf } from './rng';
import { ipIn, residentialNetwork, spoofedBrowserUserAgent, tokenMedians } from './world';

/** Everything fixed about one simulated account; built once, read on every request. */
export interface SimAccount {
  id: string;
  orgId: string;
  createdTs: number;
  ip: string;
  /** second address (phone, VPN, another host) used for a minority of requests */
  altIp: string;
  asn: number;
  userAgent: string;
  paymentFingerprint?: string;
  /** the account's own prompt templates */
  templates: readonly string[];
  /** share of requests that use a popular, widely shared template instead (benign habit) */
  popularTemplateShare: number;
  capabilityNames: readonly string[];
  capabilityCumulative: Float64Array;
  model: string;
  /** median output tokens, when the account wants something other than its capability's norm */
  outputTokensMedian?: number;
  /** attributes drawn anew for every request (a fleet's "per_request" share) */
  perRequest?: PerRequestAttributes;
}

export interface PerRequestAttributes {
  /** an address (and its network) from a residential proxy pool */
  ip: boolean;
  /** a spoofed browser string */
  userAgent: boolean;
  /** a template hash made unique by per-request boilerplate */
  promptTemplate: boolean;
}

const ALT_IP_SHARE = 0.1;
/** Widely used system prompts: one template hash shared by thousands of unrelated accounts. */
const POPULAR_TEMPLATES = Array.from({ length: 40 }, (_, i) => new Rng(0, `popular-template/${i}`).hex64());
const POPULAR_TEMPLATE_WEIGHTS = cumulativeOf(POPULAR_TEMPLATES.map((_, i) => 1 / (i + 1)));

/** One request by `account` at `ts`; the randomness (capability, tokens, ...) comes from the stream's rng. */
export function requestOf(account: SimAccount, ts: number, rng: Rng): RequestEvent {
  const capability = account.capabilityNames[rng.pickCumulative(account.capabilityCumulative)];
  const [inMedian, outMedian] = tokenMedians(capability);
  const template = account.popularTemplateShare > 0 && rng.chance(account.popularTemplateShare)
    ? POPULAR_TEMPLATES[rng.pickCumulative(POPULAR_TEMPLATE_WEIGHTS)]
    : account.templates[account.templates.length === 1 ? 0 : rng.int(account.templates.length)];
  const event: RequestEvent = {
    ts: Math.floor(ts),
    accountId: account.id,
    capability,
    requestId: 'req_' + rng.hex64(),
    orgId: account.orgId,
    ip: rng.chance(ALT_IP_SHARE) ? account.altIp : account.ip,
    asn: account.asn,
    userAgent: account.userAgent,
    promptTemplateHash: template,
    model: account.model,
    inputTokens: Math.max(1, Math.round(rng.logNormal(inMedian, 0.8))),
    outputTokens: Math.max(1, Math.round(rng.logNormal(account.outputTokensMedian ?? outMedian, 0.6))),
    accountCreatedTs: account.createdTs,
  };
  if (account.paymentFingerprint !== undefined) event.paymentFingerprint = account.paymentFingerprint;
  // drawn after everything else, so that accounts without them draw exactly what they always did
  const fresh = account.perRequest;
  if (fresh !== undefined) {
    if (fresh.ip) {
      const net = residentialNetwork(rng);
      event.ip = ipIn(net, rng);
      event.asn = net.asn;
    }
    if (fresh.userAgent) event.userAgent = spoofedBrowserUserAgent(rng);
    if (fresh.promptTemplate) event.promptTemplateHash = rng.hex64();
  }
  return event;
}
