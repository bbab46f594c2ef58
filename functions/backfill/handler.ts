/**
 * backfill: the steps of a file's backfill (shared/backfill/backfill.ts), as its state machine
 * calls them (infra/constructs/backfill.ts): a batch of rows from the Distributed Map's item
 * batcher ({ Items, BatchInput }), the record of a batch that failed after its retries
 * ({ step: 'failed', … }), or the file's summary ({ step: 'summarise', runId, file }), which
 * publishes BackfillCompleted. The rows of erased customers are refused (their tombstones). Rejected rows are logged with file, line and reason (never the
 * row's values). An invalid input is refused with the reason (it can only come from a wrong definition).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { backfillStepSchema, runBackfillStep } from '../../shared/backfill/backfill.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { backfillStore, consentLedger, eventPublisher, privacyStore, settings, timerStore } from '../commons/clients.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';

export const handler = middy(async (event: unknown) => {
  const parsed = backfillStepSchema.safeParse(event);
  if (!parsed.success) {
    const reasons = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
    logger.error('invalid backfill step input', { reasons });
    throw new Error(`invalid backfill step input: ${reasons.join('; ')}`);
  }
  const out = await runBackfillStep(parsed.data, {
    store: backfillStore(),
    publisher: eventPublisher(),
    fold: { empty: emptyProfile, apply: (p, e) => applyEvent(p, e, settings.consentPolicy()) },
    timers: timerStore(),
    consent: consentLedger(),
    consentPolicy: settings.consentPolicy(),
    now: () => new Date(),
    privacy: privacyStore(),
    log: (rejected) => logger.warn('backfill row rejected', { ...rejected }),
  });
  if (out.step === 'batch') {
    const { rejected: _, ...figures } = out.result;
    logger.info('backfill batch done', figures);
    metrics.addMetric('BackfillRowsRead', MetricUnit.Count, figures.rowsRead);
    metrics.addMetric('BackfillRowsRejected', MetricUnit.Count, figures.rowsRejected);
    metrics.addMetric('BackfillEventsStored', MetricUnit.Count, figures.eventsStored);
  } else if (out.step === 'failed') {
    logger.error('backfill batch failed after its retries', { ...out.failure });
    metrics.addMetric('BackfillFailedBatches', MetricUnit.Count, 1);
  } else {
    const { rejected: _r, failed, ...figures } = out.summary;
    logger.info('backfill file done', { ...figures, failed });
  }
  return out.step === 'batch' ? out.result : out.step === 'failed' ? out.failure : out.summary;
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
