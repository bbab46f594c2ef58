/**
 * Bulk backfill of history: a batch of rows from a file (CSV rows or JSON Lines of bus
 * events, as the Step Functions Distributed Map's item reader hands them over) becomes stored
 * events and folded profiles, with the same validation and the same pure profile fold as
 * live ingest, and nothing counted twice.
 *
 * How a batch is written (see docs/backfill.md):
 * 1. Every row is validated (bad rows are reported with file, line and reason); the events are
 *    grouped by customer and deduplicated on their eventId.
 * 2. For each customer, the store is read: the profile, its version, the tokens of the
 *    backfill batches already folded into it, and which of the batch's events are stored
 *    (and, for those a backfill wrote, the token of the batch that wrote them).
 * 3. An event is new when it is not stored, or when a backfill batch stored it but crashed
 *    before folding it (its token is not on the profile, and the batch is no longer running:
 *    older than the lease, or it is this very batch being retried). An event stored by live
 *    ingest (no token), or by a batch whose token is on the profile, is already folded.
 * 4. The new events are written first (batch writes, each marked with this batch's token,
 *    which also keeps them off the trigger function's stream filter), then the profile, folded
 *    with only the new events, is written with the batch's token added, on the condition that
 *    its version is still the one read. A lost race (live ingest or another batch wrote the
 *    profile) re-reads and plans again; a crash between the two writes leaves marked events
 *    whose token is not on the profile, which the retry (or a rerun) folds.
 *
 * The fold is order-independent (shared/customers/profile.ts), so folding a customer's events
 * in several batches, files or runs, some of them live, gives the profile that folding them all
 * at once would.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { consentRecordsOf, defaultConsentPolicy, type ConsentPolicy, type ConsentRecord } from '../consent/ledger.ts';
import type { CustomerProfile } from '../customers/profile.ts';
import type { BusinessEvent } from '../events/catalog.ts';
import { validateInbound } from '../events/validate.ts';
import type { ConsentLedger, EventPublisher, PrivacyStore, ProfileFold, TimerKey, TimerSpec, TimerStore } from '../ports.ts';
import { erasedAmong } from '../privacy/erasure.ts';
import { triggerConfig as repositoryTriggers, type TriggerConfig } from '../triggers/config.ts';
import { timersFor } from '../triggers/rules.ts';
import { csvRowEvents } from './rows.ts';

export type BackfillFormat = 'csv' | 'jsonl';

/** What the batch's task receives: the rows (each with its 0-based index in the file) and the file they came from. */
export type BackfillBatch = {
  Items: { index: number; row: unknown }[];
  BatchInput: { runId: string; file: string; format: BackfillFormat };
};

/** A row that could not be backfilled: where it is and why (never its values: they may be personal data). */
export type RejectedRow = { file: string; line: number; reason: string };

/** What one batch did. Deterministic: a retry of a batch that had gone through reports the same. */
export type BatchResult = {
  runId: string;
  token: string;
  file: string;
  rowsRead: number;
  rowsRejected: number;
  /** the first MAX_LISTED_REJECTS rejected rows (all are counted and logged) */
  rejected: RejectedRow[];
  /** events this batch stored and folded */
  eventsStored: number;
  /** events already stored (by live ingest, an earlier batch or run, or twice in the file) */
  duplicates: number;
  /** events a batch that may still be running stored but has not folded yet (left to it) */
  deferred: number;
  /** customers whose profile this batch changed */
  customersWritten: number;
  /** consent-ledger records of the events this batch stored (appended once: a record already in the ledger stays as it is) */
  consentRecords: number;
  /** timers of absence (a stuck order, usage that stopped) pending after this batch, as live events would have set them */
  timersSet: number;
  /** timers of absence already due when the batch ran: history, so not set (they would fire at once) */
  timersOverdue: number;
};

/** What the store knows of one customer, for the events a batch brings. */
export type BackfillCustomerState = {
  profile?: CustomerProfile;
  /** 0 when there is no profile */
  version: number;
  /** tokens of the backfill batches folded into the profile */
  batches: string[];
  /** the batch's events that are stored: eventId → the token and time of the backfill batch that wrote it (none: live ingest did) */
  stored: Map<string, { token?: string; at?: string }>;
};

/** A new event to store, marked with the batch that stores it. */
export type BackfillEventWrite = { event: BusinessEvent; token: string };

/** The storage a backfill needs (shared/adapters/dynamodb-backfill-store.ts; in memory for tests). */
export interface BackfillStore {
  /** The state of these customers for these of their events (strongly consistent reads). */
  readCustomers(wanted: { customerId: string; eventIds: string[] }[]): Promise<Map<string, BackfillCustomerState>>;
  /** Stores the events (unconditional batch writes, retried until every item is written), marked with their token. */
  writeEvents(events: BackfillEventWrite[], at: Date): Promise<void>;
  /** Writes the profile with these batch tokens if its version is still `expectedVersion`. */
  writeProfile(customerId: string, profile: CustomerProfile, batches: string[], expectedVersion: number, at: Date): Promise<'written' | 'conflict'>;
  /** Keeps a batch's result (replacing an earlier attempt's), for the file's summary. */
  recordBatch(result: BatchResult): Promise<void>;
  /** Keeps a batch that failed after its retries (replacing an earlier record of it). */
  recordFailure(failure: FailedBatch): Promise<void>;
  /** Every batch result and failure of a file in a run. */
  runRecords(runId: string, file: string): Promise<{ results: BatchResult[]; failures: FailedBatch[] }>;
}

/** A batch that failed after its retries: which rows, and the error (never the rows' values). */
export type FailedBatch = { runId: string; token: string; file: string; firstLine: number; lastLine: number; error: string };

export const MAX_LISTED_REJECTS = 100;
/** A batch's task never runs longer than this (the Lambda timeout is well under it): a token older than this on an unfolded event is a crashed batch. */
export const DEFAULT_LEASE_SECONDS = 20 * 60;
/** Rounds of read–plan–write for customers whose profile another writer changed meanwhile. */
const MAX_ATTEMPTS = 25;

/** The token of a batch: the same rows of the same file of the same run always get the same token. */
export function batchToken(runId: string, file: string, firstIndex: number, lastIndex: number): string {
  return createHash('sha256').update(`${runId}\n${file}\n${firstIndex}\n${lastIndex}`).digest('base64url').slice(0, 16);
}

/** The line of a row: CSV has its header on line 1 (a record spanning lines counts as one), JSON Lines starts at 1. */
export const lineOf = (format: BackfillFormat, index: number): number => (format === 'csv' ? index + 2 : index + 1);

/** Validates one row into catalog events, or says why it cannot be. */
export function rowEvents(format: BackfillFormat, file: string, row: unknown, now: Date): { ok: true; events: BusinessEvent[] } | { ok: false; reason: string } {
  let envelopes: unknown[];
  if (format === 'csv') {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return { ok: false, reason: 'not a CSV row' };
    const mapped = csvRowEvents(file, row as Record<string, string>);
    // The CSV reasons quote the bad value (for your own terminal, with --import); the backfill logs and reports them, so not here.
    if (!mapped.ok) return { ok: false, reason: mapped.reason.replace(/"[^"]*"/g, '(value)') };
    envelopes = mapped.events;
  } else {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return { ok: false, reason: 'not a JSON object (each line is one event: {"source", "detail-type", "detail"})' };
    envelopes = [row];
  }
  const events: BusinessEvent[] = [];
  for (const e of envelopes) {
    const v = validateInbound(e, now);
    if (!v.ok) return { ok: false, reason: v.reason };
    // An erasure is an act, not history: it goes live (the bus) or through `clm erase` (docs/erasure.md).
    if (v.event.type === 'CustomerErasureRequested') return { ok: false, reason: 'CustomerErasureRequested is not history: send it on the bus or run clm erase' };
    events.push(v.event);
  }
  return { ok: true, events };
}

export type CustomerPlan = {
  /** events to write now (marked with the batch's token) */
  write: BusinessEvent[];
  /** the profile to write (absent: nothing to write) */
  profile?: CustomerProfile;
  batches: string[];
  stored: number;
  duplicates: number;
  deferred: number;
  /** the events this batch stored (now or in an attempt that went through) and the profile they are folded into: what its timers follow */
  timers?: { events: BusinessEvent[]; profile: CustomerProfile };
};

/**
 * What a batch does for one customer, given what the store holds. `events` are the customer's
 * events of the batch, each eventId once.
 */
export function planCustomer(
  customerId: string,
  events: BusinessEvent[],
  state: BackfillCustomerState,
  token: string,
  fold: ProfileFold,
  now: Date,
  leaseSeconds = DEFAULT_LEASE_SECONDS,
): CustomerPlan {
  const folded = new Set(state.batches);
  if (folded.has(token)) {
    // This batch went through before (a retry): report what it stored then, write nothing.
    const mine = events.filter((e) => state.stored.get(e.detail.eventId)?.token === token);
    const stored = mine.length;
    // Its timers are set again (setting a timer as it is changes nothing): the attempt may have crashed before setting them.
    return { write: [], batches: state.batches, stored, duplicates: events.length - stored, deferred: 0, ...(stored > 0 && state.profile ? { timers: { events: mine, profile: state.profile } } : {}) };
  }
  const write: BusinessEvent[] = [];
  let deferred = 0;
  for (const e of events) {
    const s = state.stored.get(e.detail.eventId);
    if (!s) write.push(e);
    else if (s.token !== undefined && !folded.has(s.token)) {
      // Stored by a backfill batch that has not folded it: this batch's own earlier attempt, or one
      // that crashed (older than the lease), is taken over; a batch that may still run is left alone.
      const age = now.getTime() - Date.parse(s.at ?? '');
      if (s.token === token || !(age < leaseSeconds * 1000)) write.push(e);
      else deferred++;
    }
  }
  if (write.length === 0) return { write, batches: state.batches, stored: 0, duplicates: events.length - deferred, deferred };
  let profile = state.profile ?? fold.empty(customerId);
  for (const e of write) profile = fold.apply(profile, e);
  return { write, profile, batches: [...state.batches, token], stored: write.length, duplicates: events.length - write.length - deferred, deferred, timers: { events: write, profile } };
}

/** What a customer's backfilled events do to the timers of absence (docs/backfill.md, "Timers and the consent ledger"). */
export type BackfillTimerOps = {
  /** timers to set (or move), as live events set them; `lazy`: keep a pending earlier one (the timer re-checks when it fires) */
  set: (TimerSpec & { lazy: boolean })[];
  /** timers to cancel (the state they wait for no longer holds) */
  cancel: TimerKey[];
  /** timers already due at `now`: live, they would have fired; history fires nothing, so they are not set */
  overdue: TimerKey[];
};

/**
 * The timer operations the live path (shared/triggers/fire-triggers.ts, `timersFor`) would have
 * made for these events, computed from the profile they are folded into, each timer once. The
 * profile is the same whatever order the events came in, so this is where the live path's timers
 * end up once every event has arrived. A timer whose due time is not after `now` is overdue: not
 * set (a backfill fires nothing; live, it would fire at the next sweep). Cancels only when
 * `mayCancel` (a profile existed before this batch: live ingest or an earlier batch may have set a
 * timer; a customer new with this batch has none).
 */
export function backfillTimerOps(events: readonly BusinessEvent[], profile: CustomerProfile, now: Date, config: TriggerConfig, mayCancel: boolean): BackfillTimerOps {
  const ops = new Map<string, { op: 'set'; timer: TimerSpec & { lazy: boolean } } | { op: 'cancel' | 'overdue'; timer: TimerKey }>();
  const id = (t: TimerKey) => `${t.kind}\n${t.key}`;
  for (const event of events) {
    const { set, cancel } = timersFor(event, profile, now, config);
    for (const t of set) ops.set(id(t), Date.parse(t.dueAt) > now.getTime() ? { op: 'set', timer: t } : { op: 'overdue', timer: { customerId: t.customerId, kind: t.kind, key: t.key } });
    for (const t of cancel) ops.set(id(t), { op: 'cancel', timer: { customerId: t.customerId, kind: t.kind, key: t.key } });
  }
  const out: BackfillTimerOps = { set: [], cancel: [], overdue: [] };
  for (const o of ops.values()) {
    if (o.op === 'set') out.set.push(o.timer);
    else if (o.op === 'overdue') out.overdue.push(o.timer);
    else if (mayCancel) out.cancel.push(o.timer);
  }
  return out;
}

/** The consent-ledger records of backfilled events: as ingest records them, with source `import` (how they reached the ledger). */
export function backfillConsentRecords(events: readonly BusinessEvent[], policy: ConsentPolicy = defaultConsentPolicy): ConsentRecord[] {
  return events.flatMap((e) => consentRecordsOf(e, policy)).map((r) => ({ ...r, source: 'import' as const }));
}

type Deps = {
  store: BackfillStore;
  fold: ProfileFold;
  now: () => Date;
  leaseSeconds?: number;
  log?: (rejected: RejectedRow) => void;
  /** Tombstones of erased customers: their rows are refused, so a re-import cannot bring them back (docs/erasure.md). */
  privacy?: Pick<PrivacyStore, 'salt' | 'tombstonesAmong'>;
  /** The timers of absence the history leaves pending (without: none are set). */
  timers?: TimerStore;
  /** The consent ledger the history's consent changes are appended to (without: none are). */
  consent?: ConsentLedger;
  /** Default: config/triggers.json. */
  triggers?: TriggerConfig;
  consentPolicy?: ConsentPolicy;
};

/** The reason a row of an erased customer is refused (no id: the reason is logged and kept in the batch result). */
export const ERASED_ROW_REASON = 'the customer was erased: not stored (docs/erasure.md)';

/** Backfills one batch of rows and records its result. Throws when the store fails (the Map retries the batch). */
export async function backfillBatch(batch: BackfillBatch, deps: Deps): Promise<BatchResult> {
  const { runId, file, format } = batch.BatchInput;
  const now = deps.now();
  const indexes = batch.Items.map((i) => i.index);
  const token = batchToken(runId, file, Math.min(...indexes), Math.max(...indexes));
  const result: BatchResult = { runId, token, file, rowsRead: batch.Items.length, rowsRejected: 0, rejected: [], eventsStored: 0, duplicates: 0, deferred: 0, customersWritten: 0, consentRecords: 0, timersSet: 0, timersOverdue: 0 };

  const reject = (index: number, reason: string) => {
    const rejected = { file, line: lineOf(format, index), reason };
    result.rowsRejected++;
    if (result.rejected.length < MAX_LISTED_REJECTS) result.rejected.push(rejected);
    deps.log?.(rejected);
  };
  const valid: { index: number; events: BusinessEvent[] }[] = [];
  for (const { index, row } of batch.Items) {
    const v = rowEvents(format, file, row, now);
    if (v.ok) valid.push({ index, events: v.events });
    else reject(index, v.reason);
  }
  const erased = deps.privacy ? await erasedAmong([...new Set(valid.flatMap((r) => r.events.map((e) => e.detail.customerId)))], deps.privacy) : new Set<string>();
  const byCustomer = new Map<string, Map<string, BusinessEvent>>();
  for (const { index, events } of valid) {
    if (events.some((e) => erased.has(e.detail.customerId))) {
      reject(index, ERASED_ROW_REASON);
      continue;
    }
    for (const e of events) {
      const mine = byCustomer.get(e.detail.customerId) ?? new Map<string, BusinessEvent>();
      byCustomer.set(e.detail.customerId, mine);
      if (mine.has(e.detail.eventId)) result.duplicates++;
      else mine.set(e.detail.eventId, e);
    }
  }

  let pending = [...byCustomer.keys()];
  const timed: TimedCustomer[] = [];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt === MAX_ATTEMPTS) throw new Error(`profiles of ${pending.length} customer(s) kept changing during ${MAX_ATTEMPTS} attempts`);
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(1000, 10 * 2 ** attempt)));
    const states = await deps.store.readCustomers(pending.map((customerId) => ({ customerId, eventIds: [...byCustomer.get(customerId)!.keys()] })));
    const plans = pending.map((customerId) => ({
      customerId,
      plan: planCustomer(customerId, [...byCustomer.get(customerId)!.values()], states.get(customerId)!, token, deps.fold, deps.now(), deps.leaseSeconds),
      version: states.get(customerId)!.version,
    }));
    // The consent ledger first, as ingest does: a crash after it appends the same records again on the retry (each once).
    const records = backfillConsentRecords(plans.flatMap(({ plan }) => plan.write), deps.consentPolicy);
    if (deps.consent && records.length > 0) await (deps.consent.appendAbsent ? deps.consent.appendAbsent(records) : deps.consent.append(records));
    // Events first: a crash before the profile is written leaves them marked and unfolded, for the retry.
    await deps.store.writeEvents(plans.flatMap(({ plan }) => plan.write.map((event) => ({ event, token }))), now);
    const outcomes = await Promise.all(
      plans.map(async ({ customerId, plan, version }) =>
        plan.profile ? deps.store.writeProfile(customerId, plan.profile, plan.batches, version, now) : ('written' as const),
      ),
    );
    const retry: string[] = [];
    plans.forEach(({ customerId, plan, version }, k) => {
      if (outcomes[k] === 'conflict') return void retry.push(customerId);
      result.eventsStored += plan.stored;
      result.duplicates += plan.duplicates;
      result.deferred += plan.deferred;
      result.consentRecords += deps.consent ? backfillConsentRecords(plan.write, deps.consentPolicy).length : 0;
      if (plan.stored > 0) result.customersWritten++;
      if (plan.timers) timed.push({ customerId, ...plan.timers, version: plan.profile ? version + 1 : version, mayCancel: version > 0 });
    });
    pending = retry;
  }
  if (deps.timers) Object.assign(result, await setTimers(timed, deps.timers, deps));
  await deps.store.recordBatch(result);
  return result;
}

type TimedCustomer = { customerId: string; events: BusinessEvent[]; profile: CustomerProfile; version: number; mayCancel: boolean };

/**
 * Sets and cancels the timers of absence of the customers a batch wrote, from the profiles it
 * wrote. Another writer of the same customer (a batch of the same file or another, live ingest)
 * may fold events of the same order or product meanwhile and set its timers before ours: so the
 * profiles are read again afterwards, and a customer whose profile changed gets her timers again
 * from the newer one, until it holds still. The writer of the last profile thus always sets the
 * timers last or after having seen it. Returns the timers pending and overdue, per the last round.
 */
async function setTimers(customers: TimedCustomer[], timers: TimerStore, deps: Deps): Promise<{ timersSet: number; timersOverdue: number }> {
  const config = deps.triggers ?? repositoryTriggers;
  const counts = new Map<string, { set: number; overdue: number }>();
  let round = customers;
  for (let attempt = 0; round.length > 0; attempt++) {
    if (attempt === MAX_ATTEMPTS) throw new Error(`profiles of ${round.length} customer(s) kept changing while their timers were set (${MAX_ATTEMPTS} attempts)`);
    const now = deps.now();
    const ops = round.map((c) => ({ c, ops: backfillTimerOps(c.events, c.profile, now, config, c.mayCancel) }));
    // A customer new with this batch (no profile when it read) has no timer yet: hers are written in bulk, without
    // reading them first (a concurrent writer's are set again from the newer profile below).
    const fresh = attempt === 0 && timers.setNew ? ops.filter(({ c }) => !c.mayCancel) : [];
    const known = fresh.length ? ops.filter(({ c }) => c.mayCancel) : ops;
    // Cancels of timers that are pending only (a history's delivered orders would otherwise each cost a delete).
    const cancels = known.flatMap(({ ops: o }) => o.cancel);
    const toCancel = cancels.length && timers.pendingAmong ? await timers.pendingAmong(cancels) : cancels;
    await Promise.all([
      ...(fresh.length ? [timers.setNew!(fresh.flatMap(({ ops: o }) => o.set.map(({ lazy: _, ...spec }) => spec)), now)] : []),
      ...known.flatMap(({ ops: o }) => o.set.map(({ lazy, ...spec }) => timers.set(spec, now, { keepEarlier: lazy }))),
      ...toCancel.map((t) => timers.cancel(t)),
    ]);
    const touched = ops.filter(({ ops: o }) => o.set.length + o.cancel.length + o.overdue.length > 0);
    for (const { c, ops: o } of touched) counts.set(c.customerId, { set: o.set.length, overdue: o.overdue.length });
    if (touched.length === 0) break;
    const states = await deps.store.readCustomers(touched.map(({ c }) => ({ customerId: c.customerId, eventIds: [] })));
    round = touched.flatMap(({ c }) => {
      const s = states.get(c.customerId);
      return s?.profile && s.version !== c.version ? [{ ...c, profile: s.profile, version: s.version, mayCancel: true }] : [];
    });
  }
  let timersSet = 0;
  let timersOverdue = 0;
  for (const n of counts.values()) {
    timersSet += n.set;
    timersOverdue += n.overdue;
  }
  return { timersSet, timersOverdue };
}

/** A file's summary, from its batch results and failures. */
export type BackfillSummary = {
  runId: string;
  file: string;
  batches: number;
  /** batches that failed after their retries and did not succeed since (their rows are not in the other figures) */
  failedBatches: number;
  rowsRead: number;
  rowsRejected: number;
  eventsStored: number;
  duplicates: number;
  deferred: number;
  /** profile writes: a customer whose rows are in k batches counts up to k times */
  customersWritten: number;
  /** consent-ledger records of the stored events */
  consentRecords: number;
  /** timers of absence left pending, and those already due (not set: history fires nothing); a customer in k batches counts up to k times */
  timersSet: number;
  timersOverdue: number;
  /** rejected rows, the first MAX_LISTED_REJECTS by line */
  rejected: RejectedRow[];
  /** the failed batches, the first MAX_LISTED_REJECTS by line: rerun the file to retry them */
  failed: Omit<FailedBatch, 'runId' | 'token'>[];
};

export function summarise(runId: string, file: string, results: readonly BatchResult[], failures: readonly FailedBatch[] = []): BackfillSummary {
  const done = new Set(results.map((r) => r.token));
  const failed = failures.filter((f) => !done.has(f.token)).sort((a, b) => a.firstLine - b.firstLine);
  const s: BackfillSummary = {
    runId,
    file,
    batches: results.length,
    failedBatches: failed.length,
    rowsRead: 0,
    rowsRejected: 0,
    eventsStored: 0,
    duplicates: 0,
    deferred: 0,
    customersWritten: 0,
    consentRecords: 0,
    timersSet: 0,
    timersOverdue: 0,
    rejected: [],
    failed: failed.slice(0, MAX_LISTED_REJECTS).map(({ file: f, firstLine, lastLine, error }) => ({ file: f, firstLine, lastLine, error })),
  };
  for (const r of results) {
    s.rowsRead += r.rowsRead;
    s.rowsRejected += r.rowsRejected;
    s.eventsStored += r.eventsStored;
    s.duplicates += r.duplicates;
    s.deferred += r.deferred;
    s.customersWritten += r.customersWritten;
    // Results recorded before these figures existed count none.
    s.consentRecords += r.consentRecords ?? 0;
    s.timersSet += r.timersSet ?? 0;
    s.timersOverdue += r.timersOverdue ?? 0;
    s.rejected.push(...r.rejected);
  }
  s.rejected = s.rejected.sort((a, b) => a.line - b.line).slice(0, MAX_LISTED_REJECTS);
  return s;
}

/** The record of a batch that failed after its retries (its rows by line, the error's name and message, shortened). */
export function failedBatch(batch: BackfillBatch, error: { Error?: string; Cause?: string }): FailedBatch {
  const { runId, file, format } = batch.BatchInput;
  const indexes = batch.Items.map((i) => i.index);
  const first = Math.min(...indexes);
  const last = Math.max(...indexes);
  // A Lambda error's Cause is its JSON (errorType, errorMessage, trace): keep the type and message.
  let cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorType?: string; errorMessage?: string };
    if (parsed && typeof parsed === 'object' && (parsed.errorType || parsed.errorMessage)) cause = `${parsed.errorType ?? ''}: ${parsed.errorMessage ?? ''}`;
  } catch {
    // not JSON: kept as is
  }
  return { runId, token: batchToken(runId, file, first, last), file, firstLine: lineOf(format, first), lastLine: lineOf(format, last), error: `${error.Error ?? 'Error'} ${cause}`.trim().slice(0, 500) };
}

/** The inputs of the backfill function: a batch of rows (as the Map's item batcher gives it), a batch that failed, or a file's summary. */
const batchSchema = z.object({
  Items: z.array(z.object({ index: z.number().int().nonnegative(), row: z.unknown() })).min(1),
  BatchInput: z.object({ runId: z.string().trim().min(1).max(128), file: z.string().min(1).max(1024), format: z.enum(['csv', 'jsonl']) }),
});
export const backfillStepSchema = z.union([
  batchSchema.extend({ step: z.literal('failed'), error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }) }),
  z.object({ step: z.literal('summarise'), runId: z.string().trim().min(1).max(128), file: z.string().min(1).max(1024) }),
  batchSchema,
]);
export type BackfillStep = z.infer<typeof backfillStepSchema>;

/** Runs one step of a file's backfill: a batch, the record of a failed batch, or the summary (which publishes BackfillCompleted). */
export async function runBackfillStep(
  step: BackfillStep,
  deps: Deps & { publisher: EventPublisher },
): Promise<{ step: 'batch'; result: BatchResult } | { step: 'failed'; failure: FailedBatch } | { step: 'summarise'; summary: BackfillSummary }> {
  if (!('step' in step)) return { step: 'batch', result: await backfillBatch(step, deps) };
  if (step.step === 'failed') {
    const failure = failedBatch(step, step.error);
    await deps.store.recordFailure(failure);
    return { step: 'failed', failure };
  }
  const { results, failures } = await deps.store.runRecords(step.runId, step.file);
  const summary = summarise(step.runId, step.file, results, failures);
  const { rejected: _r, failed: _f, ...figures } = summary;
  await deps.publisher.publish([{ detailType: 'BackfillCompleted', detail: { ...figures, completedAt: deps.now().toISOString(), schemaVersion: 1 } }]);
  return { step: 'summarise', summary };
}
