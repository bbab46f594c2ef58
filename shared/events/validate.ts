/**
 * Validation of inbound EventBridge events. Pure: takes the raw envelope (as
 * the JSON string an SQS record carries, or as an object) and returns either a
 * typed business event or a rejection with a reason a person can act on.
 */
import { z } from 'zod';
import {
  CLM_SOURCE_PREFIX,
  MAX_EVENT_BYTES,
  emittedSchemas,
  inboundSchemas,
  serviceOnlyDetailTypes,
  type BusinessEvent,
  type EmittedDetail,
  type EmittedDetailType,
  type InboundDetailType,
} from './catalog.ts';

export type Rejection = {
  ok: false;
  /** Short machine-readable code: not-json, too-large, bad-envelope, unknown-detail-type, invalid-detail, own-source */
  code: 'not-json' | 'too-large' | 'bad-envelope' | 'unknown-detail-type' | 'invalid-detail' | 'own-source';
  reason: string;
  detailType?: string;
  source?: string;
};
export type Accepted = { ok: true; event: BusinessEvent; envelopeId?: string };
export type ValidationResult = Accepted | Rejection;

const envelope = z.object({
  id: z.string().optional(),
  source: z.string().min(1),
  'detail-type': z.string().min(1),
  detail: z.record(z.string(), z.unknown()),
});

/** Flattens a zod error into `path: message; path: message`. Values are never echoed (they may be personal data). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** How far ahead of our clock a producer's `occurredAt` may be (clock skew), and the earliest accepted. */
export const MAX_FUTURE_SKEW_MS = 24 * 3_600_000;
export const EARLIEST_OCCURRED_AT = '1970-01-01T00:00:00Z';

/**
 * Validates one inbound event. `now` bounds `occurredAt`: an event dated more than a day
 * ahead would win every last-writer-wins field (a consent, an address) for good.
 */
export function validateInbound(raw: unknown, now: Date = new Date()): ValidationResult {
  let value: unknown = raw;
  const size = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : Buffer.byteLength(JSON.stringify(raw ?? null), 'utf8');
  if (size > MAX_EVENT_BYTES) {
    return { ok: false, code: 'too-large', reason: `event is ${size} bytes; the limit is ${MAX_EVENT_BYTES}` };
  }
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (e) {
      // The parser's message quotes the input; keep only where it broke (the input may hold personal data).
      const at = /position (\d+)/.exec((e as Error).message)?.[1];
      return { ok: false, code: 'not-json', reason: `body is not JSON${at ? ` (syntax error at position ${at})` : ''}` };
    }
  }
  const env = envelope.safeParse(value);
  if (!env.success) {
    return { ok: false, code: 'bad-envelope', reason: `not an EventBridge event: ${describeIssues(env.error)}` };
  }
  const { source, 'detail-type': detailType, detail, id } = env.data;
  if (source.startsWith(CLM_SOURCE_PREFIX)) {
    return { ok: false, code: 'own-source', reason: `source "${source}" is reserved for events the stack emits`, source, detailType };
  }
  if (!Object.hasOwn(inboundSchemas, detailType)) {
    return {
      ok: false,
      code: 'unknown-detail-type',
      reason: `unknown detail-type "${detailType}"; known: ${Object.keys(inboundSchemas).join(', ')}`,
      source,
      detailType,
    };
  }
  const type = detailType as InboundDetailType;
  const onlyFrom = serviceOnlyDetailTypes[type];
  if (onlyFrom !== undefined && source !== onlyFrom) {
    return { ok: false, code: 'invalid-detail', reason: `${type}: only ${onlyFrom} may send it (source "${source}")`, source, detailType };
  }
  const parsed = inboundSchemas[type].safeParse(detail);
  if (!parsed.success) {
    return { ok: false, code: 'invalid-detail', reason: `${type}: ${describeIssues(parsed.error)}`, source, detailType };
  }
  const occurred = Date.parse(parsed.data.occurredAt);
  if (occurred > now.getTime() + MAX_FUTURE_SKEW_MS) {
    return { ok: false, code: 'invalid-detail', reason: `${type}: occurredAt: more than 24 hours in the future`, source, detailType };
  }
  if (occurred < Date.parse(EARLIEST_OCCURRED_AT)) {
    return { ok: false, code: 'invalid-detail', reason: `${type}: occurredAt: before ${EARLIEST_OCCURRED_AT}`, source, detailType };
  }
  return { ok: true, event: { type, source, detail: parsed.data } as BusinessEvent, envelopeId: id };
}

/** Parses the detail of an event the stack emitted itself; throws on a bad one (that is our bug, not a producer's). */
export function parseEmitted<T extends EmittedDetailType>(type: T, detail: unknown): EmittedDetail<T> {
  const parsed = emittedSchemas[type].safeParse(detail);
  if (!parsed.success) throw new Error(`invalid ${type}: ${describeIssues(parsed.error)}`);
  return parsed.data as EmittedDetail<T>;
}
