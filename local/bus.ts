/**
 * The local event bus: EventBridge `PutEvents` semantics (request and entry
 * validation, per-entry results with AWS's error codes) and the rules from
 * `shared/wiring.ts`. A matching event is delivered, as in AWS, to the rule's
 * SQS queue as the EventBridge event JSON, whose `detail` is the producer's
 * `Detail` text unchanged, so handlers see what the producer sent
 * (re-serializing the parsed detail would turn `1e400` into `null`). A
 * `Detail` nested deeper than EventBridge processes
 * (`MAX_DETAIL_DEPTH`) fails with `MalformedDetail`.
 *
 * As in AWS, an entry without `EventBusName` (or with `default`) goes to the
 * account's `default` bus, which has none of the stack's rules: it is accepted
 * (an EventId is returned) but reaches no handler. Such entries are counted
 * (`stats.toDefaultBus`) so the local stack can warn about them.
 *
 * Like the deployed bus's resource policy (`reserveSourcePrefix` in
 * infra/constructs/event-bus.ts), the stack's own source prefix (`clm.`) is
 * reserved to the stack's functions: a call from any other caller that puts an
 * entry with a `clm.*` source on this bus fails as a whole with
 * `AccessDeniedException` (explicit deny in a resource-based policy). Callers
 * are told apart by the access key id of their SigV4 signature; the in-process
 * functions use `FUNCTIONS_CREDENTIALS`.
 */
import { randomUUID } from 'node:crypto';
import { CLM_SOURCE_PREFIX } from '../shared/events/catalog.ts';
import { subscriptions, type RuleSubscription } from '../shared/wiring.ts';
import { matchesPattern } from './event-pattern.ts';
import { LOCAL_ACCOUNT_ID, type LocalQueue } from './queues.ts';

/** The account's default bus: where entries without an EventBusName go. */
export const DEFAULT_BUS_NAME = 'default';

/** AWS caps a PutEvents request at 10 entries and its total entry size at 256 KB. */
export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_REQUEST_ENTRY_BYTES = 256 * 1024;
/**
 * "PutEvents will only process nested JSON up to 1000 levels deep" (the
 * PutEvents API reference; older SDK docs say 1100). The Detail object itself
 * is level 1; an entry nested deeper fails with `MalformedDetail`.
 */
export const MAX_DETAIL_DEPTH = 1000;

/**
 * How deeply objects and arrays nest in a JSON text (0 for a scalar, 1 for
 * `{}`), counted on the text without recursion, so any depth is safe to measure.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * The event as EventBridge delivers it to a target: the envelope, with the
 * producer's `Detail` text as `detail`, unchanged. Re-serializing the parsed
 * detail would change it (`1e400` would become `null`, `1.0` would become `1`).
 */
export function eventJson(event: EventBridgeEvent, detailText: string): string {
  const { detail: _, ...envelope } = event;
  const head = JSON.stringify(envelope);
  return `${head.slice(0, -1)},"detail":${detailText}}`;
}

/**
 * Credentials the local stack gives the in-process functions (through
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): only this access key id may put
 * events with a reserved (`clm.*`) source on the bus. Not a secret. Letters
 * and digits only: DynamoDB Local (2.x) rejects any other access key id.
 */
export const FUNCTIONS_CREDENTIALS = { accessKeyId: 'clmfunctions', secretAccessKey: 'local' };

/**
 * Who is calling PutEvents over the endpoint: the access key id of the
 * request's SigV4 signature, or undefined for an unsigned request.
 */
export type PutEventsCaller = { accessKeyId?: string };

/** Reads the access key id from a SigV4 `Authorization` header (`… Credential=<keyId>/<date>/<region>/<service>/aws4_request, …`). */
export function accessKeyIdFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /(?:^|[\s,])Credential=([^/\s,]+)\//.exec(header);
  return m ? m[1] : undefined;
}

/** An error reported for the whole request, as AWS JSON: HTTP status + `{"__type", "message"}`. */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export type PutEventsEntry = {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  EventBusName?: unknown;
  Resources?: unknown;
  Time?: unknown;
  TraceHeader?: unknown;
};
export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };
export type PutEventsResult = { FailedEntryCount: number; Entries: PutEventsResultEntry[] };

export type EventBridgeEvent = {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
};

export type BusRule = { subscription: RuleSubscription; queue: LocalQueue };

/**
 * Size of one entry as EventBridge counts it: UTF-8 bytes of Source, DetailType,
 * Detail and each Resource, plus 14 bytes when Time is given.
 */
export function entrySize(e: PutEventsEntry): number {
  let n = 0;
  if (e.Time !== undefined && e.Time !== null) n += 14;
  for (const s of [e.Source, e.DetailType, e.Detail]) if (typeof s === 'string') n += Buffer.byteLength(s, 'utf8');
  if (Array.isArray(e.Resources)) for (const r of e.Resources) if (typeof r === 'string') n += Buffer.byteLength(r, 'utf8');
  return n;
}

const fail = (ErrorCode: string, ErrorMessage: string): PutEventsResultEntry => ({ ErrorCode, ErrorMessage });

export class LocalBus {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  readonly rules: BusRule[];
  /** Counters for the summary. */
  readonly stats = {
    calls: 0,
    /** Entries accepted for this bus (not counting those that went to the default bus). */
    accepted: 0,
    failedEntries: 0,
    failedRequests: 0,
    routed: 0,
    unmatched: 0,
    /** Entries accepted for the account's default bus (no EventBusName, or `default`): only rules for AWS services' events there, so they reach no handler. */
    toDefaultBus: 0,
    /** AWS services' events delivered to the default bus (`deliverServiceEvent`). */
    serviceEvents: 0,
    /** Calls refused as a whole because a caller other than the functions put a reserved (`clm.*`) source on this bus. */
    accessDenied: 0,
    byError: new Map<string, number>(),
  };
  /** ARN of the account's default bus in this region. */
  readonly defaultBusArn: string;
  /** Called for every entry accepted for the default bus (e.g. to warn that EventBusName is missing). */
  private defaultBusListeners = new Set<(e: EventBridgeEvent) => void>();
  /** Events the stack emitted itself (sources starting with clm.), kept for tracing; small in volume. */
  readonly emitted: EventBridgeEvent[] = [];
  /** Listeners called for every accepted event (tests and tracing). */
  private listeners = new Set<(e: EventBridgeEvent) => void>();
  activity = 0;

  /** The reserved source prefix and the access key ids allowed to use it (the bus policy's exception). */
  readonly reservedSources: { prefix: string; accessKeyIds: readonly string[] };

  constructor(options: {
    name: string;
    region: string;
    queueFor: (sub: RuleSubscription) => LocalQueue;
    /** Default: `clm.` reserved to `FUNCTIONS_CREDENTIALS.accessKeyId`. */
    reservedSources?: { prefix: string; accessKeyIds: readonly string[] };
  }) {
    this.name = options.name;
    this.reservedSources = options.reservedSources ?? { prefix: CLM_SOURCE_PREFIX, accessKeyIds: [FUNCTIONS_CREDENTIALS.accessKeyId] };
    this.region = options.region;
    this.arn = `arn:aws:events:${options.region}:${LOCAL_ACCOUNT_ID}:event-bus/${options.name}`;
    this.defaultBusArn = `arn:aws:events:${options.region}:${LOCAL_ACCOUNT_ID}:event-bus/${DEFAULT_BUS_NAME}`;
    this.rules = subscriptions
      .filter((s): s is RuleSubscription => s.kind === 'rule')
      .map((subscription) => ({ subscription, queue: options.queueFor(subscription) }));
  }

  onEvent(listener: (e: EventBridgeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listens for entries that went to the default bus instead of this one. */
  onDefaultBus(listener: (e: EventBridgeEvent) => void): () => void {
    this.defaultBusListeners.add(listener);
    return () => this.defaultBusListeners.delete(listener);
  }

  /**
   * The PutEvents API. Throws `AwsJsonError` for request-level errors, as AWS does.
   *
   * `caller` is who signed the request (the endpoint passes it for every call,
   * `{}` when unsigned); the reserved-source policy applies to it. Omitted only
   * by in-process callers that bypass the endpoint (unit tests), which are
   * trusted like the functions.
   */
  putEvents(request: unknown, caller?: PutEventsCaller): PutEventsResult {
    this.stats.calls++;
    try {
      return this.doPutEvents(request, caller);
    } catch (e) {
      this.stats.failedRequests++;
      throw e;
    }
  }

  private doPutEvents(request: unknown, caller: PutEventsCaller | undefined): PutEventsResult {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw new AwsJsonError('SerializationException', 'Start of structure or map found where not expected.');
    }
    const entries = (request as { Entries?: unknown }).Entries;
    if (entries === undefined || entries === null) {
      throw new AwsJsonError('ValidationException', "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    }
    if (!Array.isArray(entries)) throw new AwsJsonError('SerializationException', 'Unexpected value type for Entries; expected a list.');
    if (entries.length < 1 || entries.length > MAX_ENTRIES_PER_CALL) {
      throw new AwsJsonError(
        'ValidationException',
        `1 validation error detected: Value '[${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length ${entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES_PER_CALL}`}`,
      );
    }
    for (const e of entries) {
      if (typeof e !== 'object' || e === null || Array.isArray(e)) {
        throw new AwsJsonError('SerializationException', 'Start of structure or map found where not expected.');
      }
      for (const k of ['Source', 'DetailType', 'Detail', 'EventBusName', 'TraceHeader'] as const) {
        const v = (e as PutEventsEntry)[k];
        if (v !== undefined && v !== null && typeof v !== 'string') {
          throw new AwsJsonError('SerializationException', `Unexpected value type for ${k}; expected a string.`);
        }
      }
      const r = (e as PutEventsEntry).Resources;
      if (r !== undefined && r !== null && (!Array.isArray(r) || r.some((x) => typeof x !== 'string'))) {
        throw new AwsJsonError('SerializationException', 'Unexpected value type for Resources; expected a list of strings.');
      }
      const t = (e as PutEventsEntry).Time;
      if (t !== undefined && t !== null && typeof t !== 'number' && typeof t !== 'string') {
        throw new AwsJsonError('SerializationException', 'Unexpected value type for Time; expected a timestamp.');
      }
    }
    const total = (entries as PutEventsEntry[]).reduce((n, e) => n + entrySize(e), 0);
    if (total > MAX_REQUEST_ENTRY_BYTES) {
      throw new AwsJsonError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    if (caller) this.authorize(entries as PutEventsEntry[], caller);
    const results = (entries as PutEventsEntry[]).map((e) => this.putOne(e));
    const failed = results.filter((r) => 'ErrorCode' in r).length;
    this.stats.failedEntries += failed;
    for (const r of results) if ('ErrorCode' in r) this.stats.byError.set(r.ErrorCode, (this.stats.byError.get(r.ErrorCode) ?? 0) + 1);
    return { FailedEntryCount: failed, Entries: results };
  }

  /** True when the entry names this bus (by name or ARN), i.e. it is subject to this bus's policy. */
  private addressesThisBus(e: PutEventsEntry): boolean {
    return e.EventBusName === this.name || e.EventBusName === this.arn;
  }

  /**
   * The bus policy's explicit deny: any entry for this bus with a reserved
   * source, from a caller other than the functions, fails the whole call
   * (nothing is put), as AWS does when a resource policy denies PutEvents.
   */
  private authorize(entries: PutEventsEntry[], caller: PutEventsCaller): void {
    const { prefix, accessKeyIds } = this.reservedSources;
    if (caller.accessKeyId !== undefined && accessKeyIds.includes(caller.accessKeyId)) return;
    const reserved = entries.some((e) => this.addressesThisBus(e) && typeof e.Source === 'string' && e.Source.startsWith(prefix));
    if (!reserved) return;
    this.stats.accessDenied++;
    const user = caller.accessKeyId ? `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${caller.accessKeyId}` : 'anonymous';
    throw new AwsJsonError(
      'AccessDeniedException',
      `User: ${user} is not authorized to perform: events:PutEvents on resource: ${this.arn} with an explicit deny in a resource-based policy`,
    );
  }

  private putOne(e: PutEventsEntry): PutEventsResultEntry {
    const required = (name: 'Source' | 'DetailType' | 'Detail') =>
      fail('InvalidArgument', `Parameter ${name} is not valid. Reason: ${name} is a required argument.`);
    const busName = e.EventBusName;
    const toDefaultBus = busName === undefined || busName === null || busName === '' || busName === DEFAULT_BUS_NAME || busName === this.defaultBusArn;
    if (!toDefaultBus && busName !== this.name && busName !== this.arn) {
      const name = String(busName).split('event-bus/').pop();
      return fail('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    }
    if (typeof e.Source !== 'string' || e.Source.trim() === '') return required('Source');
    if (typeof e.DetailType !== 'string' || e.DetailType.trim() === '') return required('DetailType');
    if (typeof e.Detail !== 'string' || e.Detail.trim() === '') return required('Detail');
    if (e.Source.length > 256) return fail('InvalidArgument', 'Parameter Source is not valid. Reason: Source exceeds the maximum length of 256.');
    if (e.DetailType.length > 128) return fail('InvalidArgument', 'Parameter DetailType is not valid. Reason: DetailType exceeds the maximum length of 128.');
    if (e.Source.startsWith('aws.')) {
      return fail('NotAuthorizedForSourceException', `Not authorized for the source. Source "${e.Source}" is reserved for AWS services.`);
    }
    // Measured on the text first: parsing (and matching) a deeper one is work EventBridge would not do.
    if (jsonDepth(e.Detail) > MAX_DETAIL_DEPTH) return fail('MalformedDetail', 'Detail is malformed.');
    let detail: unknown;
    try {
      detail = JSON.parse(e.Detail);
    } catch {
      return fail('MalformedDetail', 'Detail is malformed.');
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return fail('MalformedDetail', 'Detail is malformed.');
    let time = new Date();
    if (e.Time !== undefined && e.Time !== null) {
      // The SDK sends Time as epoch seconds; the CLI may send a string.
      const t = typeof e.Time === 'number' ? new Date(e.Time * 1000) : new Date(e.Time as string);
      if (Number.isNaN(t.getTime())) return fail('InvalidArgument', 'Parameter Time is not valid. Reason: Time is not a valid timestamp.');
      time = t;
    }
    const event: EventBridgeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': e.DetailType,
      source: e.Source,
      account: LOCAL_ACCOUNT_ID,
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: Array.isArray(e.Resources) ? (e.Resources as string[]) : [],
      detail: detail as Record<string, unknown>,
    };
    if (toDefaultBus) {
      // Accepted, as AWS does; the default bus has only the rules for AWS services' events (which no PutEvents can match).
      this.stats.toDefaultBus++;
      this.activity++;
      for (const l of this.defaultBusListeners) l(event);
      this.routeDefaultBus(event, e.Detail);
    } else {
      this.route(event, e.Detail);
    }
    return { EventId: event.id };
  }

  /**
   * An AWS service's event on the account's default bus (e.g. SES's email events, which it puts
   * there only): delivered to the rules on the default bus. What the local stack and the tests use
   * to emulate such a service, since PutEvents refuses `aws.*` sources.
   */
  deliverServiceEvent(event: Omit<EventBridgeEvent, 'version' | 'account' | 'region'> & Partial<EventBridgeEvent>): void {
    const full: EventBridgeEvent = { version: '0', account: LOCAL_ACCOUNT_ID, region: this.region, ...event };
    this.stats.serviceEvents++;
    this.activity++;
    this.routeDefaultBus(full, JSON.stringify(full.detail));
  }

  private routeDefaultBus(event: EventBridgeEvent, detailText: string): void {
    const body = eventJson(event, detailText);
    for (const rule of this.rules) {
      if (rule.subscription.bus === 'default' && matchesPattern(rule.subscription.pattern, event)) rule.queue.send(body);
    }
  }

  /** Sends an accepted event to every rule of this bus whose pattern matches it, with the producer's detail text unchanged. */
  private route(event: EventBridgeEvent, detailText: string): void {
    this.stats.accepted++;
    this.activity++;
    if (event.source.startsWith(CLM_SOURCE_PREFIX)) this.emitted.push(event);
    let matched = 0;
    const body = eventJson(event, detailText);
    for (const rule of this.rules) {
      if (rule.subscription.bus !== 'default' && matchesPattern(rule.subscription.pattern, event)) {
        rule.queue.send(body);
        matched++;
      }
    }
    if (matched) this.stats.routed++;
    else this.stats.unmatched++;
    for (const l of this.listeners) l(event);
  }
}

/** Splits entries into PutEvents calls, in order: at most 10 entries and 256 KB per call (an oversized entry goes alone). */
export function toBatches<T extends PutEventsEntry>(entries: T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const e of entries) {
    const s = entrySize(e);
    if (current.length && (current.length === MAX_ENTRIES_PER_CALL || size + s > MAX_REQUEST_ENTRY_BYTES)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(e);
    size += s;
  }
  if (current.length) batches.push(current);
  return batches;
}
