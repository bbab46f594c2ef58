/**
 * nightly-rescore: EventBridge Scheduler → here, once a night.
 * The schedule, its time zone, its role and its dead-letter queue are deployed
 * now; the rescoring itself (BG/NBD, Gamma-Gamma and sBG over every customer
 * in parallel shards of the byScoringShard index) lands with the nightly
 * rescoring issue. Until then the run only reports that it did nothing.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { logger, tracer } from '../commons/powertools.ts';

export const handler = middy(async (_event: unknown, _context: Context): Promise<{ rescored: number }> => {
  logger.warn('nightly rescoring is not implemented yet; the run did nothing');
  return { rescored: 0 };
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger));
