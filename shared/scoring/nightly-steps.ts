/**
 * The nightly run's steps as the state machine invokes them: one JSON input per step, validated,
 * and one JSON output that the next state takes. `runNightlyStep` dispatches to the services of
 * nightly-run.ts. The state carries ids, checkpoints, the summaries and the keys of the parts,
 * never the model item (each step reads it from the store by run id: JSON cannot hold an
 * infinite tier cut) nor the parts themselves: each segment invocation stores what it gathered or
 * its outreach top N as a run part (ScoringStore.putRunPart, in the table with a TTL) and passes
 * the key on, so the state stays a few KB at any base size (Step Functions' limit is 256 KB).
 *
 *  start   (the schedule's input: { subscription, scheduledTime }) → the night, its segments and
 *          `passes` (nightPasses): 2, or 1 with `scoreWith` (the earlier night whose model scores) and `keep`
 *  gather  { night, sampleShare, segment, cursor?, part? } → the same with the new cursor and part ({keys, summary}), and `done`
 *  fit     { night, sampleShare, scoreWith?, results } → { modelId, keep, fit, gather, scoredWith, passes } (reads the
 *          gathered parts by key: the gather steps' parts, or a one-pass night's score steps' `gatherKeys`)
 *  score   { night, keep, segment, scoreWith?, sampleShare?, cursor?, part? } → the same with the new cursor and part
 *          ({keys, summary, gatherKeys?}), and `done`. With `scoreWith` it scores with that night's model; with
 *          `sampleShare` too it gathers tonight's fit sample as well (one pass), stored as parts like the gather step's
 *  finish  { night, keep, fit, results, gather, failedSegments, scoredWith?, passes? } → the night's result (reads the top-N parts by key)
 */
import { z } from 'zod';
import { allScoringShards } from '../data-model/keys.ts';
import type { SegmentCursor } from '../ports.ts';
import { mergeGathered, emptyGathered, type GatheredSummaries } from './gathered-summaries.ts';
import type { OutreachCandidate } from './outreach.ts';
import type { ReportPart } from '../report/aggregate.ts';
import { reportPartSchema } from '../report/part-schema.ts';
import { addConsumedUnits, emptyRunSummary, mergeRunSummaries, type RunSummaryPart } from './run-summary.ts';
import {
  type Budget,
  type NightModel,
  type NightResult,
  type NightlyDeps,
  type ScorePart,
  candidatesToKeep,
  finishNight,
  fitNight,
  gatherSegment,
  nightPasses,
  nightSampleShare,
  runDateOf,
  scoreSegment,
} from './nightly-run.ts';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const night = z.object({ runId: z.string().regex(/^[A-Za-z0-9._:-]{1,80}$/), runDate: day }).strict();
const segment = z.string().regex(/^SHARD#\d{2}$/);
const cursor = z.record(z.string(), z.string());
const count = z.number().int().nonnegative();
const units = z.number().nonnegative();
const summary = z
  .object({
    customersRead: count,
    written: count,
    unchanged: count,
    skipped: count,
    skippedReasons: z.record(z.string(), count),
    failed: count,
    emitted: count,
    consumedReadUnits: units,
    consumedWriteUnits: units,
    durations: z.record(z.string(), z.object({ count, totalMs: units, maxMs: units }).strict()),
    failedSegments: z.array(z.string()),
  })
  .strict() satisfies z.ZodType<RunSummaryPart>;
/** A segment's part as the state carries it: the keys of what its invocations stored, and its summary so far. */
const partKey = z.string().regex(/^[A-Za-z0-9#:._-]{1,200}$/);
const statePart = z.object({ keys: z.array(partKey).max(1000), summary }).strict();
export type StatePart = z.infer<typeof statePart>;
const gatherPart = statePart;
/** `gatherKeys`: the keys of the fit sample a one-pass night's score invocations gathered. */
const scorePart = z.object({ keys: z.array(partKey).max(1000), summary, gatherKeys: z.array(partKey).max(1000).optional() }).strict();
const share = z.number().gt(0).max(1);
const outcome = z.union([
  z.object({ source: z.literal('tonight') }).strict(),
  z.object({ source: z.enum(['previous', 'none']), reason: z.string() }).strict(),
]);
const fitOutcome = z
  .object({ status: z.enum(['fitted', 'degraded']), alarm: z.boolean(), components: z.object({ bgnbd: outcome, gammaGamma: outcome, sbg: outcome, tierCuts: outcome }).strict() })
  .strict();

const gatherDone = z.object({ step: z.literal('gather'), night, sampleShare: share, segment, part: gatherPart, done: z.literal(true) }).strict();
/** A score step's settings; a one-pass night's also name the earlier night whose model scores (`scoreWith`) and, while they gather, the fit sample's share. */
const scoreFields = { step: z.literal('score'), night, keep: count, segment, scoreWith: night.optional(), sampleShare: share.optional() };
const scoreDone = z.object({ ...scoreFields, part: scorePart, done: z.literal(true) }).strict();
/** A segment that gave up after its retries (the state machine's Catch): named in the run summary, resumed by a rerun. */
const segmentFailed = z.object({ segment, failed: z.literal(true) }).strict();

export const nightlyStepSchema = z.union([
  z.object({ subscription: z.string(), scheduledTime: z.iso.datetime({ offset: true }) }).strict(),
  z.object({ step: z.literal('gather'), night, sampleShare: share, segment, cursor: cursor.optional(), part: gatherPart.optional(), done: z.literal(false).optional() }).strict(),
  z.object({ step: z.literal('fit'), night, sampleShare: share, scoreWith: night.optional(), results: z.array(z.union([gatherDone, scoreDone, segmentFailed])) }).strict(),
  z.object({ ...scoreFields, cursor: cursor.optional(), part: scorePart.optional(), done: z.literal(false).optional() }).strict(),
  z
    .object({
      step: z.literal('finish'),
      night,
      keep: count,
      fit: fitOutcome,
      results: z.array(z.union([scoreDone, segmentFailed])),
      gather: summary,
      failedSegments: z.array(segment),
      scoredWith: night.optional(),
      passes: z.union([z.literal(1), z.literal(2)]).optional(),
    })
    .strict(),
]);
export type NightlyStep = z.infer<typeof nightlyStepSchema>;

type NightRef = { runId: string; runDate: string };
/** `passes: 1`: the segments are scored with the model of `scoreWith`, keeping `keep` candidates, and gather tonight's sample. */
export type StartOutput = { night: NightRef; sampleShare: number; segments: string[] } & ({ passes: 2 } | { passes: 1; scoreWith: NightRef; keep: number });
/**
 * A segment step's output is its own next input (the step, the night and its settings, the
 * checkpoint and the part so far) plus `done`: a state machine loops by passing the output
 * back until `done` is true.
 */
export type SegmentOutput<S extends 'gather' | 'score'> = (S extends 'gather' ? { step: S; sampleShare: number } : { step: S; keep: number; scoreWith?: NightRef; sampleShare?: number }) & {
  night: NightRef;
  segment: string;
  part: StatePart & { gatherKeys?: string[] };
  cursor?: SegmentCursor;
  done: boolean;
};
/**
 * `failedSegments`: the segments whose gathering failed (the fit went on without them); `scoredWith`:
 * the night whose model scored (tonight, or the earlier night of a one-pass night); `passes`: 1 or 2.
 */
export type FitOutput = { modelId: string; keep: number; fit: NightModel['fit']; reused: boolean; gather: RunSummaryPart; failedSegments: string[]; scoredWith: NightRef; passes: 1 | 2 };

/** The run id of a night: one per run date, so a rerun of a night is the same run (it resumes, reuses its model). */
export const runIdOf = (runDate: string): string => `run-${runDate}`;

/** What a score invocation stores as its run part: its outreach top N and its report aggregate. */
type StoredScorePart = { top: OutreachCandidate[]; report?: ReportPart };

/** Stores an invocation's part (when there is one) and adds its key and the units the put consumed to the state's part. */
async function keepPart(deps: NightlyDeps, runId: string, name: string, data: unknown, part: StatePart): Promise<StatePart> {
  if (data === undefined) return part;
  const put = await deps.store.putRunPart(runId, name, data);
  return { keys: [...part.keys, put.key], summary: addConsumedUnits(part.summary, { write: put.consumedWriteUnits }) };
}

const anyGathered = (g: GatheredSummaries): boolean => g.adHoc.length + g.tenures.length + g.withoutHistory > 0;

/** Runs one validated step. `budget` bounds the segment steps (one invocation's share of a segment). */
export async function runNightlyStep(
  deps: NightlyDeps,
  step: NightlyStep,
  budget: Budget,
): Promise<StartOutput | SegmentOutput<'gather'> | SegmentOutput<'score'> | FitOutput | NightResult> {
  if (!('step' in step)) {
    const runDate = runDateOf(step.scheduledTime);
    const previous = await deps.store.previousModel(runDate);
    const start = { night: { runId: runIdOf(runDate), runDate }, sampleShare: nightSampleShare(previous, deps.config), segments: allScoringShards() };
    const plan = nightPasses(previous, runDate, deps.config);
    if (plan.passes === 2) return { ...start, passes: 2 };
    return { ...start, passes: 1, scoreWith: { runId: plan.scoreWith.runId, runDate: plan.scoreWith.runDate }, keep: await candidatesToKeep(deps, start.night) };
  }
  switch (step.step) {
    case 'gather': {
      // This invocation's summaries go to a run part of their own; the state keeps its key and the summary.
      const prior = step.part ?? { keys: [], summary: emptyRunSummary() };
      // A rerun of a night whose model is stored fits nothing (it reuses the model): nothing to gather.
      if (!step.cursor && !step.part && (await deps.store.getModel(step.night.runId, step.night.runDate))) {
        return { step: 'gather', night: step.night, sampleShare: step.sampleShare, segment: step.segment, part: prior, done: true };
      }
      const { next, gathered, summary } = await gatherSegment(deps, { night: step.night, segment: step.segment, sampleShare: step.sampleShare, budget, ...(step.cursor && { cursor: step.cursor }), part: { gathered: emptyGathered(), summary: prior.summary } });
      const part = await keepPart(deps, step.night.runId, `gather#${step.segment}`, anyGathered(gathered) ? gathered : undefined, { keys: prior.keys, summary });
      return { step: 'gather', night: step.night, sampleShare: step.sampleShare, segment: step.segment, part, ...(next && { cursor: next }), done: !next };
    }
    case 'fit': {
      const parts = step.results.flatMap((r) => ('step' in r && r.step === 'gather' ? [r.part] : []));
      // a one-pass night's sample, gathered by its score steps
      const scored = step.results.flatMap((r) => ('step' in r && r.step === 'score' ? [r.part] : []));
      const read = await deps.store.getRunParts(step.night.runId, [...parts.flatMap((p) => p.keys), ...scored.flatMap((p) => p.gatherKeys ?? [])]);
      const merged = (read.parts as GatheredSummaries[]).reduce(mergeGathered, emptyGathered());
      const m = await fitNight(deps, { night: step.night, gathered: merged, sampleShare: step.sampleShare });
      // the gather steps' summaries and the read of the parts (the score steps' summaries are counted by finish)
      const gather = addConsumedUnits(parts.map((p) => p.summary).reduce(mergeRunSummaries, emptyRunSummary()), { read: read.consumedReadUnits });
      const failedSegments = step.results.flatMap((r) => ('failed' in r ? [r.segment] : []));
      return { modelId: m.model.modelId, keep: m.keep, fit: m.fit, reused: m.reused, gather, failedSegments, scoredWith: step.scoreWith ?? step.night, passes: step.scoreWith ? 1 : 2 };
    }
    case 'score': {
      const by = step.scoreWith ?? step.night;
      const model = await deps.store.getModel(by.runId, by.runDate);
      if (!model) throw new Error(step.scoreWith ? `no model stored for run ${by.runId}, which this one-pass night scores with` : `no model stored for run ${step.night.runId}: the fit step must run first`);
      // This invocation's outreach top N goes to a run part of its own (finish merges them all).
      const prior = step.part ?? { keys: [], summary: emptyRunSummary() };
      // A one-pass segment gathers tonight's sample unless tonight's model is stored (a rerun after the
      // fit, which reuses it), as a gather step would; decided at its first invocation, kept in the state.
      const gathering = step.sampleShare !== undefined && (step.cursor || step.part || !(await deps.store.getModel(step.night.runId, step.night.runDate)));
      const settings = { step: 'score' as const, night: step.night, keep: step.keep, segment: step.segment, ...(step.scoreWith && { scoreWith: step.scoreWith }), ...(gathering && { sampleShare: step.sampleShare }) };
      // ... with its report aggregate (shared/report/): each invocation's own, merged by finish.
      const { next, top, summary, report, gathered } = await scoreSegment(deps, {
        night: step.night,
        model,
        keep: step.keep,
        segment: step.segment,
        budget,
        ...(step.cursor && { cursor: step.cursor }),
        part: { summary: prior.summary, top: [] },
        ...(gathering && { gather: { sampleShare: step.sampleShare! } }),
      });
      const data: StoredScorePart | undefined = top.length > 0 || report ? { top, ...(report && { report }) } : undefined;
      const scoredPart = await keepPart(deps, step.night.runId, `score#${step.segment}`, data, { keys: prior.keys, summary });
      // ... and the sample it gathered to a part of its own (the fit reads those by key).
      const gatheredPart = await keepPart(deps, step.night.runId, `gather#${step.segment}`, gathered && anyGathered(gathered) ? gathered : undefined, { keys: prior.gatherKeys ?? [], summary: scoredPart.summary });
      const part = { keys: scoredPart.keys, summary: gatheredPart.summary, ...((prior.gatherKeys || gathering) && { gatherKeys: gatheredPart.keys }) };
      return { ...settings, part, ...(next && { cursor: next }), done: !next };
    }
    case 'finish': {
      const model = await deps.store.getModel(step.night.runId, step.night.runDate);
      if (!model) throw new Error(`no model stored for run ${step.night.runId}: the fit step must run first`);
      const by = step.scoredWith ?? step.night;
      const scoredWith = by.runId === step.night.runId ? model : await deps.store.getModel(by.runId, by.runDate);
      if (!scoredWith) throw new Error(`no model stored for run ${by.runId}, which this night scored with`);
      const parts = step.results.flatMap((r) => ('part' in r ? [r.part] : []));
      const read = await deps.store.getRunParts(step.night.runId, parts.flatMap((p) => p.keys));
      const tops: ScorePart[] = (read.parts as (StoredScorePart | OutreachCandidate[])[]).map((d) => {
        const stored = Array.isArray(d) ? { top: d } : d; // a part stored before report aggregates were kept: its top N alone
        return { summary: emptyRunSummary(), top: stored.top, ...(stored.report && { report: reportPartSchema.parse(stored.report) }) };
      });
      return finishNight(deps, {
        night: step.night,
        model: { model, fit: step.fit, keep: step.keep, reused: false },
        parts: [...parts.map((p) => ({ summary: p.summary, top: [] })), ...tops],
        gather: addConsumedUnits(step.gather, { read: read.consumedReadUnits }),
        failedSegments: [...step.failedSegments, ...step.results.flatMap((r) => ('failed' in r ? [r.segment] : []))],
        scoredWith: { modelId: scoredWith.modelId },
        passes: step.passes ?? 2,
      });
    }
  }
}
