import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AwsJsonError, FUNCTIONS_CREDENTIALS, LocalBus, MAX_DETAIL_DEPTH, accessKeyIdFromAuthorization, entrySize, jsonDepth } from '../../local/bus.ts';
import { QueueRegistry } from '../../local/queues.ts';

function makeBus() {
  const queues = new QueueRegistry({ region: 'eu-west-1' });
  const bus = new LocalBus({ name: 'ServerlessClm-events', region: 'eu-west-1', queueFor: (s) => queues.ensure(s.id) });
  return { bus, queues };
}

const good = (over: Record<string, unknown> = {}) => ({
  Source: 'com.example.support',
  DetailType: 'SupportCallLogged',
  Detail: JSON.stringify({ eventId: 'e1', customerId: 'c1', occurredAt: '2026-01-01T00:00:00Z', callId: 'k1', reason: 'billing' }),
  EventBusName: 'ServerlessClm-events',
  ...over,
});

function requestError(fn: () => unknown): AwsJsonError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AwsJsonError);
    return e as AwsJsonError;
  }
  throw new Error('expected a request-level error');
}

describe('local bus PutEvents', () => {
  it('accepts good entries, returns event ids and routes them by the wiring rules', () => {
    const { bus, queues } = makeBus();
    const out = bus.putEvents({ Entries: [good(), good({ Source: 'clm.triggers', DetailType: 'ChurnTriggerFired', Detail: '{"triggerId":"t"}' })] });
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toHaveLength(2);
    for (const e of out.Entries) expect(e).toHaveProperty('EventId');
    const ingest = queues.get('BusinessEventsToIngest')!;
    const campaigns = queues.get('ChurnTriggersToCampaigns')!;
    expect(ingest.visibleCount).toBe(1);
    expect(campaigns.visibleCount).toBe(1);
    const body = JSON.parse(ingest.receive(1)[0].body);
    expect(body).toMatchObject({
      version: '0',
      source: 'com.example.support',
      'detail-type': 'SupportCallLogged',
      account: '000000000000',
      region: 'eu-west-1',
      resources: [],
      detail: { eventId: 'e1', reason: 'billing' },
    });
    expect(body.id).toBe((out.Entries[0] as { EventId: string }).EventId);
    expect(body.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(bus.emitted).toHaveLength(1);
  });

  it('reports per-entry errors with AWS error codes, in request order', () => {
    const { bus } = makeBus();
    const out = bus.putEvents({
      Entries: [
        good(),
        { DetailType: 'X', Detail: '{}' },
        { Source: 's', Detail: '{}' },
        { Source: 's', DetailType: 'X' },
        good({ Detail: 'not json' }),
        good({ Detail: '[1,2]' }),
        good({ Detail: '"a string"' }),
        good({ EventBusName: 'other-bus' }),
        good({ EventBusName: 'clm-local-bus' }),
        good({ EventBusName: bus.arn }),
      ],
    });
    expect(out.FailedEntryCount).toBe(8);
    const codes = out.Entries.map((e) => ('ErrorCode' in e ? e.ErrorCode : 'ok'));
    expect(codes).toEqual([
      'ok',
      'InvalidArgument',
      'InvalidArgument',
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'MalformedDetail',
      'ResourceNotFoundException',
      'ResourceNotFoundException',
      'ok',
    ]);
    expect(out.Entries[1]).toMatchObject({ ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' });
    expect(out.Entries[3]).toMatchObject({ ErrorMessage: expect.stringContaining('Detail is a required argument') });
    expect(out.Entries[4]).toMatchObject({ ErrorMessage: 'Detail is malformed.' });
    expect(out.Entries[7]).toMatchObject({ ErrorMessage: 'Event bus other-bus does not exist.' });
    expect(out.Entries[8]).toMatchObject({ ErrorMessage: 'Event bus clm-local-bus does not exist.' });
    expect(bus.stats.failedEntries).toBe(8);
    expect(bus.stats.accepted).toBe(2);
  });

  it('delivers the producer\'s Detail text unchanged inside the envelope: numbers a double cannot hold, spacing, key order', () => {
    const { bus, queues } = makeBus();
    const detail = '{ "eventId":"e1", "customerId":"c1", "amount": 1e400, "price":1.10, "big":12345678901234567890123, "z":1, "a":2 }';
    const out = bus.putEvents({ Entries: [good({ Detail: detail })] });
    expect(out.FailedEntryCount).toBe(0);
    const body = queues.get('BusinessEventsToIngest')!.receive(1)[0].body;
    expect(body.endsWith(`,"detail":${detail}}`)).toBe(true);
    const event = JSON.parse(body);
    expect(Object.keys(event)).toEqual(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);
    expect(event).toMatchObject({ id: (out.Entries[0] as { EventId: string }).EventId, source: 'com.example.support', detail: { eventId: 'e1', amount: Infinity } });
  });

  it(`refuses a Detail nested deeper than ${MAX_DETAIL_DEPTH} levels with MalformedDetail (the Detail object is level 1)`, () => {
    const { bus, queues } = makeBus();
    const deep = (levels: number) => '{"a":'.repeat(levels - 1) + '[]' + '}'.repeat(levels - 1);
    expect(jsonDepth(deep(MAX_DETAIL_DEPTH))).toBe(MAX_DETAIL_DEPTH);
    const out = bus.putEvents({ Entries: [good({ Detail: deep(MAX_DETAIL_DEPTH) }), good({ Detail: deep(MAX_DETAIL_DEPTH + 1) }), good({ Detail: deep(30_000) })] });
    expect(out.Entries.map((e) => ('ErrorCode' in e ? `${e.ErrorCode}: ${e.ErrorMessage}` : 'ok'))).toEqual(['ok', 'MalformedDetail: Detail is malformed.', 'MalformedDetail: Detail is malformed.']);
    expect(queues.get('BusinessEventsToIngest')!.visibleCount).toBe(1);
    expect(bus.stats.byError.get('MalformedDetail')).toBe(2);
  });

  it('measures JSON depth on the text: brackets inside strings and escaped quotes do not count', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('{}')).toBe(1);
    expect(jsonDepth('{"a":[{"b":[]}],"c":{}}')).toBe(4);
    expect(jsonDepth('{"a":"[[[{{{"}')).toBe(1);
    expect(jsonDepth(JSON.stringify({ 'k"[': 'a \\ " [[[ {{', b: '\\', c: [{}] }))).toBe(3);
    const depthOf = (v: unknown): number => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      expect(jsonDepth(JSON.stringify(v))).toBe(depthOf(v));
    }), { numRuns: 300 });
  });

  it('is named as the deployed bus with default settings (docs/events.md publishes to it)', () => {
    const { bus } = makeBus();
    expect(bus.name).toBe('ServerlessClm-events');
    expect(bus.arn).toBe('arn:aws:events:eu-west-1:000000000000:event-bus/ServerlessClm-events');
  });

  it('sends entries without EventBusName (or "default") to the default bus, as AWS does: accepted, not routed, counted', () => {
    const { bus, queues } = makeBus();
    const seen: string[] = [];
    bus.onDefaultBus((e) => seen.push(e.id));
    const routed: string[] = [];
    bus.onEvent((e) => routed.push(e.id));
    const { EventBusName: _, ...noBus } = good();
    const out = bus.putEvents({
      Entries: [
        noBus,
        good({ EventBusName: 'default' }),
        good({ EventBusName: 'arn:aws:events:eu-west-1:000000000000:event-bus/default' }),
        good({ EventBusName: null }),
        { ...noBus, Detail: 'not json' },
        good(),
      ],
    });
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries.map((e) => ('ErrorCode' in e ? e.ErrorCode : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok', 'MalformedDetail', 'ok']);
    for (const e of out.Entries.slice(0, 4)) expect((e as { EventId: string }).EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(bus.stats.toDefaultBus).toBe(4);
    expect(seen).toEqual(out.Entries.slice(0, 4).map((e) => (e as { EventId: string }).EventId));
    expect(bus.stats.accepted).toBe(1);
    expect(routed).toEqual([(out.Entries[5] as { EventId: string }).EventId]);
    expect(queues.get('BusinessEventsToIngest')!.visibleCount).toBe(1);
  });

  it('accepts Time as epoch seconds (SDK) or an ISO string (CLI) and rejects a bad one', () => {
    const { bus, queues } = makeBus();
    const out = bus.putEvents({ Entries: [good({ Time: 1767225600 }), good({ Time: '2026-01-01T00:00:00Z' }), good({ Time: 'yesterday' })] });
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries[2]).toMatchObject({ ErrorCode: 'InvalidArgument' });
    const [a, b] = queues.get('BusinessEventsToIngest')!.receive(2).map((m) => JSON.parse(m.body).time);
    expect(a).toBe('2026-01-01T00:00:00Z');
    expect(b).toBe('2026-01-01T00:00:00Z');
  });

  it('rejects whole requests as AWS does: no entries, more than 10, oversized, wrong types', () => {
    const { bus } = makeBus();
    expect(requestError(() => bus.putEvents({})).type).toBe('ValidationException');
    expect(requestError(() => bus.putEvents({ Entries: [] })).type).toBe('ValidationException');
    const eleven = Array.from({ length: 11 }, () => good());
    const tooMany = requestError(() => bus.putEvents({ Entries: eleven }));
    expect(tooMany.type).toBe('ValidationException');
    expect(tooMany.message).toContain('less than or equal to 10');
    const big = good({ Detail: JSON.stringify({ pad: 'x'.repeat(256 * 1024) }) });
    const over = requestError(() => bus.putEvents({ Entries: [big] }));
    expect(over.type).toBe('ValidationException');
    expect(over.message).toBe('Total size of the entries in the request is over the limit.');
    expect(over.status).toBe(400);
    expect(requestError(() => bus.putEvents({ Entries: 'x' })).type).toBe('SerializationException');
    expect(requestError(() => bus.putEvents({ Entries: [{ Source: 5 }] })).type).toBe('SerializationException');
    expect(bus.stats.failedRequests).toBe(6);
    expect(bus.stats.accepted).toBe(0);
  });

  it('reserves clm.* sources on the bus to the functions, as the deployed bus policy does', () => {
    const { bus, queues } = makeBus();
    const trigger = good({ Source: 'clm.triggers', DetailType: 'ChurnTriggerFired', Detail: '{"triggerId":"t","customerId":"c1"}' });
    const campaigns = queues.get('ChurnTriggersToCampaigns')!;
    // Any other caller, signed or not: the whole call fails, even its good entries are not put.
    for (const caller of [{ accessKeyId: 'local' }, { accessKeyId: 'x' }, {}]) {
      const err = requestError(() => bus.putEvents({ Entries: [good(), trigger] }, caller));
      expect(err.type).toBe('AccessDeniedException');
      expect(err.status).toBe(400);
      expect(err.message).toBe(
        `User: ${caller.accessKeyId ? `arn:aws:iam::000000000000:user/${caller.accessKeyId}` : 'anonymous'} is not authorized to perform: events:PutEvents on resource: ${bus.arn} with an explicit deny in a resource-based policy`,
      );
    }
    // Addressed by ARN too.
    expect(requestError(() => bus.putEvents({ Entries: [{ ...trigger, EventBusName: bus.arn }] }, { accessKeyId: 'x' })).type).toBe('AccessDeniedException');
    expect(bus.stats).toMatchObject({ accessDenied: 4, failedRequests: 4, accepted: 0 });
    expect(campaigns.visibleCount).toBe(0);
    expect(queues.get('BusinessEventsToIngest')!.visibleCount).toBe(0);
    expect(bus.emitted).toHaveLength(0);

    // Other sources from anyone, and clm.* from the functions' key, go through.
    expect(bus.putEvents({ Entries: [good()] }, { accessKeyId: 'x' }).FailedEntryCount).toBe(0);
    expect(bus.putEvents({ Entries: [good({ Source: 'com.example.clm.triggers' })] }, {}).FailedEntryCount).toBe(0);
    expect(bus.putEvents({ Entries: [trigger] }, { accessKeyId: FUNCTIONS_CREDENTIALS.accessKeyId }).FailedEntryCount).toBe(0);
    expect(campaigns.visibleCount).toBe(1);
    expect(bus.emitted).toHaveLength(1);
    // The policy is this bus's: a clm.* entry for the default bus (no rules) or an unknown bus is not denied here.
    const { EventBusName: _, ...noBus } = trigger;
    const other = bus.putEvents({ Entries: [noBus, { ...trigger, EventBusName: 'nope' }] }, { accessKeyId: 'x' });
    expect(other.Entries.map((e) => ('ErrorCode' in e ? e.ErrorCode : 'ok'))).toEqual(['ok', 'ResourceNotFoundException']);
    expect(campaigns.visibleCount).toBe(1);
    expect(bus.stats.accessDenied).toBe(4);
  });

  it('reads the access key id from a SigV4 Authorization header', () => {
    expect(
      accessKeyIdFromAuthorization(
        'AWS4-HMAC-SHA256 Credential=clmfunctions/20261123/eu-west-1/events/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=abc',
      ),
    ).toBe('clmfunctions');
    expect(accessKeyIdFromAuthorization('AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261123/eu-west-1/events/aws4_request,SignedHeaders=host,Signature=abc')).toBe('AKIAEXAMPLE');
    expect(accessKeyIdFromAuthorization(undefined)).toBeUndefined();
    expect(accessKeyIdFromAuthorization('')).toBeUndefined();
    expect(accessKeyIdFromAuthorization('Bearer clm-functions')).toBeUndefined();
  });

  it('counts entry size as EventBridge does', () => {
    expect(entrySize({ Source: 'ab', DetailType: 'cd', Detail: '{}' })).toBe(6);
    expect(entrySize({ Source: 'ab', DetailType: 'cd', Detail: '{}', Time: 1, Resources: ['xyz'] })).toBe(6 + 14 + 3);
    expect(entrySize({ Source: 'é', DetailType: '', Detail: '' })).toBe(2);
  });
});
