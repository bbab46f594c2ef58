/**
 * Every JSON example in docs/events.md must be a valid event of the catalog, and every
 * PutEvents entry must be accepted by PutEvents and carry that event: the page cannot drift
 * from the code, and what a reader pastes into `aws events put-events --entries` works.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emittedSchemas, inboundDetailTypes, serviceOnlyDetailTypes, type EmittedDetailType } from '../../../shared/events/catalog.ts';
import { validateInbound } from '../../../shared/events/validate.ts';
import { settingDefaults } from '../../../infra/settings.ts';
import { LocalBus } from '../../../local/bus.ts';
import { QueueRegistry } from '../../../local/queues.ts';

type Example = { source: string; 'detail-type': string; detail: unknown };
type Entry = { EventBusName?: unknown; Source?: unknown; DetailType?: unknown; Detail?: unknown };

const page = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
const blocks = [...page.matchAll(/```json\n(.*?)\n```/gs)].map((m) => JSON.parse(m[1]!) as Example | Entry[]);
const examples = blocks.filter((b): b is Example => !Array.isArray(b));
/** Each PutEvents block with the event example just before it. */
const entryBlocks = blocks.flatMap((b, i) => (Array.isArray(b) ? [{ entries: b, event: blocks[i - 1] }] : []));
/** The deployed bus's name with the default stack name (infra/constructs/event-bus.ts). */
const busName = `${settingDefaults.stackName}-events`;

describe('docs/events.md examples', () => {
  it('documents every inbound detail-type with an example', () => {
    const documented = new Set(examples.map((e) => e['detail-type']));
    for (const type of inboundDetailTypes) expect(documented, type).toContain(type);
  });

  it.each(examples.map((e) => [e['detail-type'], e] as const))('%s example is valid', (type, example) => {
    if (example.source.startsWith('clm.')) {
      const parsed = emittedSchemas[type as EmittedDetailType].safeParse(example.detail);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    } else {
      const r = validateInbound(example);
      expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    }
  });

  it('gives every inbound example also as PutEvents entries, right after it (except those only an AWS service may send)', () => {
    const inbound = examples.filter((e) => !e.source.startsWith('clm.') && serviceOnlyDetailTypes[e['detail-type']] === undefined);
    expect(entryBlocks.map((b) => b.event)).toEqual(inbound);
    const serviceOnly = examples.filter((e) => serviceOnlyDetailTypes[e['detail-type']] !== undefined);
    expect(serviceOnly.map((e) => [e['detail-type'], e.source])).toEqual([['EmailFeedback', 'aws.ses']]);
  });

  it.each(entryBlocks.map((b) => [(b.event as Example)['detail-type'], b] as const))(
    '%s PutEvents entries: accepted by PutEvents, Detail is the event above and valid',
    (_type, { entries, event }) => {
      const example = event as Example;
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        expect(Object.keys(entry).sort()).toEqual(['Detail', 'DetailType', 'EventBusName', 'Source']);
        expect(entry.EventBusName).toBe(busName);
        expect(typeof entry.Detail, 'Detail is a JSON string, as PutEvents takes it').toBe('string');
        const detail = JSON.parse(entry.Detail as string) as unknown;
        expect({ source: entry.Source, 'detail-type': entry.DetailType, detail }).toEqual(example);
        const r = validateInbound({ source: entry.Source, 'detail-type': entry.DetailType, detail });
        expect(r.ok, r.ok ? '' : r.reason).toBe(true);
      }
      // What EventBridge does with them: accepted, and routed to ingest as the event shown.
      const queues = new QueueRegistry({ region: 'eu-west-1' });
      const bus = new LocalBus({ name: busName, region: 'eu-west-1', queueFor: (s) => queues.ensure(s.id) });
      const out = bus.putEvents({ Entries: entries });
      expect(out.FailedEntryCount, JSON.stringify(out.Entries)).toBe(0);
      const delivered = queues.get('BusinessEventsToIngest')!.receive(10).map((m) => JSON.parse(m.body) as Example);
      expect(delivered.map((e) => ({ source: e.source, 'detail-type': e['detail-type'], detail: e.detail }))).toEqual(entries.map(() => example));
      for (const e of delivered) expect(validateInbound(e).ok).toBe(true);
    },
  );
});
