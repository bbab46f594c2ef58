/**
 * The ports in memory: a CustomerStore with the DynamoDB adapter's semantics
 * (shared/adapters/dynamodb-customer-store.ts), and a publisher, mailer and
 * rejected-event sink that keep what they are given, and the rejection ledger. The pure pipeline
 * (run-pipeline.ts), the fast orchestration tests and the local run's
 * expectations use them; a contract test runs the same scenario on both stores
 * and finds the same results (test/integration/store-contract.test.ts).
 *
 * Semantics kept from the adapter:
 * - recordEvent(s): an event is stored once per eventId (also within one batch);
 *   the stored ones are folded into the profile in input order; results in input order;
 * - recordTrigger: once per triggerId, the first firedAt stays; markPublished keeps the first time;
 * - the send ledger: claimSend succeeds when the entry is absent, `deferred`, or a `sending` claim
 *   whose lease ran out, and the customer's ledger version is the one the decision
 *   was taken on (then it is bumped); otherwise `done` (a completed entry), `busy`
 *   (a live claim) or `stale` (the ledger moved on). markSubmitted turns `sending` into
 *   `submitted` (taken over only with `submittedTimeoutSeconds`, once it is that old; else `done`);
 *   confirmSubmitted turns `submitted` into `sent` (an SES event of the email). completeSend replaces the entry;
 *   releaseSend removes only a `sending` or `submitted` one.
 * Triggers and ledger entries are copied in and out, as a round trip through a table would.
 * Profiles are not copied (the pipeline reads hundreds of thousands): they are values the
 * fold replaces, never changes (`applyEvent` returns a new profile), so treat them as read-only.
 */
import type { BusinessEvent, EmittedDetail, EmittedDetailType } from '../events/catalog.ts';
import type { Rejection } from '../events/validate.ts';
import type { CustomerProfile } from '../customers/profile.ts';
import type { EmailMessage } from '../campaigns/messages.ts';
import type { ReportStore, StoredReportPart } from '../ports.ts';
import type {
  ClaimOptions,
  ClaimResult,
  ConsentLedger,
  LeavingLink,
  PrivacyStore,
  WinbackStore,
  CustomerStore,
  EventPublisher,
  Mailer,
  ProfileFold,
  PublishedItem,
  RecordedTrigger,
  RecordEventResult,
  RecordEventsOptions,
  RejectedEventSink,
  RejectionClaim,
  RejectionLedger,
  PutAssignmentResult,
  ScoringCustomer,
  ScoringStore,
  SegmentCursor,
  SegmentPage,
  SegmentRead,
  SendClaim,
  SendRecord,
  TriggerDecision,
} from '../ports.ts';
import { SK, customerIdFromPk, customerPk, modelSk, outreachPk, outreachSk, scoringShard } from '../data-model/keys.ts';
import type { ModelRecord } from '../scoring/fit.ts';
import type { BackfillCustomerState, BackfillEventWrite, BackfillStore, BatchResult, FailedBatch } from '../backfill/backfill.ts';
import { consentHistory, type ConsentRecord } from '../consent/ledger.ts';
import type { ErasureRecord } from '../privacy/erasure.ts';
import type { LeaverFact } from '../winback/report.ts';
import type { OutreachAssignment } from '../scoring/outreach.ts';
import type { ErasedOutreach } from '../privacy/outreach-residue.ts';
import type { ActiveTrigger } from '../scoring/risk.ts';
import type { CustomerScore } from '../scoring/score-customer.ts';

type StoredTrigger = TriggerDecision & { firedAt: string; publishedAt?: string };

type LedgerEntry = SendRecord & { leaseUntil?: number };

type Customer = {
  profile?: CustomerProfile;
  /** The profile item's version, bumped by every write. */
  version: number;
  /** Tokens of the backfill batches folded into the profile (shared/backfill). */
  backfillBatches: string[];
  /** Ids of the stored events (the EVT# items). */
  eventIds: Set<string>;
  /** Of the stored events a backfill wrote: the batch token and when. */
  backfillMarks: Map<string, { token: string; at: string }>;
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

export class InMemoryCustomerStore implements CustomerStore, BackfillStore {
  private readonly customers = new Map<string, Customer>();

  constructor(private readonly profiles: ProfileFold) {}

  private customer(customerId: string): Customer {
    let c = this.customers.get(customerId);
    if (!c) {
      c = { version: 0, backfillBatches: [], eventIds: new Set(), backfillMarks: new Map(), triggers: new Map(), sends: new Map(), ledgerVersion: 0 };
      this.customers.set(customerId, c);
    }
    return c;
  }

  async recordEvent(event: BusinessEvent, receivedAt: Date): Promise<RecordEventResult> {
    const [result] = await this.recordEvents(event.detail.customerId, [event], receivedAt);
    return result!;
  }

  /** `mayBeStored` changes nothing here: duplicates are known from the ids held, in one step. */
  async recordEvents(customerId: string, events: BusinessEvent[], _receivedAt: Date, _options?: RecordEventsOptions): Promise<RecordEventResult[]> {
    if (events.some((e) => e.detail.customerId !== customerId)) throw new Error('recordEvents takes the events of one customer');
    const c = this.customer(customerId);
    return events.map((event): RecordEventResult => {
      if (c.eventIds.has(event.detail.eventId)) return { status: 'duplicate' };
      c.eventIds.add(event.detail.eventId);
      c.profile = this.profiles.apply(c.profile ?? this.profiles.empty(customerId), event);
      c.version++;
      return { status: 'stored', profile: c.profile };
    });
  }

  // The backfill's store (shared/backfill): the same customers, as the same table holds them.
  private readonly backfillRecords = new Map<string, { results: Map<string, BatchResult>; failures: Map<string, FailedBatch> }>();

  private backfillRun(runId: string, file: string) {
    const key = `${runId}\n${file}`;
    let r = this.backfillRecords.get(key);
    if (!r) this.backfillRecords.set(key, (r = { results: new Map(), failures: new Map() }));
    return r;
  }

  async readCustomers(wanted: { customerId: string; eventIds: string[] }[]): Promise<Map<string, BackfillCustomerState>> {
    return new Map(
      wanted.map(({ customerId, eventIds }) => {
        const c = this.customers.get(customerId);
        const stored = new Map<string, { token?: string; at?: string }>();
        for (const id of eventIds) if (c?.eventIds.has(id)) stored.set(id, { ...c.backfillMarks.get(id) });
        return [customerId, { profile: c?.profile, version: c?.version ?? 0, batches: [...(c?.backfillBatches ?? [])], stored }];
      }),
    );
  }

  async writeEvents(events: BackfillEventWrite[], at: Date): Promise<void> {
    for (const { event, token } of events) {
      const c = this.customer(event.detail.customerId);
      c.eventIds.add(event.detail.eventId);
      c.backfillMarks.set(event.detail.eventId, { token, at: at.toISOString() });
    }
  }

  async writeProfile(customerId: string, profile: CustomerProfile, batches: string[], expectedVersion: number, _at?: Date): Promise<'written' | 'conflict'> {
    const c = this.customer(customerId);
    if (c.version !== expectedVersion) return 'conflict';
    c.profile = profile;
    c.backfillBatches = [...batches];
    c.version++;
    return 'written';
  }

  async recordBatch(result: BatchResult): Promise<void> {
    this.backfillRun(result.runId, result.file).results.set(result.token, copy(result));
  }

  async recordFailure(failure: FailedBatch): Promise<void> {
    this.backfillRun(failure.runId, failure.file).failures.set(failure.token, copy(failure));
  }

  async runRecords(runId: string, file: string): Promise<{ results: BatchResult[]; failures: FailedBatch[] }> {
    const r = this.backfillRun(runId, file);
    return { results: [...r.results.values()].map(copy), failures: [...r.failures.values()].map(copy) };
  }

  /** Removes everything of a customer (erasure); returns how many items of each kind the table would have held. */
  forget(customerId: string): Record<string, number> {
    const c = this.customers.get(customerId);
    this.customers.delete(customerId);
    if (!c) return {};
    const counts: Record<string, number> = { profile: c.profile ? 1 : 0, event: c.eventIds.size, trigger: c.triggers.size, send: c.sends.size + (c.ledgerVersion > 0 ? 1 : 0) };
    return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
  }

  /** Ids of the customers with a profile (what the scoring index holds). */
  customerIds(): string[] {
    return [...this.customers.entries()].filter(([, c]) => c.profile).map(([id]) => id);
  }

  /** Puts a profile as a bulk load would, without events (the nightly run's tests). */
  loadProfile(profile: CustomerProfile): void {
    this.customer(profile.customerId).profile = profile;
  }

  /** The customer's recorded triggers, as scoring reads them. */
  triggersOf(customerId: string): ActiveTrigger[] {
    return [...(this.customers.get(customerId)?.triggers.values() ?? [])].map(({ rule, action, churnRiskBoost, firedAt }) => ({ rule, action, churnRiskBoost, firedAt }));
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

  async claimSend(entry: SendClaim, now: Date, leaseSeconds: number, ledgerVersion: number, options: ClaimOptions = {}): Promise<ClaimResult> {
    const c = this.customer(entry.customerId);
    const held = c.sends.get(entry.sendId);
    const timeout = options.submittedTimeoutSeconds;
    // A deferred entry is planned again (its timer went off, or the request was redelivered); a submission
    // no SES event confirmed within the timeout was never taken by SES.
    const free =
      !held ||
      held.status === 'deferred' ||
      (held.status === 'sending' && (held.leaseUntil ?? 0) < now.getTime()) ||
      (held.status === 'submitted' && timeout !== undefined && held.at < new Date(now.getTime() - timeout * 1000).toISOString());
    if (!free) return held.status === 'sending' ? { state: 'busy' } : { state: 'done', record: sendRecord(held) };
    if (c.ledgerVersion !== ledgerVersion) return { state: 'stale' };
    c.sends.set(entry.sendId, { ...copy(entry), status: 'sending', at: now.toISOString(), leaseUntil: now.getTime() + leaseSeconds * 1000 });
    c.ledgerVersion++;
    return { state: 'claimed' };
  }

  async markSubmitted(entries: readonly { customerId: string; sendId: string }[], now: Date): Promise<void> {
    for (const { customerId, sendId } of entries) {
      const held = this.customers.get(customerId)?.sends.get(sendId);
      if (held?.status === 'sending') {
        const { leaseUntil: _, ...rest } = held;
        this.customer(customerId).sends.set(sendId, { ...rest, status: 'submitted', at: now.toISOString() });
      }
    }
  }

  async completeSend(entry: SendRecord): Promise<void> {
    this.customer(entry.customerId).sends.set(entry.sendId, copy(entry));
  }

  async confirmSubmitted(customerId: string, sendId: string, messageId: string, at: Date): Promise<boolean> {
    const held = this.customers.get(customerId)?.sends.get(sendId);
    if (held?.status !== 'submitted') return false;
    this.customer(customerId).sends.set(sendId, { ...held, status: 'sent', at: at.toISOString(), messageId, reason: 'confirmed-by-ses-event' });
    return true;
  }

  async releaseSend(customerId: string, sendId: string): Promise<void> {
    const c = this.customers.get(customerId);
    const status = c?.sends.get(sendId)?.status;
    if (status === 'sending' || status === 'submitted') c!.sends.delete(sendId);
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
  readonly rejected: { raw: string; rejection: Rejection; receivedAt: string; rejectionId: string }[] = [];

  async reject(raw: string, rejection: Rejection, receivedAt: Date, rejectionId: string): Promise<void> {
    this.rejected.push({ raw, rejection: copy(rejection), receivedAt: receivedAt.toISOString(), rejectionId });
  }
}

/**
 * The rejection ledger in memory, with the DynamoDB adapter's semantics
 * (shared/adapters/dynamodb-rejection-ledger.ts): a claim succeeds when the id is unknown or
 * its claim's lease ran out; `done` once completed; release gives back only a live claim.
 */
/** The consent ledger in memory: each record once per customer and record id (the first one stays), history oldest first. */
export class InMemoryConsentLedger implements ConsentLedger {
  private readonly records = new Map<string, Map<string, ConsentRecord>>();

  async append(records: readonly ConsentRecord[]): Promise<void> {
    for (const r of records) {
      const mine = this.records.get(r.customerId) ?? new Map<string, ConsentRecord>();
      if (!mine.has(r.recordId)) mine.set(r.recordId, copy(r));
      this.records.set(r.customerId, mine);
    }
  }

  async history(customerId: string): Promise<ConsentRecord[]> {
    return consentHistory([...(this.records.get(customerId)?.values() ?? [])]).map(copy);
  }

  /** Removes a customer's records (erasure). */
  forget(customerId: string): void {
    this.records.delete(customerId);
  }
}

/**
 * Erasure's store in memory. `forget` deletes a customer's items wherever the caller keeps them
 * (`forgetIn(store, consent)` for the in-memory store and ledger) and counts them by kind.
 */
export class InMemoryPrivacyStore implements PrivacyStore {
  readonly tombstones = new Set<string>();
  readonly suppressed = new Set<string>();
  readonly erasures: ErasureRecord[] = [];

  constructor(
    private readonly forget: (customerId: string) => Promise<Record<string, number>> = async () => ({}),
    private readonly saltValue = 'in-memory-salt',
    /** The nightly run's store, whose outreach assignments erasure replaces (none without one). */
    private readonly scoring?: InMemoryScoringStore,
  ) {}

  async outreachAssignmentsOf(customerId: string, experimentIds: readonly string[], periods: readonly string[]): Promise<OutreachAssignment[]> {
    if (!this.scoring) return [];
    const all = await Promise.all(experimentIds.flatMap((e) => periods.map((p) => this.scoring!.outreachAssignments(e, p))));
    return all.flat().filter((a) => a.customerId === customerId);
  }

  async replaceOutreachAssignment(assignment: OutreachAssignment, residue: ErasedOutreach): Promise<boolean> {
    return this.scoring?.replaceAssignment(assignment, residue) ?? false;
  }

  /** Not wired to an outreach desk (the pure pipeline routes no trigger to people): no task items to delete. */
  async deleteOutreachTasks(): Promise<number> {
    return 0;
  }

  async salt(): Promise<string> {
    return this.saltValue;
  }

  async putTombstone(customerHash: string): Promise<void> {
    this.tombstones.add(customerHash);
  }

  async tombstonesAmong(customerHashes: readonly string[]): Promise<Set<string>> {
    return new Set(customerHashes.filter((h) => this.tombstones.has(h)));
  }

  async hasTombstone(customerHash: string): Promise<boolean> {
    return this.tombstones.has(customerHash);
  }

  async suppress(emailHash: string): Promise<void> {
    this.suppressed.add(emailHash);
  }

  async isSuppressedHash(emailHash: string): Promise<boolean> {
    return this.suppressed.has(emailHash);
  }

  deletePartition(customerId: string): Promise<Record<string, number>> {
    return this.forget(customerId);
  }

  async recordErasure(record: ErasureRecord): Promise<void> {
    this.erasures.push(copy(record));
  }
}

/** The winback store in memory: links per customer, facts by id (the adapter's once-only semantics). */
export class InMemoryWinbackStore implements WinbackStore {
  readonly links = new Map<string, Map<string, LeavingLink>>();
  readonly factsById = new Map<string, LeaverFact>();
  private n = 0;

  async recordLeaving(customerId: string, leftAt: string, fact: Pick<LeaverFact, 'reasonCode' | 'inSequence'>): Promise<LeavingLink> {
    const mine = this.links.get(customerId) ?? new Map<string, LeavingLink>();
    this.links.set(customerId, mine);
    const held = mine.get(leftAt);
    if (held) return { ...held };
    const link = { customerId, leftAt, factId: `fact-${++this.n}`, leftOn: leftAt.slice(0, 10) };
    mine.set(leftAt, link);
    this.factsById.set(link.factId, { factId: link.factId, leftOn: link.leftOn, ...fact, offers: [] });
    return { ...link };
  }

  async latestLeaving(customerId: string): Promise<LeavingLink | undefined> {
    const all = [...(this.links.get(customerId)?.values() ?? [])].sort((a, b) => a.leftAt.localeCompare(b.leftAt));
    return all.at(-1) && { ...all.at(-1)! };
  }

  async updateFact(link: LeavingLink, change: Parameters<WinbackStore['updateFact']>[1]): Promise<void> {
    const f = this.factsById.get(link.factId);
    if (!f) throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    if (change.reasonCode !== undefined) f.reasonCode = change.reasonCode;
    if (change.inSequence !== undefined) f.inSequence = change.inSequence;
    if (change.offer && !f.offers.some((o) => o.step === change.offer!.step)) f.offers = [...f.offers, copy(change.offer)].sort((a, b) => a.step - b.step);
    if (change.outcome && !f.outcome) f.outcome = copy(change.outcome);
  }

  async facts(months: readonly string[]): Promise<LeaverFact[]> {
    return [...this.factsById.values()].filter((f) => months.includes(f.leftOn.slice(0, 7))).map(copy);
  }

  /** Erasure: the customer's links go, her facts stay (unlinkable). */
  forget(customerId: string): number {
    const n = this.links.get(customerId)?.size ?? 0;
    this.links.delete(customerId);
    return n;
  }
}

/** Forgets a customer in the in-memory store and consent ledger (InMemoryPrivacyStore's `forget`). */
export const forgetIn = (store: InMemoryCustomerStore, consent: InMemoryConsentLedger) => async (customerId: string): Promise<Record<string, number>> => {
  const records = (await consent.history(customerId)).length;
  consent.forget(customerId);
  return { ...store.forget(customerId), ...(records ? { consent: records } : {}) };
};

export class InMemoryRejectionLedger implements RejectionLedger {
  private readonly entries = new Map<string, { status: 'claimed' | 'done'; leaseUntil: number }>();

  async claim(rejectionId: string, now: Date, leaseSeconds: number): Promise<RejectionClaim> {
    const entry = this.entries.get(rejectionId);
    if (entry?.status === 'done') return 'done';
    if (entry && entry.leaseUntil >= now.getTime()) return 'busy';
    this.entries.set(rejectionId, { status: 'claimed', leaseUntil: now.getTime() + leaseSeconds * 1000 });
    return 'claimed';
  }

  async complete(rejectionId: string): Promise<void> {
    this.entries.set(rejectionId, { status: 'done', leaseUntil: 0 });
  }

  async release(rejectionId: string): Promise<void> {
    if (this.entries.get(rejectionId)?.status === 'claimed') this.entries.set(rejectionId, { status: 'claimed', leaseUntil: 0 });
  }
}

/**
 * The nightly run's store in memory, with the DynamoDB adapter's semantics
 * (shared/adapters/dynamodb-scoring-store.ts): a segment lists its customers' ids in key
 * order (`CUST#<id>`), a page's cursor is the last key read; the model of a run and an
 * outreach assignment are put once (the first stays); triggers are those fired at or after
 * the cut (all the customer store recorded: this store reads the in-memory customer store).
 * Scores, models and assignments are copied in and out.
 */
export class InMemoryScoringStore implements ScoringStore {
  private readonly scores = new Map<string, CustomerScore>();
  private readonly models = new Map<string, ModelRecord>();
  private readonly assignments = new Map<string, OutreachAssignment>();
  private readonly residues: ErasedOutreach[] = [];
  /** Run parts as JSON, by run and key. */
  private readonly parts = new Map<string, string>();
  private partSeq = 0;
  /** Calls made, by method, so tests can see that a quiet rerun writes nothing. */
  readonly calls = { writeScores: 0, scoresWritten: 0 };

  constructor(private readonly customers: InMemoryCustomerStore) {}

  async segmentPage(segment: string, cursor: SegmentCursor | undefined, limit: number): Promise<SegmentPage> {
    const keys = this.customers
      .customerIds()
      .filter((id) => scoringShard(id) === segment)
      .map(customerPk)
      .sort();
    const from = cursor ? keys.filter((k) => k > cursor.pk!) : keys;
    const page = from.slice(0, limit);
    const last = page.at(-1);
    return {
      customerIds: page.map(customerIdFromPk),
      ...(page.length === limit && last !== undefined && { next: { scoringShard: segment, pk: last, sk: SK.profile } }),
      consumedReadUnits: 0,
    };
  }

  async readSegment(segment: string, cursor: SegmentCursor | undefined, limit: number, options: { triggersSince?: Date; scores?: boolean; sendsSince?: Date } = {}): Promise<SegmentRead> {
    const page = await this.segmentPage(segment, cursor, limit);
    const { customers } = await this.readCustomers(page.customerIds, options.triggersSince, { scores: options.scores !== false, ...(options.sendsSince && { sendsSince: options.sendsSince }) });
    return { customers, ...(page.next && { next: page.next }), consumedReadUnits: 0 };
  }

  async readCustomers(customerIds: readonly string[], triggersSince?: Date, options: { scores?: boolean; sendsSince?: Date } = {}): Promise<{ customers: ScoringCustomer[]; consumedReadUnits: number }> {
    const customers = await Promise.all(
      customerIds.map(async (customerId): Promise<ScoringCustomer> => {
        const profile = await this.customers.getProfile(customerId);
        const stored = options.scores === false ? undefined : this.scores.get(customerId);
        const triggers = triggersSince ? this.customers.triggersOf(customerId).filter((t) => Date.parse(t.firedAt) >= triggersSince.getTime()) : [];
        const sends = options.sendsSince ? (await this.customers.recentSends(customerId, options.sendsSince)).records : undefined;
        return { customerId, ...(profile && { profile }), ...(stored && { stored: copy(stored) }), triggers, ...(sends?.length && { sends }) };
      }),
    );
    return { customers, consumedReadUnits: 0 };
  }

  async putRunPart(runId: string, name: string, part: unknown): Promise<{ key: string; consumedWriteUnits: number }> {
    const key = `${name}#${++this.partSeq}`;
    this.parts.set(`${runId}\n${key}`, JSON.stringify(part));
    return { key, consumedWriteUnits: 0 };
  }

  async getRunParts(runId: string, keys: readonly string[]): Promise<{ parts: unknown[]; consumedReadUnits: number }> {
    const parts = keys.map((key) => {
      const json = this.parts.get(`${runId}\n${key}`);
      if (json === undefined) throw new Error(`no run part ${key} of ${runId}`);
      return JSON.parse(json) as unknown;
    });
    return { parts, consumedReadUnits: 0 };
  }

  async writeScores(scores: readonly CustomerScore[]): Promise<{ consumedWriteUnits: number }> {
    this.calls.writeScores++;
    this.calls.scoresWritten += scores.length;
    for (const s of scores) this.scores.set(s.customerId, copy(s));
    return { consumedWriteUnits: 0 };
  }

  /** The stored score of a customer (for tests). */
  storedScore(customerId: string): CustomerScore | undefined {
    const s = this.scores.get(customerId);
    return s && copy(s);
  }

  async getModel(runId: string, runDate: string): Promise<ModelRecord | undefined> {
    const m = this.models.get(modelSk(runDate, runId));
    return m && copy(m);
  }

  async previousModel(runDate: string): Promise<ModelRecord | undefined> {
    const before = [...this.models.keys()].filter((k) => k < modelSk(runDate, '').slice(0, -1)).sort();
    const key = before.at(-1);
    return key === undefined ? undefined : copy(this.models.get(key)!);
  }

  async putModel(model: ModelRecord): Promise<{ model: ModelRecord; created: boolean }> {
    const key = modelSk(model.runDate, model.runId);
    const created = !this.models.has(key);
    if (created) this.models.set(key, copy(model));
    return { model: copy(this.models.get(key)!), created };
  }

  async outreachAssignments(experimentId: string, period: string): Promise<OutreachAssignment[]> {
    const pk = outreachPk(experimentId, period);
    return [...this.assignments.entries()].filter(([k]) => k.startsWith(`${pk}\n`)).map(([, a]) => copy(a));
  }

  async putOutreachAssignment(assignment: OutreachAssignment): Promise<PutAssignmentResult> {
    const key = `${outreachPk(assignment.experimentId, assignment.period)}\n${outreachSk(assignment.customerId)}`;
    const held = this.assignments.get(key);
    if (held) return { status: 'existing', assignment: copy(held) };
    this.assignments.set(key, copy(assignment));
    return { status: 'created', assignment: copy(assignment) };
  }

  async erasedOutreach(experimentId: string, period: string): Promise<ErasedOutreach[]> {
    return this.residues.filter((r) => r.experimentId === experimentId && r.period === period).map(copy);
  }

  /** Erasure (InMemoryPrivacyStore): the customer's assignment replaced by its residue; false if it is gone. */
  replaceAssignment(assignment: OutreachAssignment, residue: ErasedOutreach): boolean {
    const key = `${outreachPk(assignment.experimentId, assignment.period)}\n${outreachSk(assignment.customerId)}`;
    if (!this.assignments.delete(key)) return false;
    this.residues.push(copy(residue));
    return true;
  }

  async unpublishedOutreach(): Promise<OutreachAssignment[]> {
    return [...this.assignments.values()].filter((a) => a.group === 'treatment' && !a.publishedAt).map(copy);
  }

  async markOutreachPublished(assignment: Pick<OutreachAssignment, 'experimentId' | 'period' | 'customerId'>, at: Date): Promise<void> {
    const held = this.assignments.get(`${outreachPk(assignment.experimentId, assignment.period)}\n${outreachSk(assignment.customerId)}`);
    if (!held) throw new Error(`no outreach assignment of ${assignment.experimentId} ${assignment.period} to mark published`);
    held.publishedAt ??= at.toISOString();
  }
}

/** ReportStore in memory: the parts by run date and run id (through JSON, as the table keeps them). */
export class InMemoryReportStore implements ReportStore {
  private readonly parts = new Map<string, string>();

  async putReportPart(stored: StoredReportPart): Promise<void> {
    this.parts.set(`${stored.runDate}#${stored.runId}`, JSON.stringify(stored));
  }

  async latestReportPart(): Promise<StoredReportPart | undefined> {
    const last = [...this.parts.keys()].sort().at(-1);
    return last === undefined ? undefined : (JSON.parse(this.parts.get(last)!) as StoredReportPart);
  }
}
