/** Every JSON example in docs/events.md must be a valid event of the catalog: the page cannot drift from the code. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emittedSchemas, inboundDetailTypes, type EmittedDetailType } from '../../../shared/events/catalog.ts';
import { validateInbound } from '../../../shared/events/validate.ts';

const page = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
const examples = [...page.matchAll(/```json\n(.*?)\n```/gs)].map((m) => JSON.parse(m[1]!) as { source: string; 'detail-type': string; detail: unknown });

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
});
