/**
 * report: invoked by its schedule some hours after the nightly run starts; writes the report of
 * the latest night (shared/report/publish.ts) to the private report bucket. The input is the
 * schedule's ({ subscription, scheduledTime }); anything else is refused with the reason.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { z } from 'zod';
import { publishReport } from '../../shared/report/publish.ts';
import { reportSettings, reportSink, reportStore, winbackStore } from '../commons/clients.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';

const scheduled = z.object({ subscription: z.literal('NightlyReport'), scheduledTime: z.iso.datetime({ offset: true }) }).strict();

export const handler = middy(async (event: unknown) => {
  const parsed = scheduled.safeParse(event);
  if (!parsed.success) {
    const reasons = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
    logger.error('invalid report input', { reasons });
    throw new Error(`invalid report input: ${reasons.join('; ')}`);
  }
  // The bucket client is made when there is something to write (a night with no report yet needs none).
  const sink = { putFile: (key: string, body: string, contentType: string) => reportSink().putFile(key, body, contentType) };
  const result = await publishReport({ reports: reportStore(), sink, settings: reportSettings(), now: () => new Date(), leavers: winbackStore() });
  if (result.status === 'written') {
    logger.info('report written', { runId: result.runId, runDate: result.runDate, files: result.keys.length });
    metrics.addMetric('ReportsWritten', MetricUnit.Count, 1);
  } else {
    logger.warn('no nightly run has stored a report aggregate yet');
  }
  return result.status === 'written' ? { status: result.status, runDate: result.runDate, keys: result.keys } : result;
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
