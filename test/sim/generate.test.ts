import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import type { RequestEvent } from '../../src/events/request-event';
import { generateEvents, labelsOf } from '../../src/sim/generate';
import { durationMs, loadScenario } from '../../src/sim/scenario';
import { everyKind } from './fixtures';

const ndjson = (events: Iterable<RequestEvent>): string => {
  let out = '';
  for (const e of events) out += JSON.stringify(e) + '\n';
  return out;
};

const events = [...generateEvents(everyKind, 7)];
const labels = labelsOf(everyKind, 7);
const end = everyKind.start + durationMs(everyKind.duration);

describe('generateEvents', () => {
  it('is deterministic: same seed gives the same bytes, another seed different ones', () => {
    const small = loadScenario('small');
    const a = ndjson(generateEvents(small, 42));
    expect(ndjson(generateEvents(small, 42))).toBe(a);
    expect(ndjson(generateEvents(small, 43))).not.toBe(a);
    expect(ndjson(generateEvents(everyKind, 7))).toBe(ndjson(events));
  });

  it('yields events in event-time order inside the scenario', () => {
    expect(events.length).toBeGreaterThan(1000);
    for (let i = 1; i < events.length; i++) expect(events[i].ts).toBeGreaterThanOrEqual(events[i - 1].ts);
    expect(events[0].ts).toBeGreaterThanOrEqual(everyKind.start);
    expect(events[events.length - 1].ts).toBeLessThan(end);
  });

  it('produces only events that satisfy the published event schema', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../src/events/request-event.schema.json'), 'utf8'));
    const validate = new Ajv({ strict: false }).compile(schema);
    for (const e of events) {
      if (!validate(e)) throw new Error(`invalid event ${JSON.stringify(e)}: ${JSON.stringify(validate.errors)}`);
    }
    expect(new Set(events.map((e) => e.requestId)).size).toBe(events.length);
  });
});

describe('labelsOf', () => {
  it('labels every account that sends, and lists exactly the fleet accounts that send', () => {
    const sent = new Map<string, Set<string>>();
    for (const e of events) {
      const l = labels.accounts[e.accountId];
      expect(l).toBeDefined();
      const set = sent.get(l.group) ?? new Set<string>();
      set.add(e.accountId);
      sent.set(l.group, set);
    }
    for (const c of labels.campaigns) {
      const listed = Object.entries(labels.accounts).filter(([, l]) => l.group === c.id).map(([id]) => id).sort();
      expect([...(sent.get(c.id) ?? [])].sort()).toEqual(listed);
      expect(c.accounts).toBe(listed.length);
    }
    expect(labels.campaigns.map((c) => [c.id, c.kind, c.start - everyKind.start, c.end - everyKind.start])).toEqual([
      ['sync', 'sync-shared-ip', 3600000, 7200000],
      ['jit', 'rotated-ip-shared-template', 2400000, 6000000],
      ['slow', 'slow-and-low', 0, 7200000],
      ['churn', 'churn', 1800000, 7200000],
    ]);
    // CI bots run every 2h on average: in a 2h scenario some never run, and are not listed
    const bots = labels.confounders.find((c) => c.id === 'bots')?.accounts ?? 0;
    expect(bots).toBeGreaterThan(0);
    expect(bots).toBeLessThanOrEqual(10);
    expect(labels.confounders).toEqual([
      { id: 'campus', kind: 'university_nat', accounts: 60 },
      { id: 'agents', kind: 'agent_framework_ua', accounts: 80 },
      { id: 'surge', kind: 'viral_surge', accounts: 0, start: everyKind.start + 1800000, end: everyKind.start + 3600000 },
      { id: 'cron', kind: 'enterprise_cron', accounts: 10 },
      { id: 'bots', kind: 'ci_bots', accounts: bots },
    ]);
    const counts: Record<string, number> = {};
    for (const l of Object.values(labels.accounts)) counts[l.label] = (counts[l.label] ?? 0) + 1;
    expect(counts.benign).toBe(400);
    expect(counts.confounder).toBe(60 + 80 + 10 + bots);
    expect(labels).toEqual(labelsOf(everyKind, 7));
  });

  it('keeps each campaign inside its start and end', () => {
    for (const c of labels.campaigns) {
      const ts = events.filter((e) => labels.accounts[e.accountId].group === c.id).map((e) => e.ts);
      expect(ts.length).toBeGreaterThan(0);
      expect(Math.min(...ts)).toBeGreaterThanOrEqual(c.start);
      expect(Math.max(...ts)).toBeLessThan(c.end);
    }
  });
});
