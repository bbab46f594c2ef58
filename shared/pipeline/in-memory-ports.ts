/**
 * The ports in memory: a CustomerStore with the DynamoDB adapter's semantics
 * (shared/adapters/dynamodb-customer-store.ts), and a publisher, mailer and
 * rejected-event sink that keep what they are given. The pure pipeline
 * (run-pipeline.ts), the fast orchestration tests and the local run's
 * expectations use them; a contract test runs the same scenario on both stores
 * and finds the same results (test/integration/store-contract.test.ts).
 *
 * Semantics kept from the adapter:
 * - recordEvent(s): an event is stored once per eventId (also within one batch);
 *   the stored ones are folded into the profile in input order; results in input order;
 * - recordTrigger: once per triggerId, the first firedAt stays; markPublished keeps the first time;
 * - the send ledger: claimSend succeeds when the entry is absent or a `sending` claim
 *   whose lease ran out, and the customer's ledger version is the one the decision
 *   was taken on (then it is bumped); otherwise `done` (a completed entry), `busy`
 *   (a live claim) or `stale` (the ledger moved on). completeSend replaces the entry;
 *   releaseSend removes only a `sending` one.
 * Triggers and ledger entries are copied in and out, as a round trip through a table would.
 * Profiles are not copied (the pipeline reads hundreds of thousands): they are values the
 * fold replaces, never changes (`applyEvent` returns a new profile), so treat them as read-only.
 */
import type { BusinessEvent, EmittedDetail, EmittedDetailType } from '../events/catalog.ts';
import type { Rejection } from '../events/validate.ts';
import type { CustomerProfile } from '../customers/profile.ts';
import type { EmailMessage } from '../campaigns/messages.ts';
import type {
  ClaimResult,
  CustomerStore,
  EventPublisher,
  Mailer,
  ProfileFold,
  PublishedItem,
  RecordedTrigger,
  RecordEventResult,
  RejectedEventSink,
  SendClaim,
  SendRecord,
  TriggerDecision,
} from '../ports.ts';

type StoredTrigger = TriggerDecision & { firedAt: string; publishedAt?: string };

type LedgerEntry = SendRecord & { leaseUntil?: number };

type Customer = {
  profile?: CustomerProfile;
  /** Ids of the stored events (the EVT# items). */
  eventIds: Set<string>;
  triggers: Map<string, StoredTrigger>;
  sends: Map<string, LedgerEntry>;
  ledgerVersion: number;
};

const copy = <T>(value: T): T => structuredClone(value);

/** Only the ledger fields, as the adapter reads them back (no lease). */
function sendRecord(e: LedgerEntry): SendRecord {
  const { leaseUntil: _, ...record } = e;
  return copy(record);
}

export class InMemoryCustomerStore implements CustomerStore {
  private readonly customers = new Map<string, Customer>();

  constructor(private readonly profiles: ProfileFold) {}

  private customer(customerId: string): Customer {
    let c = this.customers.get(customerId);
    if (!c) {
      c = { eventIds: new Set(), triggers: new Map(), sends: new Map(), ledgerVersion: 0 };
      this.customers.set(customerId, c);
    }
    return c;
  }

  async recordEvent(event: BusinessEvent, receivedAt: Date): Promise<RecordEventResult> {
    const [result] = await this.recordEvents(event.detail.customerId, [event], receivedAt);
    return result!;
  }

  async recordEvents(customerId: string, events: BusinessEvent[], _receivedAt: Date): Promise<RecordEventResult[]> {
    if (events.some((e) => e.detail.customerId !== customerId)) throw new Error('recordEvents takes the events of one customer');
    const c = this.customer(customerId);
    return events.map((event): RecordEventResult => {
      if (c.eventIds.has(event.detail.eventId)) return { status: 'duplicate' };
      c.eventIds.add(event.detail.eventId);
      c.profile = this.profiles.apply(c.profile ?? this.profiles.empty(customerId), event);
      return { status: 'stored', profile: c.profile };
    });
  }

  async getProfile(customerId: string): Promise<CustomerProfile | undefined> {
    return this.customers.get(customerId)?.profile;
  }

  async getTrigger(customerId: string, triggerId: string): Promise<RecordedTrigger | undefined> {
    const t = this.customers.get(customerId)?.triggers.get(triggerId);
    return t && { firedAt: t.firedAt, published: t.publishedAt !== undefined };
  }

  async recordTrigger(trigger: TriggerDecision, firedAt: Date): Promise<RecordedTrigger> {
    const c = this.customer(trigger.customerId);
    if (!c.triggers.has(trigger.triggerId)) c.triggers.set(trigger.triggerId, { ...copy(trigger), firedAt: firedAt.toISOString() });
    return (await this.getTrigger(trigger.customerId, trigger.triggerId))!;
  }

  async markPublished(customerId: string, item: PublishedItem, at: Date): Promise<void> {
    const c = this.customers.get(customerId);
    const entry = item.kind === 'trigger' ? c?.triggers.get(item.triggerId) : c?.sends.get(item.sendId);
    // The adapter's update is conditional on the item existing.
    if (!entry) throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    entry.publishedAt ??= at.toISOString();
  }

  async recentSends(customerId: string, since: Date): Promise<{ records: SendRecord[]; ledgerVersion: number }> {
    const c = this.customers.get(customerId);
    if (!c) return { records: [], ledgerVersion: 0 };
    const from = since.toISOString();
    // In sort-key order, as a Query returns them.
    const records = [...c.sends.values()].filter((e) => e.at >= from).sort((a, b) => (a.sendId < b.sendId ? -1 : 1)).map(sendRecord);
    return { records, ledgerVersion: c.ledgerVersion };
  }

  async claimSend(entry: SendClaim, now: Date, leaseSeconds: number, ledgerVersion: number): Promise<ClaimResult> {
    const c = this.customer(entry.customerId);
    const held = c.sends.get(entry.sendId);
    const free = !held || (held.status === 'sending' && (held.leaseUntil ?? 0) < now.getTime());
    if (!free) return held.status === 'sending' ? { state: 'busy' } : { state: 'done', record: sendRecord(held) };
    if (c.ledgerVersion !== ledgerVersion) return { state: 'stale' };
    c.sends.set(entry.sendId, { ...copy(entry), status: 'sending', at: now.toISOString(), leaseUntil: now.getTime() + leaseSeconds * 1000 });
    c.ledgerVersion++;
    return { state: 'claimed' };
  }

  async completeSend(entry: SendRecord): Promise<void> {
    this.customer(entry.customerId).sends.set(entry.sendId, copy(entry));
  }

  async releaseSend(customerId: string, sendId: string): Promise<void> {
    const c = this.customers.get(customerId);
    if (c?.sends.get(sendId)?.status === 'sending') c.sends.delete(sendId);
  }
}

export type Published = { [T in EmittedDetailType]: { detailType: T; detail: EmittedDetail<T> } }[EmittedDetailType];

/** Keeps what is published, in order, and tells listeners (the in-memory bus rules). */
export class InMemoryEventPublisher implements EventPublisher {
  readonly published: Published[] = [];
  private readonly listeners = new Set<(e: Published) => void>();

  onPublished(listener: (e: Published) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish<T extends EmittedDetailType>(events: { detailType: T; detail: EmittedDetail<T> }[]): Promise<void> {
    for (const e of events) {
      const entry = copy(e) as unknown as Published;
      this.published.push(entry);
      for (const l of this.listeners) l(copy(entry));
    }
  }

  /** The published details of one type. */
  ofType<T extends EmittedDetailType>(detailType: T): EmittedDetail<T>[] {
    return this.published.filter((e) => e.detailType === detailType).map((e) => e.detail as EmittedDetail<T>);
  }
}

/** Keeps every email it is asked to send; message ids are `mem-1`, `mem-2`, … */
export class InMemoryMailer implements Mailer {
  readonly sent: { to: string; message: EmailMessage; messageId: string }[] = [];

  async send(input: { to: string; message: EmailMessage }): Promise<{ messageId: string }> {
    const messageId = `mem-${this.sent.length + 1}`;
    this.sent.push({ ...copy(input), messageId });
    return { messageId };
  }
}

/** Keeps every rejected event with its reason. */
export class InMemoryRejectedEventSink implements RejectedEventSink {
  readonly rejected: { raw: string; rejection: Rejection; receivedAt: string }[] = [];

  async reject(raw: string, rejection: Rejection, receivedAt: Date): Promise<void> {
    this.rejected.push({ raw, rejection: copy(rejection), receivedAt: receivedAt.toISOString() });
  }
}
