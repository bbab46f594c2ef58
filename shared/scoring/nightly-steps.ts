/**
 * The nightly run's steps as the state machine invokes them: one JSON input per step, validated,
 * and one JSON output that the next state takes. `runNightlyStep` dispatches to the services of
 * nightly-run.ts. The state carries ids, checkpoints, the summaries and the keys of the parts,
 * never the model item (each step reads it from the store by run id: JSON cannot hold an
 * infinite tier cut) nor the parts themselves: each segment invocation stores what it gathered or
 * its outreach top N as a run part (ScoringStore.putRunPart, in the table with a TTL) and passes
 * the key on, so the state stays a few KB at any base size (Step Functions' limit is 256 KB).
 *
 *  start   (the schedule's input: { subscription, scheduledTime }) → the night and its segments
 *  gather  { night, sampleShare, segment, cursor?, part? } → the same with the new cursor and part ({keys, summary}), and `done`
 *  fit     { night, sampleShare, results } → { modelId, keep, fit, gather } (reads the gathered parts by key)
 *  score   { night, keep, segment, cursor?, part? } → the same with the new cursor and part ({keys, summary}), and `done`
 *  finish  { night, keep, fit, results, gather, failedSegments } → the night's result (reads the top-N parts by key)
 */
import { z } from 'zod';
import { allScoringShards } from '../data-model/keys.ts';
import type { SegmentCursor } from '../ports.ts';
import { mergeGathered, emptyGathered, type GatheredSummaries } from './gathered-summaries.ts';
import type { OutreachCandidate } from './outreach.ts';
import { addConsumedUnits, emptyRunSummary, mergeRunSummaries, type RunSummaryPart } from './run-summary.ts';
import {
  type Budget,
  type NightModel,
  type NightResult,
  type NightlyDeps,
  type ScorePart,
  finishNight,
  fitNight,
  gatherSegment,
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
const scorePart = statePart;
const share = z.number().gt(0).max(1);
const outcome = z.union([
  z.object({ source: z.literal('tonight') }).strict(),
  z.object({ source: z.enum(['previous', 'none']), reason: z.string() }).strict(),
]);
const fitOutcome = z
  .object({ status: z.enum(['fitted', 'degraded']), alarm: z.boolean(), components: z.object({ bgnbd: outcome, gammaGamma: outcome, sbg: outcome, tierCuts: outcome }).strict() })
  .strict();

const gatherDone = z.object({ step: z.literal('gather'), night, sampleShare: share, segment, part: gatherPart, done: z.literal(true) }).strict();
const scoreDone = z.object({ step: z.literal('score'), night, keep: count, segment, part: scorePart, done: z.literal(true) }).strict();
/** A segment that gave up after its retries (the state machine's Catch): named in the run summary, resumed by a rerun. */
const segmentFailed = z.object({ segment, failed: z.literal(true) }).strict();

export const nightlyStepSchema = z.union([
  z.object({ subscription: z.string(), scheduledTime: z.iso.datetime({ offset: true }) }).strict(),
  z.object({ step: z.literal('gather'), night, sampleShare: share, segment, cursor: cursor.optional(), part: gatherPart.optional(), done: z.literal(false).optional() }).strict(),
  z.object({ step: z.literal('fit'), night, sampleShare: share, results: z.array(z.union([gatherDone, segmentFailed])) }).strict(),
  z.object({ step: z.literal('score'), night, keep: count, segment, cursor: cursor.optional(), part: scorePart.optional(), done: z.literal(false).optional() }).strict(),
  z
    .object({ step: z.literal('finish'), night, keep: count, fit: fitOutcome, results: z.array(z.union([scoreDone, segmentFailed])), gather: summary, failedSegments: z.array(segment) })
    .strict(),
]);
export type NightlyStep = z.infer<typeof nightlyStepSchema>;

export type StartOutput = { night: { runId: string; runDate: string }; sampleShare: number; segments: string[] };
/**
 * A segment step's output is its own next input (the step, the night and its settings, the
 * checkpoint and the part so far) plus `done`: a state machine loops by passing the output
 * back until `done` is true.
 */
export type SegmentOutput<S extends 'gather' | 'score'> = (S extends 'gather' ? { step: S; sampleShare: number } : { step: S; keep: number }) & {
  night: { runId: string; runDate: string };
  segment: string;
  part: StatePart;
  cursor?: SegmentCursor;
  done: boolean;
};
/** `failedSegments`: the segments whose gathering failed (the fit went on without them). */
export type FitOutput = { modelId: string; keep: number; fit: NightModel['fit']; reused: boolean; gather: RunSummaryPart; failedSegments: string[] };

/** The run id of a night: one per run date, so a rerun of a night is the same run (it resumes, reuses its model). */
export const runIdOf = (runDate: string): string => `run-${runDate}`;

/** Stores an invocation's part (when there is one) and adds its key and the units the put consumed to the state's part. */
async function keepPart(deps: NightlyDeps, runId: string, name: string, data: unknown, part: StatePart): Promise<StatePart> {
  if (data === undefined) return part;
  const put = await deps.store.putRunPart(runId, name, data);
  return { keys: [...part.keys, put.key], summary: addConsumedUnits(part.summary, { write: put.consumedWriteUnits }) };
}

/** Runs one validated step. `budget` bounds the segment steps (one invocation's share of a segment). */
export async function runNightlyStep(
  deps: NightlyDeps,
  step: NightlyStep,
  budget: Budget,
): Promise<StartOutput | SegmentOutput<'gather'> | SegmentOutput<'score'> | FitOutput | NightResult> {
  if (!('step' in step)) {
    const runDate = runDateOf(step.scheduledTime);
    const previous = await deps.store.previousModel(runDate);
    return { night: { runId: runIdOf(runDate), runDate }, sampleShare: nightSampleShare(previous, deps.config), segments: allScoringShards() };
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
      const part = await keepPart(deps, step.night.runId, `gather#${step.segment}`, gathered.adHoc.length + gathered.tenures.length + gathered.withoutHistory > 0 ? gathered : undefined, { keys: prior.keys, summary });
      return { step: 'gather', night: step.night, sampleShare: step.sampleShare, segment: step.segment, part, ...(next && { cursor: next }), done: !next };
    }
    case 'fit': {
      const parts = step.results.flatMap((r) => ('part' in r ? [r.part] : []));
      const read = await deps.store.getRunParts(step.night.runId, parts.flatMap((p) => p.keys));
      const merged = (read.parts as GatheredSummaries[]).reduce(mergeGathered, emptyGathered());
      const m = await fitNight(deps, { night: step.night, gathered: merged, sampleShare: step.sampleShare });
      const gather = addConsumedUnits(parts.map((p) => p.summary).reduce(mergeRunSummaries, emptyRunSummary()), { read: read.consumedReadUnits });
      return { modelId: m.model.modelId, keep: m.keep, fit: m.fit, reused: m.reused, gather, failedSegments: step.results.flatMap((r) => ('failed' in r ? [r.segment] : [])) };
    }
    case 'score': {
      const model = await deps.store.getModel(step.night.runId, step.night.runDate);
      if (!model) throw new Error(`no model stored for run ${step.night.runId}: the fit step must run first`);
      // This invocation's outreach top N goes to a run part of its own (finish merges them all).
      const prior = step.part ?? { keys: [], summary: emptyRunSummary() };
      const { next, top, summary } = await scoreSegment(deps, { night: step.night, model, keep: step.keep, segment: step.segment, budget, ...(step.cursor && { cursor: step.cursor }), part: { summary: prior.summary, top: [] } });
      const part = await keepPart(deps, step.night.runId, `score#${step.segment}`, top.length > 0 ? top : undefined, { keys: prior.keys, summary });
      return { step: 'score', night: step.night, keep: step.keep, segment: step.segment, part, ...(next && { cursor: next }), done: !next };
    }
    case 'finish': {
      const model = await deps.store.getModel(step.night.runId, step.night.runDate);
      if (!model) throw new Error(`no model stored for run ${step.night.runId}: the fit step must run first`);
      const parts = step.results.flatMap((r) => ('part' in r ? [r.part] : []));
      const read = await deps.store.getRunParts(step.night.runId, parts.flatMap((p) => p.keys));
      const tops: ScorePart[] = (read.parts as OutreachCandidate[][]).map((top) => ({ summary: emptyRunSummary(), top }));
      return finishNight(deps, {
        night: step.night,
        model: { model, fit: step.fit, keep: step.keep, reused: false },
        parts: [...parts.map((p) => ({ summary: p.summary, top: [] })), ...tops],
        gather: addConsumedUnits(step.gather, { read: read.consumedReadUnits }),
        failedSegments: [...step.failedSegments, ...step.results.flatMap((r) => ('failed' in r ? [r.segment] : []))],
      });
    }
  }
}
