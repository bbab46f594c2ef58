/**
 * The ports the domain services use to reach the outside world. Adapters in
 * `shared/adapters/` implement them with the AWS SDK; tests may implement
 * them in memory. Nothing else in `shared/` imports an AWS SDK.
 */
import type { BusinessEvent, ChurnTriggerFired, EmittedDetail, EmittedDetailType } from './events/catalog.ts';
import type { Rejection } from './events/validate.ts';
import type { CustomerProfile } from './customers/profile.ts';
import type { EmailMessage } from './campaigns/messages.ts';
import type { ActiveTrigger } from './scoring/risk.ts';
import type { CustomerScore } from './scoring/score-customer.ts';
import type { StoredScore } from './scoring/score-diff.ts';
import type { ModelRecord } from './scoring/fit.ts';
import type { OutreachAssignment } from './scoring/outreach.ts';
import type { ErasedOutreach } from './privacy/outreach-residue.ts';
import type { ConsentRecord } from './consent/ledger.ts';
import type { ErasureRecord } from './privacy/erasure.ts';
import type { LeaverFact } from './winback/report.ts';
import type { KeyRing } from './pages/tokens.ts';
import type { ReportPart } from './report/aggregate.ts';
import type { DeliverabilityCount, DeliverabilityFigures } from './campaigns/circuit-breaker.ts';

/** A trigger the rules decided to fire, before it is recorded (`firedAt`) and published. */
export type TriggerDecision = Omit<ChurnTriggerFired, 'firedAt' | 'schemaVersion'>;

/** What the store knows of a recorded trigger. */
export type RecordedTrigger = { firedAt: string; published: boolean };

/** One entry of the send ledger (see docs/data-model.md). */
export type SendRecord = {
  sendId: string;
  customerId: string;
  campaign: string;
  /**
   * `sending`: claimed, the email is about to go; `sent`; `skipped` (with the reason: a guardrail,
   * a template that failed to render); `control` (held out); `deferred`: planned again at
   * `deferredUntil` (a durable timer); `parked`: could not be sent (SES refused it for good),
   * with the reason; `submitted`: handed to SES and not yet recorded — if it stays so, the
   * worker died between the SES call and the record, so the email may have gone: it is never
   * sent again until SES's events confirm it (`sent`) or the reconciliation timeout shows SES never
   * took it (claimed again; docs/campaigns.md, "Exactly once").
   */
  status: 'sending' | 'submitted' | 'sent' | 'skipped' | 'control' | 'deferred' | 'parked';
  /** When the status was reached (ISO, UTC). */
  at: string;
  reason?: string;
  messageId?: string;
  /** A deferred send: when it is planned again. */
  deferredUntil?: string;
  /** When the outcome event (EmailSent / EmailSkipped) was put on the bus. */
  publishedAt?: string;
};

/**
 * `submittedTimeoutSeconds`: a `submitted` entry this much older than `now` (with no SES event
 * confirming it meanwhile) is known not to have been taken by SES and may be claimed again
 * (docs/campaigns.md, "Exactly once"). Unset: a `submitted` entry is never taken over.
 */
export type ClaimOptions = { submittedTimeoutSeconds?: number };

/** The send a worker claims before the email goes out. */
export type SendClaim = { sendId: string; customerId: string; campaign: string };

export type ClaimResult = { state: 'claimed' } | { state: 'busy' } | { state: 'stale' } | { state: 'done'; record: SendRecord };

/** An item whose event is on the bus once published: a fired trigger (ChurnTriggerFired) or a send (EmailSent / EmailSkipped). */
export type PublishedItem = { kind: 'trigger'; triggerId: string } | { kind: 'send'; sendId: string };

/** How profiles are built from events; the store applies it inside its transaction. */
export type ProfileFold = {
  empty: (customerId: string) => CustomerProfile;
  apply: (profile: CustomerProfile, event: BusinessEvent) => CustomerProfile;
};

export type RecordEventResult = { status: 'stored'; profile: CustomerProfile } | { status: 'duplicate' };

/** How `CustomerStore.recordEvents` may write: `mayBeStored`, the events come from a redelivery. */
export type RecordEventsOptions = { mayBeStored?: boolean };

export interface CustomerStore {
  /** Stores the event once (keyed on its eventId) and folds it into the profile, atomically. */
  recordEvent(event: BusinessEvent, receivedAt: Date): Promise<RecordEventResult>;
  /**
   * The same for several events of one customer at once (one read, one write per chunk); results in input order.
   * `mayBeStored`: a redelivery (an earlier attempt may have stored some of them): the store first looks which are
   * there, so that those are not written again, instead of learning it from a failed conditional write.
   */
  recordEvents(customerId: string, events: BusinessEvent[], receivedAt: Date, options?: RecordEventsOptions): Promise<RecordEventResult[]>;
  getProfile(customerId: string): Promise<CustomerProfile | undefined>;
  /** A trigger this stack recorded, if there is one with that id (a trigger on the bus that is not here was not fired by us). */
  getTrigger(customerId: string, triggerId: string): Promise<RecordedTrigger | undefined>;
  /** Records a fired trigger once. Returns whether it was already published to the bus. */
  recordTrigger(trigger: TriggerDecision, firedAt: Date): Promise<RecordedTrigger>;
  /** Marks that the item's event (ChurnTriggerFired, or the send's EmailSent / EmailSkipped) is on the bus; the first mark stays. */
  markPublished(customerId: string, item: PublishedItem, at: Date): Promise<void>;
  /** Ledger entries of the customer whose status time is at or after `since`, and the ledger's version. */
  recentSends(customerId: string, since: Date): Promise<{ records: SendRecord[]; ledgerVersion: number }>;
  /**
   * Claims a send before the email goes out. `claimed`: go ahead; `done`: it was
   * already sent, skipped or held back (the entry says whether that was published);
   * `busy`: another worker holds a live claim; `stale`: the customer's ledger changed since
   * `ledgerVersion` was read (another send was claimed), so the decision must be taken again.
   */
  claimSend(entry: SendClaim, now: Date, leaseSeconds: number, ledgerVersion: number, options?: ClaimOptions): Promise<ClaimResult>;
  /**
   * Marks claimed sends `submitted` just before they go to SES (only entries still `sending`).
   * From then on no claim takes them over: a worker that dies before recording the outcome
   * leaves them `submitted`, and they are not sent again.
   */
  markSubmitted(entries: readonly { customerId: string; sendId: string }[], now: Date): Promise<void>;
  completeSend(entry: SendRecord): Promise<void>;
  /**
   * SES reported an email of this entry (its Send event, or a delivery, bounce, …: the entry's send
   * id is in the email's tags): a `submitted` entry becomes `sent` with SES's message id, dated `at`,
   * with reason `confirmed-by-ses-event`. Returns whether it did (false: the entry was not `submitted`).
   */
  confirmSubmitted(customerId: string, sendId: string, messageId: string, at: Date): Promise<boolean>;
  /** Gives a claim (`sending` or `submitted`) back after SES refused the attempt, so a retry can take it at once. */
  releaseSend(customerId: string, sendId: string): Promise<void>;
}

export interface EventPublisher {
  publish<T extends EmittedDetailType>(events: { detailType: T; detail: EmittedDetail<T> }[]): Promise<void>;
}

export interface Mailer {
  send(input: { to: string; message: EmailMessage }): Promise<{ messageId: string }>;
}

/**
 * A send whose outcome is unknown: the request may have reached SES (a network error or a
 * timeout after it was written). The send stays `submitted` and is not retried (never a
 * second copy). Any other error of a mailer means SES did not take the email.
 */
export class SendOutcomeUnknownError extends Error {
  override name = 'SendOutcomeUnknownError';
}

/** One email of a bulk send. */
export type BulkEntry = { to: string; message: EmailMessage };

/**
 * What SES did with one entry of a bulk send: `sent`; `retry` (throttled, a transient
 * failure: may go later); `refused` (SES will not send it: a rejected message, a bad address).
 */
export type BulkEntryResult = { status: 'sent'; messageId: string } | { status: 'retry' | 'refused'; reason: string };

/** SES v2 SendBulkEmail: up to `maxEntries` emails in one call, each with its own headers and tags. */
export interface BulkMailer {
  readonly maxEntries: number;
  /** Results in entry order. Throws when the whole call failed (throttling: a retryable error; see `isRetryable`). */
  sendBulk(entries: readonly BulkEntry[]): Promise<BulkEntryResult[]>;
}

/**
 * The deliverability circuit breaker's counts (shared/campaigns/circuit-breaker.ts): the emails SES
 * accepted, hard bounces and complaints, per hour. The SES feedback path counts; the campaigns
 * path reads the window before marketing sends.
 */
export interface DeliverabilityTally {
  /** Adds each entry to the bucket of its hour, once per `eventId` (a redelivered SES event adds nothing). */
  count(entries: readonly DeliverabilityCount[]): Promise<void>;
  /** The sums over the hour buckets of the window: from the hour `windowHours` before `now` through `now`'s hour. */
  figures(now: Date, windowHours: number): Promise<DeliverabilityFigures>;
}

export interface RejectedEventSink {
  /**
   * Keeps a rejected event with its reason where an operator can inspect and replay it.
   * `rejectionId` (the same for every delivery of the same raw event) goes with it.
   */
  reject(raw: string, rejection: Rejection, receivedAt: Date, rejectionId: string): Promise<void>;
}

/** What claiming a rejection found: `claimed` (send it), `done` (it was sent before), `busy` (another worker holds a live claim). */
export type RejectionClaim = 'claimed' | 'done' | 'busy';

/**
 * Remembers which rejected events are already on the rejected-events queue (keyed on the
 * rejection id), so a redelivered batch does not put them there again. Claimed before the
 * send, completed after it; a failed send releases the claim (see docs/architecture.md).
 */
export interface RejectionLedger {
  claim(rejectionId: string, now: Date, leaseSeconds: number): Promise<RejectionClaim>;
  complete(rejectionId: string, now: Date): Promise<void>;
  /** Gives a claim back after a failed send, so a retry can take it at once. */
  release(rejectionId: string): Promise<void>;
}

/** A trigger as the stack recorded it: the decision, when it fired and when it was put on the bus. */
export type TriggerRecord = TriggerDecision & { firedAt: string; publishedAt?: string };

/** What the stack keeps about one customer that explains its emails (see `clm customer`). */
export type CustomerRecord = {
  customerId: string;
  profile?: CustomerProfile;
  triggers: TriggerRecord[];
  /** The whole send ledger of the customer: one entry per decision, with its status and reason. */
  sends: SendRecord[];
  /** Her consent ledger (`CONSENT#` records, any order): the current state is derived from it, as the guardrails derive it. */
  consent?: ConsentRecord[];
};

/** Read-only view of a customer for operators. */
export interface CustomerReader {
  readCustomer(customerId: string): Promise<CustomerRecord>;
}

/** Where a scoring worker is in its segment: the index's LastEvaluatedKey, opaque to the domain (JSON-safe). */
export type SegmentCursor = Record<string, string>;

/** One page of a scoring segment's customer ids, and where the next page starts (absent: the segment is done). */
export type SegmentPage = { customerIds: string[]; next?: SegmentCursor; consumedReadUnits: number };

/** One page of a scoring segment read whole: its customers (as `readCustomers` gives them), and where the next page starts (absent: the segment is done). */
export type SegmentRead = { customers: ScoringCustomer[]; next?: SegmentCursor; consumedReadUnits: number };

/** What scoring needs of one customer: her profile, the last score written, and her recent triggers. */
export type ScoringCustomer = {
  customerId: string;
  /** absent when the profile is gone (the index is eventually consistent) */
  profile?: CustomerProfile;
  /** the last score written: what a night compares the new one with (`readCustomers` gives the whole score) */
  stored?: StoredScore | CustomerScore;
  triggers: ActiveTrigger[];
  /** the send ledger entries at or after `sendsSince` (asked for by the nightly run's report: campaign response) */
  sends?: SendRecord[];
};

/** How putting an outreach assignment went: `created`, or `existing` (planned before; the stored one is returned). */
export type PutAssignmentResult = { status: 'created'; assignment: OutreachAssignment } | { status: 'existing'; assignment: OutreachAssignment };

/** The nightly run's storage: segments of customers, their scores, the model items and the outreach assignments. */
export interface ScoringStore {
  /** Up to `limit` customer ids of the segment, from `cursor` on (its profile entries in the scoring index, in key order). */
  segmentPage(segment: string, cursor: SegmentCursor | undefined, limit: number): Promise<SegmentPage>;
  /**
   * About `limit` customers of the segment from `cursor` on, in key order, each read whole: her
   * profile (what scoring and the report read of it), her stored score unless `scores: false`,
   * her triggers fired at or after `triggersSince` (none without it), and with `sendsSince` her send
   * ledger entries at or after it (as `readCustomers`). What the nightly run
   * reads; the cursor is opaque (JSON-safe).
   */
  readSegment(segment: string, cursor: SegmentCursor | undefined, limit: number, options?: { triggersSince?: Date; scores?: boolean; sendsSince?: Date }): Promise<SegmentRead>;
  /**
   * Profiles and stored scores of these customers (eventually consistent), and the triggers fired
   * at or after `triggersSince` (older ones no longer count; none are read without it); in input order.
   * `scores: false` reads the profiles only (the fit's gathering needs no stored score).
   * `sendsSince`: also the customers' send ledger entries whose time is at or after it (`sends`).
   */
  readCustomers(customerIds: readonly string[], triggersSince?: Date, options?: { scores?: boolean; sendsSince?: Date }): Promise<{ customers: ScoringCustomer[]; consumedReadUnits: number }>;
  /**
   * Keeps a part of a run's step (a segment's gathered summaries, its outreach top N) out of the
   * state machine's state, whose 256 KB it would outgrow: stored under the run, with a TTL; the
   * returned key is all the state carries. Every put is a new part (a retried step puts another).
   */
  putRunPart(runId: string, name: string, part: unknown): Promise<{ key: string; consumedWriteUnits: number }>;
  /** The parts of these keys, in order (strongly consistent); a missing one is an error. */
  getRunParts(runId: string, keys: readonly string[]): Promise<{ parts: unknown[]; consumedReadUnits: number }>;
  /** Writes these scores (replacing the stored ones). */
  writeScores(scores: readonly CustomerScore[]): Promise<{ consumedWriteUnits: number }>;
  /** The model item of a run, if it was stored. */
  getModel(runId: string, runDate: string): Promise<ModelRecord | undefined>;
  /** The latest model item of a run dated before `runDate`. */
  previousModel(runDate: string): Promise<ModelRecord | undefined>;
  /** Stores a run's model once; a run that has one keeps it (returned), so every score of a night names one model. */
  putModel(model: ModelRecord): Promise<{ model: ModelRecord; created: boolean }>;
  /** Every assignment of the experiment in the period (strongly consistent); not the residues of erased customers'. */
  outreachAssignments(experimentId: string, period: string): Promise<OutreachAssignment[]>;
  /** The anonymous residues of erased customers' assignments of the experiment in the period (shared/privacy/outreach-residue.ts). */
  erasedOutreach(experimentId: string, period: string): Promise<ErasedOutreach[]>;
  /** Stores an assignment unless the customer already has one in that experiment and period (never reassigned). */
  putOutreachAssignment(assignment: OutreachAssignment): Promise<PutAssignmentResult>;
  /**
   * Treated assignments whose OutreachPlanned is not yet marked published, of any experiment and
   * period (strongly consistent), so a publish that failed on a month's last night is retried after.
   */
  unpublishedOutreach(): Promise<OutreachAssignment[]>;
  /** Marks the assignment's OutreachPlanned published (it leaves `unpublishedOutreach`); the first mark stays. */
  markOutreachPublished(assignment: Pick<OutreachAssignment, 'experimentId' | 'period' | 'customerId'>, at: Date): Promise<void>;
}

/** A night's merged report aggregate (shared/report/aggregate.ts), as the finish step stores it. */
export type StoredReportPart = { runId: string; runDate: string; storedAt: string; part: ReportPart };

/** Where the nightly run keeps its merged report aggregate, and the report reads it. */
export interface ReportStore {
  /** Stores the night's merged part (a rerun of the night replaces it: the same night, the figures of its last finish). */
  putReportPart(stored: StoredReportPart): Promise<void>;
  /** The latest night's part (by run date), or undefined before the first. */
  latestReportPart(): Promise<StoredReportPart | undefined>;
}

/** Where the scheduled report is written (a private S3 bucket in AWS). */
export interface ReportSink {
  /** Writes one file under `key` with its content type. */
  putFile(key: string, body: string, contentType: string): Promise<void>;
}

/**
 * The consent ledger's records (shared/consent/ledger.ts): append-only, one per record id, kept
 * until the customer is erased (no TTL). The profile holds the state derived from them; these
 * are the history an auditor reads (`clm consent <id>`).
 */
export interface ConsentLedger {
  /** Appends each record once (keyed on its record id); a record already there is left as it is. */
  append(records: readonly ConsentRecord[]): Promise<void>;
  /**
   * Appends, in bulk, the records not in the ledger when it reads them (the backfill's, shared/backfill):
   * one read of all their keys, then batch writes of the absent ones. A record another writer
   * appends between that read and the write is written over by this one (the same record id of
   * the same event: only its `source` may differ). Optional: a ledger without it gets `append`.
   */
  appendAbsent?(records: readonly ConsentRecord[]): Promise<void>;
  /** Every record of the customer, oldest first. */
  history(customerId: string): Promise<ConsentRecord[]>;
}

/**
 * What erasure needs of the table (shared/privacy/erasure.ts): the salt of the hashes (a secret),
 * tombstones of erased customer ids, the suppression list of erased addresses, deleting a
 * customer's partition and the erasure records. Hashes only: no id or address is stored.
 */
export interface PrivacyStore {
  /** The salt of the hashes: a secret outside the table (docs/erasure.md), the same ever after. */
  salt(): Promise<string>;
  putTombstone(customerHash: string, at: Date): Promise<void>;
  /** Which of these customer hashes have a tombstone (one BatchGetItem per 100). */
  tombstonesAmong(customerHashes: readonly string[]): Promise<Set<string>>;
  /** Whether this customer hash has a tombstone (one GetItem). */
  hasTombstone(customerHash: string): Promise<boolean>;
  suppress(emailHash: string, at: Date): Promise<void>;
  isSuppressedHash(emailHash: string): Promise<boolean>;
  /** Deletes every item of the customer's partition; returns how many of each kind (itemKind). */
  deletePartition(customerId: string): Promise<Record<string, number>>;
  /** The customer's outreach assignments (`OUTREACH#<experiment>#<period>` / `PLAN#<id>`) of these experiments and periods (consistent). */
  outreachAssignmentsOf(customerId: string, experimentIds: readonly string[], periods: readonly string[]): Promise<OutreachAssignment[]>;
  /**
   * Replaces the assignment by its anonymous residue and deletes its copy in the unpublished list, in
   * one transaction; false when the assignment is gone already (replaced by an earlier attempt).
   */
  replaceOutreachAssignment(assignment: OutreachAssignment, residue: ErasedOutreach): Promise<boolean>;
  /** Deletes the customer's personal-outreach task items (`OUTREACHTASKS#<day>` / `TASK#…`) of these days (UTC, YYYY-MM-DD); returns how many. */
  deleteOutreachTasks(customerId: string, days: readonly string[]): Promise<number>;
  recordErasure(record: ErasureRecord): Promise<void>;
}

/** A customer's link to the anonymous fact of one leaving (`CUST#<id>` / `WINBACK#<leftAt>`); erasure deletes it, the fact stays unlinkable. */
export type LeavingLink = { customerId: string; leftAt: string; factId: string; leftOn: string };

/**
 * The winback sequence's storage (shared/winback/track.ts): per leaving, the customer's link and
 * the anonymous leaver fact the reports read (`LEAVERS#<YYYY-MM>` / `<factId>`, no customer id).
 */
export interface WinbackStore {
  /** The link of this leaving, creating it and its fact (with `fact`'s fields) if there is none yet. */
  recordLeaving(customerId: string, leftAt: string, fact: Pick<LeaverFact, 'reasonCode' | 'inSequence'>): Promise<LeavingLink>;
  /** The customer's latest leaving, if any. */
  latestLeaving(customerId: string): Promise<LeavingLink | undefined>;
  /** Updates the fact: its reason and whether a sequence runs (when given), an offer made (once per step), how it ended (the first outcome stays). */
  updateFact(link: LeavingLink, change: { reasonCode?: LeaverFact['reasonCode']; inSequence?: boolean; offer?: LeaverFact['offers'][number]; outcome?: NonNullable<LeaverFact['outcome']> }): Promise<void>;
  /** Every fact of customers who left in these months (YYYY-MM). */
  facts(months: readonly string[]): Promise<LeaverFact[]>;
}

/** Names one durable timer: its customer, its kind (which handler fires it) and a key unique within the kind. */
export type TimerKey = { customerId: string; kind: string; key: string };

/** A timer to set: when it is due, and what its handler needs (small, JSON-safe). */
export type TimerSpec = TimerKey & { dueAt: string; payload?: Record<string, unknown> };

/** A pending timer as the store holds it. */
export type PendingTimer = TimerSpec & { setAt: string; attempts: number; lastError?: string };

/**
 * Durable timers (shared/timers/, docs/triggers.md): set when a state begins, moved or cancelled
 * when it ends, swept when due. A timer is identified by (customerId, kind, key).
 */
export interface TimerStore {
  /**
   * Sets the timer to fire at `dueAt`, replacing (moving) a pending one. Setting it again with the
   * due time it already has, pending or fired, does nothing: a redelivered record does not re-arm
   * a timer that fired. With `keepEarlier`, a pending timer due at or before `dueAt` is kept
   * as it is (a lazy timer: its handler checks the state when it fires and sets it again for
   * later if the state was renewed meanwhile, one write per period instead of one per event).
   * Returns what it did.
   */
  set(timer: TimerSpec, now: Date, options?: { keepEarlier?: boolean }): Promise<'set' | 'moved' | 'unchanged' | 'already-fired'>;
  /**
   * Sets timers the caller knows do not exist yet (pending or fired), without reading them: in
   * bulk (the backfill's timers of customers new with its batch, shared/backfill). Optional: a
   * store without it gets `set` one by one.
   */
  setNew?(timers: readonly TimerSpec[], now: Date): Promise<void>;
  /** Which of these timers are pending (in bulk; the backfill cancels only those). Optional: without it, every one is cancelled. */
  pendingAmong?(timers: readonly TimerKey[]): Promise<TimerKey[]>;
  /** Cancels a pending timer (a fired one stays as the record that it fired). */
  cancel(timer: TimerKey): Promise<void>;
  /** Pending timers due at or before `now`, earliest first, at most `limit`. */
  due(now: Date, limit: number): Promise<PendingTimer[]>;
  /**
   * Marks the timer fired, if it is still pending with the same due time (one moved meanwhile
   * stays pending for its new time). Returns whether it was marked.
   */
  markFired(timer: PendingTimer, at: Date): Promise<boolean>;
  /**
   * Records a failed attempt. After `maxAttempts` the timer is given up: out of the due index,
   * kept with its error for an operator. Returns which.
   */
  markFailed(timer: PendingTimer, error: string, at: Date, maxAttempts: number): Promise<'retry' | 'gave-up'>;
}

/** A customer's value as the nightly run last scored it: what a fired trigger carries and routes on. */
export type ValueSnapshot = { clv: number; valueTier: string; churnRisk: number; scoredOn: string };

/** What an outreach-task claim found: a place in the day's capacity (now or before, for this trigger), or none left. */
export type OutreachClaim = 'claimed' | 'full';

/**
 * Routing of fired triggers by value (docs/triggers.md, "Routing by value"): the customer's last
 * nightly score, and the team's daily capacity of personal-outreach tasks.
 */
export interface OutreachDesk {
  /** The customer's last nightly score, if she was scored. */
  score(customerId: string): Promise<ValueSnapshot | undefined>;
  /**
   * Claims a place for the trigger's task in the day's capacity, once per trigger: claiming again
   * for the same trigger answers `claimed` (a redelivery), a new trigger beyond `capacity` `full`.
   */
  claimTask(day: string, triggerId: string, customerId: string, capacity: number, now: Date): Promise<OutreachClaim>;
}

/**
 * The keys that sign and verify the public pages' tokens (shared/pages/tokens.ts): the current
 * key and the retired ones still accepted. In AWS a Secrets Manager secret, locally a key the
 * local stack generates per state directory. Never logged.
 */
export interface PageKeySource {
  keyRing(): Promise<KeyRing>;
}
