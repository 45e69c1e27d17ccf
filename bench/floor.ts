/**
 * The floor: the least any design of lockstep must do per event, measured with lockstep's own parts.
 *   node --max-semi-space-size=64 dist/bench/floor.js FILE   (prints one JSON object)
 *
 * Per event: decode and validate the contract (the service's decoder), derive the attribute links
 * (its link rules), and count each link's requests per capability and per member in the current
 * bucket of each scale, in memory. The detector judges targeting from a key's capability mix and
 * synchrony from its members' per-bucket counts, so no correct design keeps less. Everything else
 * lockstep does is left out, so this is a ceiling on the speed of any design, not a model of it: no
 * population, account or behaviour keys, no value cap, no late events (a bucket is dropped when the
 * next one opens), no expiry, no Redis, no detector.
 * docs/performance.md ("The floor") compares it with the targets.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ScaleConfig } from '../src/config/config';
import { defaultConfig } from '../src/config/config';
import { decodeEvent, type DecoderOptions } from '../src/events/decode';
import { ATTRIBUTE_LINK_TYPES, type LinkType, type RequestEvent } from '../src/events/request-event';
import { attributeLinks } from '../src/ingest/links';

interface FloorBucket {
  byCapability: Map<string, number>;
  members: Map<string, number>;
}

/** One scale's current bucket of every value of one link type. */
interface ScaleBuckets {
  bucketMs: number;
  start: number;
  byValue: Map<string, FloorBucket>;
}

export class LinkMemberFloor {
  events = 0;
  links = 0;
  private readonly byType = new Map<LinkType, ScaleBuckets[]>();
  private readonly linkTypes: ReadonlySet<LinkType>;
  private readonly decoder: DecoderOptions;
  /** the event being counted: the link sink is one bound method, no closure per event */
  private account = '';
  private capability = '';
  private ts = 0;
  private readonly countLink = (type: LinkType, value: string): void => {
    this.links++;
    for (const s of this.byType.get(type) ?? []) {
      const start = this.ts - (this.ts % s.bucketMs);
      if (start !== s.start) {
        s.start = start;
        s.byValue = new Map();
      }
      let b = s.byValue.get(value);
      if (b === undefined) s.byValue.set(value, (b = { byCapability: new Map(), members: new Map() }));
      b.byCapability.set(this.capability, (b.byCapability.get(this.capability) ?? 0) + 1);
      b.members.set(this.account, (b.members.get(this.account) ?? 0) + 1);
    }
  };

  constructor(scales: readonly ScaleConfig[], linkTypes: readonly LinkType[], decoder: DecoderOptions) {
    this.linkTypes = new Set(linkTypes);
    this.decoder = decoder;
    for (const t of ATTRIBUTE_LINK_TYPES) this.byType.set(t, scales.map((s) => ({ bucketMs: s.bucketMs, start: -1, byValue: new Map() })));
  }

  /** Counts one message value; false when the decoder rejects it. */
  add(value: Buffer): boolean {
    // the injected time for the future bound: the floor keeps every event (its input is historical)
    const r = decodeEvent(value, this.decoder, Number.MAX_SAFE_INTEGER);
    if (!r.ok) return false;
    this.events++;
    this.count(r.event);
    return true;
  }

  private count(e: RequestEvent): void {
    this.account = e.accountId;
    this.capability = e.capability;
    this.ts = e.ts;
    attributeLinks(e, this.linkTypes, this.countLink);
  }
}

/** The floor over lockstep's default scales, link types and decoder limits. */
export function defaultFloor(): LinkMemberFloor {
  const cfg = defaultConfig();
  return new LinkMemberFloor(cfg.windows.scales, cfg.ingest.linkTypes, { maxMessageBytes: cfg.ingest.maxMessageBytes, maxFutureMs: cfg.ingest.maxFutureMs });
}

export interface FloorRun {
  events: number;
  links: number;
  eventsPerSec: number;
}

/** Counts every line of an NDJSON file (read whole first: reading is not what the floor measures). */
export function runFloor(file: string): FloorRun {
  const bytes = readFileSync(file);
  const floor = defaultFloor();
  const t0 = process.hrtime.bigint();
  let start = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, start)) {
    if (i > start) floor.add(bytes.subarray(start, i));
    start = i + 1;
  }
  if (start < bytes.length) floor.add(bytes.subarray(start));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { events: floor.events, links: floor.links, eventsPerSec: floor.events / seconds };
}

/**
 * runFloor in a process of its own (one core, nothing else in its heap), with the young generation
 * `lockstep replay` gives itself, so the two compare.
 */
export function measureFloor(file: string): Promise<FloorRun> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--max-semi-space-size=64', __filename, file], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`floor: ${err.message} ${stderr.slice(-2000)}`));
      resolve(JSON.parse(stdout) as FloorRun);
    });
  });
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node --max-semi-space-size=64 dist/bench/floor.js FILE\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(runFloor(file)) + '\n');
}
