/**
 * Test support: one night's steps in one process, in the order the nightly state machine will
 * run them: two passes (gather every segment, fit, score every segment page by page from its
 * checkpoint, finish) or, when `nightPasses` says so, one (score every segment with the earlier
 * night's model while gathering, fit, finish). Segments run one after another here; the budgets
 * force several invocations per segment, each resuming from the previous one's checkpoint
 * passed through JSON.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { profileItemOf } from '../../shared/adapters/dynamodb-customer-store.ts';
import type { CustomerProfile } from '../../shared/customers/profile.ts';
import { SK, allScoringShards, customerPk, scoringShard } from '../../shared/data-model/keys.ts';
import type { SegmentCursor } from '../../shared/ports.ts';
import {
  type GatherPart,
  type Night,
  type NightResult,
  type NightlyDeps,
  type NightModel,
  type ScorePart,
  emptyGathered,
  emptyRunSummary,
  finishNight,
  candidatesToKeep,
  fitNight,
  gatherSegment,
  nightPasses,
  mergeGathered,
  mergeRunSummaries,
  nightSampleShare,
  scoreSegment,
} from '../../shared/scoring/index.ts';

const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export type RunNightOptions = {
  pageSize?: number;
  pagesPerInvocation?: number;
  /** the segments gathered and scored (default: every scoring shard) */
  segments?: string[];
  /** the segments scored, when only some of the gathered ones should be (e.g. none: fit only; two passes only) */
  scoreSegments?: string[];
};

export async function runNight(deps: NightlyDeps, night: Night, options: RunNightOptions = {}): Promise<NightResult & { model: NightModel; invocations: number }> {
  const segments = options.segments ?? allScoringShards();
  const budget = { pageSize: options.pageSize ?? 100, maxPages: options.pagesPerInvocation ?? 2 };
  let invocations = 0;
  const previous = await deps.store.previousModel(night.runDate);
  const sampleShare = nightSampleShare(previous, deps.config);
  const plan = nightPasses(previous, night.runDate, deps.config);
  /** Scores the segments with `scoreWith`'s model (tonight's by default), gathering tonight's sample with `gather`. */
  const scoreAll = async (keep: number, scoreWith: Night, gather: boolean): Promise<ScorePart[]> => {
    const parts: ScorePart[] = [];
    for (const segment of gather ? segments : (options.scoreSegments ?? segments)) {
      let state: { part?: ScorePart; cursor?: SegmentCursor } = {};
      do {
        invocations++;
        // each invocation reads the model item, as a handler does (a state passes ids, not the model: JSON has no Infinity)
        const stored = (await deps.store.getModel(scoreWith.runId, scoreWith.runDate))!;
        const out = viaJson(await scoreSegment(deps, { night, model: stored, keep, segment, budget, ...state, ...(gather && { gather: { sampleShare } }) }));
        state = { part: { summary: out.summary, top: out.top, ...(out.report && { report: out.report }), ...(out.gathered && { gathered: out.gathered }) }, ...(out.next && { cursor: out.next }) };
      } while (state.cursor);
      parts.push(state.part!);
    }
    return parts;
  };
  if (plan.passes === 1) {
    // one pass: the segments scored with the earlier night's model gather tonight's sample, unless tonight's model is stored (a rerun)
    const gather = !(await deps.store.getModel(night.runId, night.runDate));
    const parts = await scoreAll(await candidatesToKeep(deps, night), plan.scoreWith, gather);
    const gathered = parts.map((p) => p.gathered ?? emptyGathered()).reduce(mergeGathered, emptyGathered());
    const model = await fitNight(deps, { night, gathered, sampleShare });
    const result = await finishNight(deps, { night, model, parts, scoredWith: plan.scoreWith, passes: 1 });
    return { ...result, model, invocations };
  }
  const gathers: GatherPart[] = [];
  for (const segment of segments) {
    let state: { part?: GatherPart; cursor?: SegmentCursor } = {};
    do {
      invocations++;
      const out = viaJson(await gatherSegment(deps, { night, segment, sampleShare, budget, ...state }));
      state = { part: { gathered: out.gathered, summary: out.summary }, ...(out.next && { cursor: out.next }) };
    } while (state.cursor);
    gathers.push(state.part!);
  }
  const gathered = gathers.map((g) => g.gathered).reduce(mergeGathered, emptyGathered());
  const model = await fitNight(deps, { night, gathered, sampleShare });
  const parts = await scoreAll(model.keep, night, false);
  const gather = gathers.map((g) => g.summary).reduce(mergeRunSummaries, emptyRunSummary());
  const result = await finishNight(deps, { night, model, parts, gather });
  return { ...result, model, invocations };
}

/**
 * Puts profiles straight into the table as ingest would have stored them (with their scoring shard), 25 a call:
 * with `scoringView`, as ingest stores them now (`profileItemOf`: the index carries the scoring view); without,
 * as before the view (the night reads each profile in full).
 */
export async function loadProfileItems(client: DynamoDBClient, tableName: string, profiles: readonly CustomerProfile[], updatedAt = '1997-10-01T12:00:00.000Z', options: { scoringView?: boolean } = {}): Promise<void> {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  for (let i = 0; i < profiles.length; i += 25) {
    const items = profiles.slice(i, i + 25).map((p) => ({
      PutRequest: {
        Item: options.scoringView
          ? profileItemOf(p.customerId, p, 1, new Date(updatedAt))
          : { ...p, pk: customerPk(p.customerId), sk: SK.profile, entity: 'profile', scoringShard: scoringShard(p.customerId), version: 1, updatedAt },
      },
    }));
    const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: items } }));
    if ((out.UnprocessedItems?.[tableName] ?? []).length > 0) throw new Error('DynamoDB Local left items unprocessed');
  }
}
