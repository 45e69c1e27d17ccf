/**
 * The event contract: one Kafka message per API request. The JSON Schema beside this file is the
 * normative form (shipped for producers); this type is what the decoder hands to the pipeline.
 */
export interface RequestEvent {
  /** event time of the request, epoch ms */
  ts: number;
  accountId: string;
  /** label from the upstream prompt classifier (coding, agentic, chat, ...) */
  capability: string;
  requestId?: string;
  orgId?: string;
  ip?: string;
  asn?: number;
  userAgent?: string;
  paymentFingerprint?: string;
  promptTemplateHash?: string;
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
  accountCreatedTs?: number;
}

/** Linking-key types: the attributes that can tie accounts into a fleet. */
export const LINK_TYPES = ['ip_prefix', 'asn', 'payment', 'prompt_template', 'user_agent', 'org', 'behavior'] as const;
export type LinkType = (typeof LINK_TYPES)[number];
/** Link types taken from an event's own attributes (behaviour links are derived from its account's history). */
export const ATTRIBUTE_LINK_TYPES: readonly LinkType[] = LINK_TYPES.filter((t) => t !== 'behavior');

/** Key types the window store keeps: every link type, the account itself, and the population. */
export type KeyType = LinkType | 'account' | 'population';
export const KEY_TYPES: readonly KeyType[] = [...LINK_TYPES, 'account', 'population'];
