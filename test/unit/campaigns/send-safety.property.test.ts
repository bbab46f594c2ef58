/**
 * The safety property of the delivery path (fast-check): whatever the sequence of consent
 * changes, suppressions and erasures, duplicate requests, deferrals to the customer's hour
 * (and their timers going off), throttled SES calls, workers dying between the SES call
 * and the record (or just before the call), and SES's events of the emails arriving early or
 * late (but within the reconciliation timeout), no email reaches someone who may not get it at
 * the moment it goes, and no send goes twice. Runs sendBatch (and so the guardrails, the ledger,
 * the bulk retries and the reconciliation of `submitted` entries) on the in-memory store, with a
 * fake SES that checks each email against the model and publishes a Send event for each it takes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sendBatch, type BatchDeps } from '../../../shared/campaigns/send-batch.ts';
import type { CampaignRequest } from '../../../shared/campaigns/requests.ts';
import type { SendPolicy } from '../../../shared/campaigns/guardrails.ts';
import { emailAddressHash } from '../../../shared/customers/profile.ts';
import type { BulkEntry, BulkEntryResult, BulkMailer, Mailer } from '../../../shared/ports.ts';
import { businessEvent } from '../../support/events.ts';
import { MemoryCustomerStore } from '../../support/memory-store.ts';

const CUSTOMERS = ['p-0', 'p-1', 'p-2'] as const;
const CAMPAIGNS = ['cross-sell', 'statement', 'welcome'] as const;
const purposeOf = { 'cross-sell': 'marketing', statement: 'transactional', welcome: 'service' } as const;

type Op =
  | { kind: 'consent'; customer: number; granted: boolean }
  | { kind: 'suppress'; customer: number; reason: 'hard-bounce' | 'complaint' }
  | { kind: 'erase'; customer: number }
  | { kind: 'request'; customer: number; campaign: (typeof CAMPAIGNS)[number]; id: number }
  | { kind: 'tick'; hours: number }
  | { kind: 'timers' }
  | { kind: 'throttleNext'; calls: number }
  | { kind: 'crashNext' }
  | { kind: 'crashBeforeCall' }
  | { kind: 'sesEvents' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('consent' as const), customer: fc.nat(2), granted: fc.boolean() }),
  fc.record({ kind: fc.constant('suppress' as const), customer: fc.nat(2), reason: fc.constantFrom('hard-bounce' as const, 'complaint' as const) }),
  fc.record({ kind: fc.constant('erase' as const), customer: fc.nat(2) }),
  fc.record({ kind: fc.constant('request' as const), customer: fc.nat(2), campaign: fc.constantFrom(...CAMPAIGNS), id: fc.nat(3) }),
  fc.record({ kind: fc.constant('request' as const), customer: fc.nat(2), campaign: fc.constantFrom(...CAMPAIGNS), id: fc.nat(3) }),
  fc.record({ kind: fc.constant('tick' as const), hours: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('timers' as const) }),
  fc.record({ kind: fc.constant('throttleNext' as const), calls: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('crashNext' as const) }),
  fc.record({ kind: fc.constant('crashBeforeCall' as const) }),
  fc.record({ kind: fc.constant('sesEvents' as const) }),
);

/** The customer and send id an email is for: from the token of its preferences link (base64url of customer id, newline, send id). */
function whoAndWhat(entry: BulkEntry): { customerId: string; sendId: string } {
  const token = /\/u\/([A-Za-z0-9_-]+)\?preferences/.exec(entry.message.text)![1]!;
  const [customerId, sendId] = Buffer.from(token, 'base64url').toString('utf8').split('\n') as [string, string];
  return { customerId, sendId };
}

async function run(ops: Op[], startHour: number): Promise<void> {
  const store = new MemoryCustomerStore();
  let now = new Date(Date.UTC(2026, 10, 2, startHour));
  const flags = new Map<string, { suppression?: 'hard-bounce' | 'complaint'; erasedAt?: string }>();
  const consent = new Map<string, boolean | undefined>();
  // Suppression and erasure as the feedback and erasure paths set them on the profile.
  const getProfile = store.getProfile.bind(store);
  store.getProfile = async (id) => {
    const p = await getProfile(id);
    const f = flags.get(id);
    if (!p || !f) return p;
    // As SES feedback records a suppression: by the hash of the address it concerned.
    const suppressions = f.suppression && p.email ? { emailSuppressions: { [emailAddressHash(p.email.value)]: { value: f.suppression, at: now.toISOString(), by: 'fb' } } } : {};
    return { ...p, ...suppressions, ...(f.erasedAt && { erasedAt: f.erasedAt }) };
  };
  let stamp = 0;
  const occurred = () => new Date(now.getTime() - 1000 + stamp++).toISOString();
  for (const [i, id] of CUSTOMERS.entries()) {
    await store.recordEvents(id, [businessEvent('CustomerProfileUpdated', { customerId: id, email: `${id}@example.com`, timeZone: 'UTC', preferredHour: i === 2 ? 10 : undefined, occurredAt: occurred() })], now);
  }

  const delivered = new Set<string>();
  // Violations are collected, not thrown: the send path would take a throw for an SES error.
  const violations: string[] = [];
  const check = (ok: boolean, what: string) => void (ok || violations.push(what));
  let throttle = 0;
  let crash = false;
  let crashBeforeCall = false;
  // SES's Send events of the emails it took, not yet delivered to the feedback path.
  const sesEvents: { customerId: string; sendId: string; messageId: string }[] = [];
  const deliverSesEvents = async () => {
    for (const e of sesEvents.splice(0)) await store.confirmSubmitted(e.customerId, e.sendId, e.messageId, now);
  };
  const bulk: BulkMailer = {
    maxEntries: 2,
    sendBulk: async (entries): Promise<BulkEntryResult[]> => {
      if (throttle > 0) {
        throttle--;
        throw Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
      }
      return entries.map((e, j) => {
        const { customerId, sendId } = whoAndWhat(e);
        const campaign = sendId.split('#')[0] as (typeof CAMPAIGNS)[number];
        // The property, checked as each email goes out:
        check(!delivered.has(`${customerId}/${sendId}`), `${customerId}/${sendId} sent twice`);
        check(flags.get(customerId)?.erasedAt === undefined, `email to erased ${customerId}`);
        check(flags.get(customerId)?.suppression === undefined, `email to suppressed ${customerId}`);
        if (purposeOf[campaign] === 'marketing') check(consent.get(customerId) === true, `marketing to ${customerId} without consent`);
        if (purposeOf[campaign] === 'service') check(consent.get(customerId) !== false, `welcome to ${customerId} who refused`);
        if (purposeOf[campaign] === 'transactional' && consent.get(customerId) !== true) check(!e.message.text.includes('**'), `offer block to ${customerId} without consent`);
        const hour = now.getUTCHours();
        if (customerId === 'p-2' && purposeOf[campaign] === 'marketing') check(hour === 10, `${sendId} outside the preferred hour (${hour}:00)`);
        else check(hour >= 8 && hour < 21, `${sendId} in the quiet hours (${hour}:00)`);
        delivered.add(`${customerId}/${sendId}`);
        const messageId = `m-${delivered.size}-${j}`;
        sesEvents.push({ customerId, sendId, messageId });
        return { status: 'sent', messageId };
      });
    },
  };
  const timers: { request: CampaignRequest; at: number }[] = [];
  const policy: SendPolicy = { controlGroupPercent: 0, controlGroupExperiment: 'v1', frequencyCapPerWeek: 50, cooldownDays: { 'cross-sell': 0, welcome: 0 }, holdoutPercent: 0, quietHours: { startHour: 21, endHour: 8 } };
  const noSingle: Mailer = { send: async () => Promise.reject(new Error('bulk only')) };
  const deps = (): BatchDeps => {
    const d: BatchDeps = {
      store,
      mailer: noSingle,
      publisher: { publish: async () => {} },
      now: () => now,
      links: { unsubscribeBaseUrl: 'https://x.test/u', helpBaseUrl: 'https://x.test/learn' },
      policy,
      leaseSeconds: 60,
      bulkMailer: bulk,
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, retryLaterMinutes: 30 },
      sleep: async () => {},
      deferred: { defer: async (request, at) => void timers.push({ request, at: at.getTime() }) },
    };
    if (crash) {
      crash = false;
      // The worker dies right after SES took the emails: no record of the outcome.
      const dying = Object.create(store) as MemoryCustomerStore;
      dying.completeSend = async (r) => (r.status === 'sent' ? Promise.reject(new Error('worker died')) : store.completeSend(r));
      d.store = dying;
    }
    if (crashBeforeCall) {
      crashBeforeCall = false;
      // The worker dies after marking its entries submitted, before SES gets the call.
      const mailer = d.bulkMailer;
      d.bulkMailer = { maxEntries: mailer.maxEntries, sendBulk: async () => Promise.reject(new Error('worker died')) };
      const dying = Object.create(d.store) as MemoryCustomerStore;
      dying.releaseSend = async () => Promise.reject(new Error('worker died'));
      d.store = dying;
    }
    return d;
  };
  const send = async (requests: CampaignRequest[]) => {
    // A dead worker's batch fails; SQS delivers it again later.
    const outcomes = await sendBatch(requests, deps()).catch((e: Error) => {
      check(e.message === 'worker died', `unexpected error ${e.message}`);
      return [];
    });
    for (const o of outcomes) if (o.outcome === 'failed' && o.error.message !== 'worker died') check(false, `unexpected failure ${o.error.message}`);
  };
  const requestsSeen: CampaignRequest[] = [];

  for (const o of ops) {
    const id = o.kind === 'consent' || o.kind === 'suppress' || o.kind === 'erase' || o.kind === 'request' ? CUSTOMERS[o.customer]! : '';
    switch (o.kind) {
      case 'consent':
        consent.set(id, o.granted);
        await store.recordEvents(id, [businessEvent('ConsentChanged', { customerId: id, granted: o.granted, occurredAt: occurred() })], now);
        break;
      case 'suppress':
        flags.set(id, { ...flags.get(id), suppression: o.reason });
        break;
      case 'erase':
        flags.set(id, { ...flags.get(id), erasedAt: now.toISOString() });
        break;
      case 'request': {
        const request: CampaignRequest = {
          requestId: `r${o.id}`,
          customerId: id,
          campaign: o.campaign,
          source: 'event',
          rule: '',
          ...(o.campaign === 'statement' ? { document: { kind: 'statement' as const, number: `S${o.id}`, amount: 1, currency: 'EUR' } } : {}),
        };
        requestsSeen.push(request);
        // Sometimes delivered twice in one batch, always possibly again later (redelivery).
        await send(o.id % 2 === 0 ? [request, request] : [request]);
        break;
      }
      case 'tick':
        // SES's events arrive within the reconciliation timeout (3 hours): before the clock moves an hour or more.
        await deliverSesEvents();
        now = new Date(now.getTime() + o.hours * 3600_000);
        break;
      case 'sesEvents':
        await deliverSesEvents();
        break;
      case 'crashBeforeCall':
        crashBeforeCall = true;
        break;
      case 'timers': {
        const due = timers.filter((t) => t.at <= now.getTime());
        for (const t of due) timers.splice(timers.indexOf(t), 1);
        await send(due.map((t) => t.request));
        break;
      }
      case 'throttleNext':
        throttle = o.calls;
        break;
      case 'crashNext':
        crash = true;
        break;
    }
  }
  // Redeliver everything once more, late: still nothing twice.
  await deliverSesEvents();
  now = new Date(now.getTime() + 3 * 86_400_000);
  await send(requestsSeen);
  expect(violations).toEqual([]);
}

describe('delivery safety (property)', () => {
  it('no sequence of consent changes, suppressions, duplicates, deferrals, throttling and crashes sends to someone who may not get it, or twice', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 23 }), async (ops, hour) => run(ops, hour)),
      { numRuns: 150 },
    );
  }, 120_000);
});
