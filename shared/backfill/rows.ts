/**
 * The business data files a backfill (and `npm start -- --import DIR`) reads: one CSV file per
 * kind of record (customers.csv, orders.csv, …; the format is in docs/local.md), and JSON Lines
 * of bus events. Pure: a row in, catalog events or a reason out. Every event is validated with
 * the event catalog, as ingest validates what comes from the bus.
 */
import { describeIssues } from '../events/validate.ts';
import { inboundSchemas, type InboundDetailType } from '../events/catalog.ts';

export type Row = Record<string, string>;
export type Mapped = { type: InboundDetailType; at: string; fields: Record<string, unknown>; idKey: string };
export type FileSpec = {
  source: string;
  required: string[];
  optional: string[];
  /** One row → one or more events. Throws `Error` with a reason for a bad value. */
  map: (row: Row) => Mapped[];
};

// Value parsers: throw with a reason a person can act on.
const str = (row: Row, k: string) => {
  const v = row[k]?.trim();
  if (!v) throw new Error(`${k} is empty`);
  return v;
};
export const opt = (row: Row, k: string) => (row[k]?.trim() ? row[k].trim() : undefined);
const num = (row: Row, k: string) => {
  const v = str(row, k);
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${k} "${v}" is not a number`);
  return n;
};
const optNum = (row: Row, k: string) => (opt(row, k) === undefined ? undefined : num(row, k));
const bool = (row: Row, k: string) => {
  const v = str(row, k).toLowerCase();
  if (['true', 'yes', 'y', '1'].includes(v)) return true;
  if (['false', 'no', 'n', '0'].includes(v)) return false;
  throw new Error(`${k} "${row[k]}" is not true/false`);
};
const optBool = (row: Row, k: string) => (opt(row, k) === undefined ? undefined : bool(row, k));
/** ISO 8601 timestamp with offset, or a date (midnight UTC). */
const time = (row: Row, k: string) => {
  const v = str(row, k);
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return `${v}T00:00:00Z`;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new Error(`${k} "${v}" is not an ISO 8601 timestamp with offset (e.g. 2025-03-01T10:00:00Z) or a date (2025-03-01)`);
  }
  return v;
};
export const compact = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The accepted files, their columns and the events each row becomes. */
export const CSV_FILES: Record<string, FileSpec> = {
  'customers.csv': {
    source: 'com.example.crm',
    required: ['customer_id', 'updated_at'],
    optional: ['email', 'first_name', 'locale', 'time_zone', 'preferred_channel', 'preferred_hour', 'customer_type', 'event_id'],
    map: (r) => [
      {
        type: 'CustomerProfileUpdated',
        at: time(r, 'updated_at'),
        idKey: `${str(r, 'customer_id')}:${r.updated_at}`,
        fields: compact({
          email: opt(r, 'email'),
          firstName: opt(r, 'first_name'),
          locale: opt(r, 'locale'),
          timeZone: opt(r, 'time_zone'),
          preferredChannel: opt(r, 'preferred_channel'),
          preferredHour: optNum(r, 'preferred_hour'),
          customerType: opt(r, 'customer_type'),
        }),
      },
    ],
  },
  'consents.csv': {
    source: 'com.example.crm',
    required: ['customer_id', 'channel', 'granted', 'changed_at'],
    optional: ['purpose', 'event_id'],
    map: (r) => [
      {
        type: 'ConsentChanged',
        at: time(r, 'changed_at'),
        idKey: `${str(r, 'customer_id')}:${r.channel}:${r.purpose ?? ''}:${r.changed_at}`,
        fields: compact({ channel: str(r, 'channel'), purpose: opt(r, 'purpose'), granted: bool(r, 'granted') }),
      },
    ],
  },
  'subscriptions.csv': {
    source: 'com.example.billing',
    required: ['customer_id', 'subscription_id', 'product_id', 'event', 'occurred_at'],
    optional: ['plan', 'monthly_price', 'currency', 'change', 'reason', 'allow_winback_contact', 'event_id'],
    map: (r) => {
      const event = str(r, 'event').toLowerCase();
      const base = { subscriptionId: str(r, 'subscription_id'), productId: str(r, 'product_id') };
      const at = time(r, 'occurred_at');
      const idKey = `${r.subscription_id}:${event}:${r.occurred_at}`;
      if (event === 'started') {
        return [{ type: 'SubscriptionStarted', at, idKey, fields: { ...base, plan: opt(r, 'plan'), monthlyPrice: optNum(r, 'monthly_price'), currency: opt(r, 'currency') } }];
      }
      if (event === 'changed') {
        return [{ type: 'SubscriptionChanged', at, idKey, fields: { ...base, plan: opt(r, 'plan'), monthlyPrice: optNum(r, 'monthly_price'), currency: opt(r, 'currency'), change: opt(r, 'change') ?? 'other' } }];
      }
      if (event === 'cancelled' || event === 'canceled') {
        return [{ type: 'SubscriptionCancelled', at, idKey, fields: { ...base, reason: opt(r, 'reason'), allowWinbackContact: optBool(r, 'allow_winback_contact') } }];
      }
      throw new Error(`event "${r.event}" is not one of started, changed, cancelled`);
    },
  },
  'orders.csv': {
    source: 'com.example.orders',
    required: ['customer_id', 'order_id', 'amount', 'currency', 'placed_at'],
    optional: ['status', 'status_at', 'event_id'],
    map: (r) => {
      const out: Mapped[] = [
        { type: 'OrderPlaced', at: time(r, 'placed_at'), idKey: `${str(r, 'order_id')}:placed`, fields: { orderId: str(r, 'order_id'), amount: num(r, 'amount'), currency: str(r, 'currency') } },
      ];
      const status = opt(r, 'status');
      if (status && status !== 'placed') {
        out.push({ type: 'OrderStatusChanged', at: r.status_at?.trim() ? time(r, 'status_at') : time(r, 'placed_at'), idKey: `${r.order_id}:${status}`, fields: { orderId: r.order_id.trim(), status } });
      }
      return out;
    },
  },
  'order_status.csv': {
    source: 'com.example.orders',
    required: ['customer_id', 'order_id', 'status', 'changed_at'],
    optional: ['event_id'],
    map: (r) => [{ type: 'OrderStatusChanged', at: time(r, 'changed_at'), idKey: `${str(r, 'order_id')}:${r.status}:${r.changed_at}`, fields: { orderId: str(r, 'order_id'), status: str(r, 'status') } }],
  },
  'returns.csv': {
    source: 'com.example.orders',
    required: ['customer_id', 'order_id', 'amount', 'currency', 'returned_at'],
    optional: ['reason', 'event_id'],
    map: (r) => [
      { type: 'OrderReturned', at: time(r, 'returned_at'), idKey: `${str(r, 'order_id')}:returned:${r.returned_at}`, fields: compact({ orderId: str(r, 'order_id'), amount: num(r, 'amount'), currency: str(r, 'currency'), reason: opt(r, 'reason') }) },
    ],
  },
  'invoices.csv': {
    source: 'com.example.billing',
    required: ['customer_id', 'invoice_id', 'amount', 'currency', 'issued_at'],
    optional: ['kind', 'due_date', 'event_id'],
    map: (r) => [
      {
        type: 'InvoiceIssued',
        at: time(r, 'issued_at'),
        idKey: `${str(r, 'invoice_id')}:issued`,
        fields: compact({ invoiceId: str(r, 'invoice_id'), kind: opt(r, 'kind'), amount: num(r, 'amount'), currency: str(r, 'currency'), dueDate: opt(r, 'due_date') }),
      },
    ],
  },
  'usage.csv': {
    source: 'com.example.usage',
    required: ['customer_id', 'product_id', 'quantity', 'unit', 'recorded_at'],
    optional: ['event_id'],
    map: (r) => [
      { type: 'UsageRecorded', at: time(r, 'recorded_at'), idKey: `${str(r, 'customer_id')}:${str(r, 'product_id')}:${r.recorded_at}`, fields: { productId: r.product_id.trim(), quantity: num(r, 'quantity'), unit: str(r, 'unit') } },
    ],
  },
  'product_adoptions.csv': {
    source: 'com.example.usage',
    required: ['customer_id', 'product_id', 'adopted_at'],
    optional: ['event_id'],
    map: (r) => [{ type: 'ProductAdopted', at: time(r, 'adopted_at'), idKey: `${str(r, 'customer_id')}:${str(r, 'product_id')}:adopted`, fields: { productId: r.product_id.trim() } }],
  },
  'support_calls.csv': {
    source: 'com.example.support',
    required: ['customer_id', 'call_id', 'reason', 'logged_at'],
    optional: ['channel', 'resolved_at', 'resolution_minutes', 'resolved', 'event_id'],
    map: (r) => {
      const callId = str(r, 'call_id');
      const out: Mapped[] = [{ type: 'SupportCallLogged', at: time(r, 'logged_at'), idKey: `${callId}:logged`, fields: compact({ callId, reason: str(r, 'reason'), channel: opt(r, 'channel') }) }];
      if (opt(r, 'resolved_at') || opt(r, 'resolution_minutes')) {
        const loggedAt = Date.parse(time(r, 'logged_at'));
        const resolvedAt = opt(r, 'resolved_at') ? time(r, 'resolved_at') : undefined;
        const minutes = optNum(r, 'resolution_minutes') ?? Math.round((Date.parse(resolvedAt!) - loggedAt) / 60_000);
        if (minutes < 0) throw new Error('resolved_at is before logged_at');
        out.push({
          type: 'SupportCallResolved',
          at: resolvedAt ?? new Date(loggedAt + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          idKey: `${callId}:resolved`,
          fields: compact({ callId, resolutionMinutes: minutes, resolved: optBool(r, 'resolved') }),
        });
      }
      return out;
    },
  },
  'payments_failed.csv': {
    source: 'com.example.billing',
    required: ['customer_id', 'payment_id', 'amount', 'currency', 'failed_at'],
    optional: ['reason', 'event_id'],
    map: (r) => [
      { type: 'PaymentFailed', at: time(r, 'failed_at'), idKey: `${str(r, 'payment_id')}:failed`, fields: compact({ paymentId: str(r, 'payment_id'), amount: num(r, 'amount'), currency: str(r, 'currency'), reason: opt(r, 'reason') }) },
    ],
  },
};


/** A bus event as a producer would put it (the envelope ingest validates), built from a row. */
export type InboundEnvelope = { source: string; 'detail-type': InboundDetailType; detail: Record<string, unknown> };

export type RowEvents = { ok: true; events: InboundEnvelope[] } | { ok: false; reason: string };

/** The spec of a CSV file by its name (any directory, any case), if it is one of CSV_FILES. */
export function csvSpecOf(fileName: string): FileSpec | undefined {
  const base = fileName.split('/').pop()!.toLowerCase();
  return Object.hasOwn(CSV_FILES, base) ? CSV_FILES[base] : undefined;
}

/** Problems with a CSV file's header: a missing column fails the file, an unknown one is only reported. */
export function checkCsvHeader(fileName: string, columns: string[]): { missing: string[]; unknown: string[] } | { notAFile: string } {
  const spec = csvSpecOf(fileName);
  if (!spec) return { notAFile: `unknown file; expected one of: ${Object.keys(CSV_FILES).join(', ')}` };
  const cols = columns.map((c) => c.trim().toLowerCase());
  return { missing: spec.required.filter((c) => !cols.includes(c)), unknown: cols.filter((c) => !spec.required.includes(c) && !spec.optional.includes(c)) };
}

/**
 * One CSV row (column name → text, as the header names them; names are matched without case
 * and surrounding blanks) as the catalog events it stands for, each checked against its
 * schema. Event ids are the row's `event_id` (suffixed `#1`, `#2` when a row makes two events)
 * or derived from what the row is about, so importing the same row again gives the same ids.
 */
export function csvRowEvents(fileName: string, cells: Record<string, string>): RowEvents {
  const spec = csvSpecOf(fileName);
  if (!spec) return { ok: false, reason: `unknown file; expected one of: ${Object.keys(CSV_FILES).join(', ')}` };
  const row: Row = Object.fromEntries(Object.entries(cells).map(([k, v]) => [k.trim().toLowerCase(), typeof v === 'string' ? v : String(v ?? '')]));
  let mapped: Mapped[];
  try {
    mapped = spec.map(row);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const customerId = (row.customer_id ?? '').trim();
  const explicitId = opt(row, 'event_id');
  const events: InboundEnvelope[] = [];
  for (const [k, m] of mapped.entries()) {
    const eventId = explicitId ? (mapped.length > 1 ? `${explicitId}#${k + 1}` : explicitId) : `csv:${m.type}:${m.idKey}`.slice(0, 128);
    const detail = { eventId, customerId, occurredAt: m.at, ...compact(m.fields) };
    const parsed = inboundSchemas[m.type].safeParse(detail);
    if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error) };
    events.push({ source: spec.source, 'detail-type': m.type, detail });
  }
  return { ok: true, events };
}
