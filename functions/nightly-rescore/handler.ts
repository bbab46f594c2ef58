/**
 * nightly-rescore: the nightly run's steps (shared/scoring/nightly-steps.ts). The input says
 * which step: the schedule's own input ({ subscription, scheduledTime }) starts a night and
 * returns its run id, date and segments; `gather`, `fit`, `score` and `finish` are the states
 * of the run. A segment step stops taking pages when less than a safety margin of the
 * invocation's time is left and returns its checkpoint; the next invocation resumes there.
 * An invalid input is refused with the reason (it can only come from a wrong definition).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { nightlyStepSchema, runNightlyStep } from '../../shared/scoring/nightly-steps.ts';
import { eventPublisher, reportStore, scoringConfig, scoringStore } from '../commons/clients.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';

/** Customers a page: one Query of the scoring index (about two entries a customer), scored in one batch. */
const PAGE_SIZE = 250;
/** Time left at which a segment step stops taking pages and returns its checkpoint. */
const SAFETY_MARGIN_MS = 120_000;

export const handler = middy(async (event: unknown, context: Context) => {
  const parsed = nightlyStepSchema.safeParse(event);
  if (!parsed.success) {
    const reasons = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
    logger.error('invalid nightly step input', { reasons });
    throw new Error(`invalid nightly step input: ${reasons.join('; ')}`);
  }
  const step = parsed.data;
  const name = 'step' in step ? step.step : 'start';
  const budget = { pageSize: PAGE_SIZE, shouldStop: () => context.getRemainingTimeInMillis() < SAFETY_MARGIN_MS };
  const out = await runNightlyStep({ store: scoringStore(), publisher: eventPublisher(), config: scoringConfig(), now: () => new Date(), reports: reportStore() }, step, budget);
  if (name === 'finish' && 'summary' in out) {
    const s = out.summary;
    logger.info('nightly run finished', { modelId: out.modelId, fittedModelId: out.fittedModelId, passes: out.passes, customersRead: s.customersRead, written: s.written, emitted: s.emitted, skipped: s.skipped, failed: s.failed, failedSegments: s.failedSegments, outreach: out.outreach });
    metrics.addMetric('CustomersRescored', MetricUnit.Count, s.customersRead);
    metrics.addMetric('ScoresWritten', MetricUnit.Count, s.written);
    metrics.addMetric('FailedSegments', MetricUnit.Count, s.failedSegments.length);
  } else if (name === 'fit' && 'reused' in out) {
    logger.info('nightly fit', { modelId: out.modelId, passes: out.passes, scoredWith: out.scoredWith.runId, status: out.fit.status, alarm: out.fit.alarm, reused: out.reused, components: out.fit.components });
    if (out.fit.alarm) metrics.addMetric('NightlyFitDegraded', MetricUnit.Count, 1);
  } else {
    logger.info('nightly step done', { step: name, ...('segment' in out && { segment: out.segment, done: out.done }) });
  }
  return out;
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
