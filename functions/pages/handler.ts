/**
 * pages: the Lambda function URL (payload format 2.0) → the public pages
 * (shared/pages/serve-page.ts). Logs the page, the result and, for a refused
 * token, why — never the token, a form value or anything personal.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { LambdaFunctionUrlSchema } from '@aws-lambda-powertools/parser/schemas/lambda';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { LambdaFunctionURLResult } from 'aws-lambda';
import { learnContent } from '../../shared/pages/learn-content.ts';
import { servePage } from '../../shared/pages/serve-page.ts';
import { consentLedger, customerStore, pageKeys, settings } from '../commons/clients.ts';
import { pageLinkRefusedMetric } from '../commons/metric-names.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';

export const handler = middy(async (raw: unknown): Promise<LambdaFunctionURLResult> => {
  const parsed = LambdaFunctionUrlSchema.safeParse(raw);
  if (!parsed.success) {
    logger.error('not a function URL request', { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`) });
    return { statusCode: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Bad request' };
  }
  const event = parsed.data;
  const body = event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const { response, outcome } = await servePage(
    { method: event.requestContext.http.method, path: event.rawPath, contentType: event.headers['content-type'], body },
    { keys: pageKeys(), store: customerStore(), now: () => new Date(), content: learnContent, consent: consentLedger(), consentPolicy: settings.consentPolicy() },
  );
  logger.info('page', { ...outcome, status: response.status });
  metrics.addMetric(`Page_${outcome.page}_${outcome.result}`, MetricUnit.Count, 1);
  if (outcome.tokenFailure) metrics.addMetric(pageLinkRefusedMetric(outcome.tokenFailure), MetricUnit.Count, 1);
  return { statusCode: response.status, headers: response.headers, body: response.body };
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
