/**
 * The nightly run's steps as domain services over the ports (no AWS): what the state
 * machine's tasks call, one invocation at a time.
 *
 *  0. `nightPasses` (at the start): one pass or two. Two: the steps 1–4 in order. One, when a
 *     recent model of an earlier night is stored: `scoreSegment` scores with that model and
 *     gathers tonight's fit sample in the same read of the index, then `fitNight` fits tonight's
 *     model from what it gathered (the model the next night scores with), then `finishNight`.
 *  1. `gatherSegment` (per segment, resumable): the fit sample's model summaries, compressed.
 *  2. `fitNight` (once): merges nothing itself — it takes the merged summaries — fits, stores
 *     the model item once per run (a rerun keeps the first attempt's model, so every score of
 *     a night names one model) and says how many outreach candidates each worker keeps.
 *  3. `scoreSegment` (per segment, resumable): page by page, scores the customers, publishes
 *     `CustomerRescored` for those whose tier or risk band changed, writes the scores that
 *     moved, and keeps the segment's outreach top N and summary part. Returns the checkpoint.
 *  4. `finishNight` (once): merges the parts, plans the outreach (assignments put once; an
 *     `OutreachPlanned` for each treated one not yet marked published), publishes the run summary event.
 *
 * Reruns: a page scored again finds the scores it wrote and writes and emits nothing more;
 * an assignment is never made twice, and its OutreachPlanned is published until it is marked
 * published (at least once; the same event, deduplicable by its `planId`). A page's `CustomerRescored` events are published before
 * its scores are written (group by group of 50 customers, a few groups at once: a customer's event
 * before her score), so a page that fails between the two is published again on its
 * retry (at least once, never lost).
 */
import { DataError } from '../clv/errors.ts';
import type { EventPublisher, ReportStore, ScoringCustomer, ScoringStore, SegmentCursor } from '../ports.ts';
import { type ReportPart, addCustomer, emptyReportPart, finishPart } from '../report/aggregate.ts';
import { followedAssignments, storeNightReport } from '../report/nightly.ts';
import { erasedOutreachPart } from '../report/erased-outreach.ts';
import { responseSendsSince } from '../report/response.ts';
import type { ScoringConfig } from './config.ts';
import { type FitResult, type ModelRecord, fitNightlyModels } from './fit.ts';
import { type GatheredSummaries, emptyGathered, gatherSummaries, mergeGathered } from './gathered-summaries.ts';
import { type OutreachAssignment, type OutreachCandidate, TopN, mergeTopN, nightlyQuota, outreachCandidate, outreachPeriod, outreachPlannedDetail, planOutreach, unpublishedTreated } from './outreach.ts';
import { type ModelSummary, fitSampleShare, inFitSample, summarizeProfile } from './profile-summary.ts';
import { type RunSummaryPart, addConsumedUnits, addDuration, addFailedSegment, countCustomer, emptyRunSummary, mergeRunSummaries } from './run-summary.ts';
import { type CustomerScore, scoreCustomerBatch } from './score-customer.ts';
import { diffScore } from './score-diff.ts';

/** `reports`: where the finish step stores the night's merged report aggregate (shared/report/); none: not stored. */
export type NightlyDeps = { store: ScoringStore; publisher: EventPublisher; config: ScoringConfig; now: () => Date; reports?: ReportStore };

/** One night: its run id and its as-of day (YYYY-MM-DD). */
export type Night = { runId: string; runDate: string };

/** How much one invocation may do: at least one page, then pages until `maxPages` or `shouldStop()`. */
export type Budget = { pageSize: number; maxPages?: number; shouldStop?: () => boolean };

const DAY_MS = 86_400_000;

/**
 * Reads the segment page by page from `cursor` within the budget and hands each page to `onPage`.
 * The next page is read while `onPage` works on this one (once the budget allows another page,
 * it is read and worked on). Returns the checkpoint after the last page worked on.
 */
async function eachPage(
  deps: NightlyDeps,
  segment: string,
  cursor: SegmentCursor | undefined,
  budget: Budget,
  read: { triggersSince?: Date; scores?: boolean; sendsSince?: Date },
  onPage: (customers: ScoringCustomer[], readUnits: number) => Promise<void>,
): Promise<SegmentCursor | undefined> {
  const readPage = (from: SegmentCursor | undefined) => deps.store.readSegment(segment, from, budget.pageSize, read);
  let page = await readPage(cursor);
  for (let pages = 1; ; pages++) {
    const goOn = page.next !== undefined && !(budget.maxPages !== undefined && pages >= budget.maxPages) && !budget.shouldStop?.();
    const ahead = goOn ? readPage(page.next) : undefined;
    ahead?.catch(() => undefined); // awaited below; a failure of this page's work must not leave it unhandled
    await onPage(page.customers, page.consumedReadUnits);
    if (!ahead) return page.next;
    page = await ahead;
  }
}

// ---------------------------------------------------------------- 0. one pass or two

/** How a night reads the index: `passes: 1` scores with `scoreWith` (an earlier night's model) while gathering tonight's sample. */
export type NightPasses = { passes: 1; scoreWith: ModelRecord } | { passes: 2 };

/**
 * One pass when the newest model of an earlier night (`previous`, as `ScoringStore.previousModel`
 * gives it: run dates before tonight's only, so a rerun of the night chooses the same) is at most
 * `fit.scoreWithPreviousModelDays` days older than tonight, can value customers (it has tier cut
 * points) and was made with tonight's CLV settings; two passes otherwise (the first night, after
 * a gap, the setting 0, a model that could value nobody, changed CLV settings).
 */
export function nightPasses(previous: ModelRecord | undefined, runDate: string, config: ScoringConfig): NightPasses {
  const maxDays = config.fit.scoreWithPreviousModelDays;
  if (maxDays === 0 || !previous || !previous.tierCuts) return { passes: 2 };
  const days = (Date.parse(`${runDate}T00:00:00Z`) - Date.parse(`${previous.runDate}T00:00:00Z`)) / DAY_MS;
  if (!(days >= 1 && days <= maxDays)) return { passes: 2 };
  const sameClv = JSON.stringify(previous.clv) === JSON.stringify(config.clv);
  return sameClv ? { passes: 1, scoreWith: previous } : { passes: 2 };
}

// ---------------------------------------------------------------- 1. gather

export type GatherPart = { gathered: GatheredSummaries; summary: RunSummaryPart };
export const emptyGatherPart = (): GatherPart => ({ gathered: emptyGathered(), summary: emptyRunSummary() });

/** The fit sample's share: everybody up to `fit.maxSample`, then a hash sample sized from the previous run's base. */
export function nightSampleShare(previous: ModelRecord | undefined, config: ScoringConfig): number {
  if (!previous) return 1;
  const s = previous.sample;
  const base = (s.adHocCustomers + s.subscribers + s.withoutHistory) / (s.share > 0 ? s.share : 1);
  return fitSampleShare(base, config.fit.maxSample);
}

/**
 * Summaries of the segment's sampled customers, from `cursor` on, added to `part`. The segment is
 * read whole (index pages, which cost by the kilobyte, not by the customer) and the sample kept.
 * The part's summary counts read units and time, not customers (the scoring step counts those).
 */
export async function gatherSegment(
  deps: NightlyDeps,
  input: { night: Night; segment: string; cursor?: SegmentCursor; sampleShare: number; part?: GatherPart; budget: Budget },
): Promise<GatherPart & { next?: SegmentCursor }> {
  const started = deps.now().getTime();
  let { gathered, summary } = input.part ?? emptyGatherPart();
  const next = await eachPage(deps, input.segment, input.cursor, input.budget, { scores: false }, async (customers, consumedReadUnits) => {
    summary = addConsumedUnits(summary, { read: consumedReadUnits });
    gathered = mergeGathered(gathered, sampledSummaries(deps.config, customers, input.night.runDate, input.sampleShare));
  });
  summary = addDuration(summary, 'gather', deps.now().getTime() - started);
  return { gathered, summary, ...(next && { next }) };
}

/** The fit sample's summaries among a page's customers, compressed (the gather step's, and the one-pass score step's). */
function sampledSummaries(config: ScoringConfig, customers: readonly ScoringCustomer[], runDate: string, sampleShare: number): GatheredSummaries {
  const summaries: ModelSummary[] = [];
  for (const c of customers) {
    if (!c.profile || !inFitSample(c.customerId, config.fit.sampleSalt, sampleShare)) continue;
    try {
      summaries.push(summarizeProfile(c.profile, runDate));
    } catch (err) {
      // left out of the fit; the scoring step counts the customer as unscorable, with the reason
      if (!(err instanceof DataError)) throw err;
    }
  }
  return gatherSummaries(summaries);
}

// ---------------------------------------------------------------- 2. fit

export type NightModel = {
  model: ModelRecord;
  fit: Pick<FitResult, 'status' | 'components' | 'alarm'>;
  /** outreach candidates each worker keeps: tonight's quota + those already planned this month (skipped by the plan) */
  keep: number;
  /** whether this attempt fitted, or found the model an earlier attempt of the night stored */
  reused: boolean;
};

/** Fits tonight's models from the merged summaries, or finds the model an earlier attempt of this night stored. */
export async function fitNight(deps: NightlyDeps, input: { night: Night; gathered: GatheredSummaries; sampleShare: number }): Promise<NightModel> {
  const { night, config } = { night: input.night, config: deps.config };
  const keep = await candidatesToKeep(deps, night);
  const stored = await deps.store.getModel(night.runId, night.runDate);
  if (stored) return { model: stored, fit: fitOutcomeOf(stored, night.runId), keep, reused: true };
  const previous = await deps.store.previousModel(night.runDate);
  const fit = fitNightlyModels({ runId: night.runId, runDate: night.runDate, gathered: input.gathered, sampleShare: input.sampleShare, previous, config });
  const put = await deps.store.putModel(fit.model);
  if (!put.created) return { model: put.model, fit: fitOutcomeOf(put.model, night.runId), keep, reused: true };
  return { model: put.model, fit: { status: fit.status, components: fit.components, alarm: fit.alarm }, keep, reused: false };
}

/**
 * What a stored model says of its fit (a rerun reports the model it scores with): the outcome
 * stored with it; for an item stored before the outcome was kept, what its components show
 * (the reasons and the alarm of that night are not known then).
 */
function fitOutcomeOf(model: ModelRecord, runId: string): NightModel['fit'] {
  if (model.fit) return model.fit;
  const of = (c: { fittedInRun: string } | undefined) =>
    !c ? ({ source: 'none', reason: 'never fitted' } as const) : c.fittedInRun === runId ? ({ source: 'tonight' } as const) : ({ source: 'previous', reason: `kept from ${c.fittedInRun}` } as const);
  const components = { bgnbd: of(model.bgnbd), gammaGamma: of(model.gammaGamma), sbg: of(model.sbg), tierCuts: model.tierCuts ? ({ source: 'tonight' } as const) : ({ source: 'none', reason: 'no cut points' } as const) };
  const degraded = [components.bgnbd, components.gammaGamma, components.sbg].some((c) => c.source !== 'tonight');
  return { status: degraded ? 'degraded' : 'fitted', components, alarm: false };
}

/** Outreach candidates each score worker keeps (the fit step's `keep`; a one-pass night needs it before the fit). */
export async function candidatesToKeep(deps: NightlyDeps, night: Night): Promise<number> {
  const o = deps.config.outreach;
  const existing = await deps.store.outreachAssignments(o.experimentId, outreachPeriod(night.runDate));
  const before = existing.filter((a) => a.plannedOn < night.runDate).length;
  return nightlyQuota(night.runDate, o.customersPerMonth, before).quota + existing.length;
}

// ---------------------------------------------------------------- 3. score

/** `report`: the segment's report aggregate (absent in parts from before it was kept); `gathered`: a one-pass night's fit sample. */
export type ScorePart = { summary: RunSummaryPart; top: OutreachCandidate[]; report?: ReportPart; gathered?: GatheredSummaries };
export const emptyScorePart = (): ScorePart => ({ summary: emptyRunSummary(), top: [] });

/** The end of the run date (UTC), as scoring sees it. */
const endOfRunDate = (runDate: string): Date => new Date(Date.parse(`${runDate}T00:00:00Z`) + DAY_MS - 1);

/**
 * Scores the segment from `cursor` on within the budget, adding to `part`. Returns the
 * merged part and the checkpoint (absent: the segment is done). With `gather` (a one-pass
 * night), it also gathers tonight's fit sample from the pages it reads, as `gatherSegment` does
 * (`gathered`, added to the part's).
 */
export async function scoreSegment(
  deps: NightlyDeps,
  input: { night: Night; model: ModelRecord; keep: number; segment: string; cursor?: SegmentCursor; part?: ScorePart; budget: Budget; gather?: { sampleShare: number } },
): Promise<ScorePart & { next?: SegmentCursor }> {
  const { config, store } = deps;
  const { night, model } = input;
  const started = deps.now().getTime();
  const triggersSince = new Date(endOfRunDate(night.runDate).getTime() - config.churn.triggerMaxAgeDays * DAY_MS);
  let summary = input.part?.summary ?? emptyRunSummary();
  const top = new TopN(input.keep);
  for (const c of input.part?.top ?? []) top.offer(c);
  const report = input.part?.report ? structuredClone(input.part.report) : emptyReportPart();
  const gather = input.gather;
  let gathered = gather ? (input.part?.gathered ?? emptyGathered()) : undefined;
  const assigned = await followedAssignments(store, config.outreach.experimentId, night.runDate, config.churn.horizonMonths);
  const response = config.campaignResponse.decisionDays > 0 ? config.campaignResponse : undefined;
  const sendsSince = response && responseSendsSince(night.runDate, response);
  const next = await eachPage(deps, input.segment, input.cursor, input.budget, { triggersSince, ...(sendsSince && { sendsSince }) }, async (customers, consumedReadUnits) => {
    summary = addConsumedUnits(summary, { read: consumedReadUnits });
    if (gather) gathered = mergeGathered(gathered!, sampledSummaries(config, customers, night.runDate, gather.sampleShare));
    const present = customers.filter((c) => c.profile);
    for (let i = present.length; i < customers.length; i++) summary = countCustomer(summary, { status: 'skipped', reason: 'profile not found' });
    const outcomes = scoreCustomerBatch(
      present.map((c) => ({ profile: c.profile!, triggers: c.triggers, stored: c.stored })),
      { model, runDate: night.runDate, config },
    );
    const toWrite: CustomerScore[] = [];
    const toEmit: CustomerScore[] = [];
    outcomes.forEach((o, k) => {
      if (o.status !== 'scored') {
        summary = countCustomer(summary, { status: 'skipped', reason: o.reason });
        return;
      }
      const change = diffScore(present[k]!.stored, o.score, config.writeThresholds);
      if (change.write) toWrite.push(o.score);
      if (change.emit) toEmit.push(o.score);
      summary = countCustomer(summary, change.write ? { status: 'written', emitted: change.emit } : { status: 'unchanged' });
      const candidate = outreachCandidate(o.score, config.outreach);
      if (candidate) top.offer(candidate);
      addCustomer(
        report,
        { profile: present[k]!.profile!, score: o.score, assignments: assigned.get(o.score.customerId), sends: present[k]!.sends },
        { runDate: night.runDate, horizonMonths: config.churn.horizonMonths, ...(response && { response }) },
      );
    });
    const { consumedWriteUnits } = await publishThenWrite(deps, toEmit, toWrite, deps.now().toISOString());
    summary = addConsumedUnits(summary, { write: consumedWriteUnits });
  });
  summary = addDuration(summary, 'score', deps.now().getTime() - started);
  return { summary, top: top.toArray(), report: finishPart(report), ...(gathered && { gathered }), ...(next && { next }) };
}

/**
 * Customers of a page published, then written, together (five PutEvents, two BatchWriteItem calls),
 * and groups in flight at once (a segment's BatchWriteItem calls in flight: four, as writeScores alone has).
 */
const GROUP_SIZE = 50;
const GROUPS_AT_ONCE = 2;

/**
 * Publishes a page's `CustomerRescored` events and writes its scores, in groups of customers: a
 * group's events are published before its scores are written (a customer's score is never written
 * before her event is published), and `GROUPS_AT_ONCE` groups go on at once, so one group's
 * events are published while another's scores are written. A failure stops the groups not begun;
 * those in flight finish first. Returns the write units consumed.
 */
async function publishThenWrite(deps: NightlyDeps, toEmit: readonly CustomerScore[], toWrite: readonly CustomerScore[], scoredAt: string): Promise<{ consumedWriteUnits: number }> {
  const rescored = (scores: readonly CustomerScore[]) =>
    scores.map((s) => ({
      detailType: 'CustomerRescored' as const,
      detail: { customerId: s.customerId, clv: s.clv, churnRisk: s.churnRisk, valueTier: s.valueTier, nextBestAction: s.nextBestAction, scoredAt, schemaVersion: 1 as const },
    }));
  const writing = new Set(toWrite.map((s) => s.customerId));
  // an event without a score to write (none today: a changed tier or band is a written score) is published first
  const alone = toEmit.filter((s) => !writing.has(s.customerId));
  if (alone.length > 0) await deps.publisher.publish(rescored(alone));
  const emitting = new Set(toEmit.map((s) => s.customerId));
  let consumedWriteUnits = 0;
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < toWrite.length) {
      const group = toWrite.slice(next, (next += GROUP_SIZE));
      try {
        const events = group.filter((s) => emitting.has(s.customerId));
        if (events.length > 0) await deps.publisher.publish(rescored(events));
        const written = await deps.store.writeScores(group);
        consumedWriteUnits += written.consumedWriteUnits;
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const workers = await Promise.allSettled(Array.from({ length: Math.min(GROUPS_AT_ONCE, Math.ceil(toWrite.length / GROUP_SIZE)) }, worker));
  const failure = workers.find((w): w is PromiseRejectedResult => w.status === 'rejected');
  if (failure) throw failure.reason;
  return { consumedWriteUnits };
}

// ---------------------------------------------------------------- 4. finish

export type NightResult = {
  /** the model the night scored with (an earlier night's in one pass) */
  modelId: string;
  /** the model fitted (or reused) tonight, and whether each part was tonight's fit (with why not) */
  fittedModelId: string;
  /** 1: scored with an earlier night's model while gathering tonight's sample; 2: gathered, fitted, then scored */
  passes: 1 | 2;
  fit: NightModel['fit'];
  summary: RunSummaryPart;
  outreach: { period: string; quota: number; planned: number; created: number; treated: number };
};

/**
 * Merges the segments' parts (and the gather step's), plans tonight's outreach, stores the
 * new assignments once and publishes `OutreachPlanned` for each treated assignment not yet
 * marked published (tonight's, or one an earlier attempt failed to publish, whatever its month), then the
 * run summary (`NightlyRunCompleted`). `failedSegments` are the segments that gave up: they
 * are named in the summary, and a rerun of the night resumes them.
 */
export async function finishNight(
  deps: NightlyDeps,
  input: { night: Night; model: NightModel; parts: readonly ScorePart[]; gather?: RunSummaryPart; failedSegments?: readonly string[]; scoredWith?: { modelId: string }; passes?: 1 | 2 },
): Promise<NightResult> {
  const { store, publisher, config } = deps;
  const { night } = input;
  const started = deps.now().getTime();
  let summary = input.parts.map((p) => p.summary).reduce(mergeRunSummaries, input.gather ?? emptyRunSummary());
  // a one-pass night's failed segment failed its gathering and its scoring at once: named once
  for (const s of new Set(input.failedSegments ?? [])) summary = addFailedSegment(summary, s);
  const ranked = mergeTopN(input.model.keep, input.parts.map((p) => p.top));
  const o = config.outreach;
  const existing = await store.outreachAssignments(o.experimentId, outreachPeriod(night.runDate));
  const plan = planOutreach({ ranked, existing, runDate: night.runDate, runId: night.runId, config: o });
  let created = 0;
  const held = [...existing];
  // Each put is conditional on its own key (never reassigned): a few at once, kept in the plan's order.
  for (let at = 0; at < plan.created.length; at += OUTREACH_WRITES_AT_ONCE) {
    const puts = await Promise.all(plan.created.slice(at, at + OUTREACH_WRITES_AT_ONCE).map((a) => store.putOutreachAssignment({ ...a, plannedAt: deps.now().toISOString() })));
    for (const put of puts) {
      if (put.status === 'created') created++;
      held.push(put.assignment);
    }
  }
  // Stored first, then published, then marked: an attempt that fails in between leaves the mark
  // unset and the next attempt (a retry, a rerun, the next night, in this month or a later one)
  // publishes it again. `unpublishedOutreach` holds those of any period; `held`, tonight's too
  // (and any of this month stored before the store kept the unpublished list).
  await publishThenMark(deps, unpublishedTreated([...(await store.unpublishedOutreach()), ...held]));
  // Erased customers' assignments count through their anonymous residues (shared/report/erased-outreach.ts).
  const erased = deps.reports ? await erasedOutreachPart(store, o.experimentId, night.runDate, config.churn.horizonMonths) : undefined;
  await storeNightReport(deps.reports, night, [...input.parts.map((p) => p.report), erased], deps.now());
  summary = addDuration(summary, 'finish', deps.now().getTime() - started);
  const outreach = { period: plan.period, quota: plan.quota, planned: plan.tonight.length, created, treated: plan.tonight.filter((a) => a.group === 'treatment').length };
  const models = { modelId: input.scoredWith?.modelId ?? input.model.model.modelId, fittedModelId: input.model.model.modelId, passes: input.passes ?? 2 };
  await publisher.publish([{ detailType: 'NightlyRunCompleted', detail: runCompletedDetail(night, input.model, models, summary, outreach, deps.now()) }]);
  return { ...models, fit: input.model.fit, summary, outreach };
}

/** Outreach assignments put, or marked published, at once. */
const OUTREACH_WRITES_AT_ONCE = 8;

/**
 * Publishes each assignment's `OutreachPlanned`, one after the other in order, and marks each
 * published once its event is: the marks run behind the publishes (at most
 * `OUTREACH_WRITES_AT_ONCE` in flight). A failed publish stops there; the marks of those published
 * before it are awaited first. A failed mark stops the publishing (the assignment stays unpublished:
 * published again by the next attempt, deduplicable by its planId).
 */
async function publishThenMark(deps: NightlyDeps, treated: readonly OutreachAssignment[]): Promise<void> {
  const marking = new Set<Promise<void>>();
  let markFailed: { error: unknown } | undefined;
  try {
    for (const a of treated) {
      if (markFailed) break;
      await deps.publisher.publish([{ detailType: 'OutreachPlanned', detail: outreachPlannedDetail(a, deps.now()) }]);
      const mark: Promise<void> = deps.store.markOutreachPublished(a, deps.now()).then(
        () => void marking.delete(mark),
        (error: unknown) => {
          markFailed ??= { error };
          marking.delete(mark);
        },
      );
      marking.add(mark);
      if (marking.size >= OUTREACH_WRITES_AT_ONCE) await Promise.race(marking);
    }
  } finally {
    await Promise.all(marking);
  }
  if (markFailed) throw markFailed.error;
}

function runCompletedDetail(night: Night, m: NightModel, models: Pick<NightResult, 'modelId' | 'fittedModelId' | 'passes'>, s: RunSummaryPart, outreach: NightResult['outreach'], at: Date) {
  const params = (p: object | undefined) => (p ? (Object.fromEntries(Object.entries(p).filter(([, v]) => typeof v === 'number')) as Record<string, number>) : undefined);
  const component = (name: 'bgnbd' | 'gammaGamma' | 'sbg') => {
    const c = m.fit.components[name];
    const fit = m.model[name];
    return { source: c.source, ...(c.source !== 'tonight' && { reason: c.reason }), ...(fit && { params: params(fit.params), logLikelihood: fit.logLikelihood }) };
  };
  return {
    runId: night.runId,
    runDate: night.runDate,
    modelId: models.modelId,
    fittedModelId: models.fittedModelId,
    passes: models.passes,
    fitStatus: m.fit.status,
    alarm: m.fit.alarm,
    models: { bgnbd: component('bgnbd'), gammaGamma: component('gammaGamma'), sbg: component('sbg') },
    customersRead: s.customersRead,
    written: s.written,
    unchanged: s.unchanged,
    skipped: s.skipped,
    skippedReasons: s.skippedReasons,
    failed: s.failed,
    emitted: s.emitted,
    consumedReadUnits: s.consumedReadUnits,
    consumedWriteUnits: s.consumedWriteUnits,
    durations: s.durations,
    failedSegments: s.failedSegments,
    outreach: { period: outreach.period, quota: outreach.quota, planned: outreach.planned, treated: outreach.treated },
    completedAt: at.toISOString(),
    schemaVersion: 1 as const,
  };
}

/** The run date of a scheduled time: the day before, in UTC (the night scores the day that just ended). */
export const runDateOf = (scheduledTime: string): string => new Date(Date.parse(scheduledTime) - DAY_MS).toISOString().slice(0, 10);
