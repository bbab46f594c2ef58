/**
 * timer-sweep: EventBridge Scheduler (every few minutes, the `timerSweepSchedule` setting) →
 * here. Fires the durable timers that are due (shared/timers/sweep.ts) through the handlers
 * registered by kind (kinds.ts), until none is due or the invocation's time runs low (the
 * next sweep goes on). The input is the schedule's ({ subscription, scheduledTime }); a
 * `lookbackHours` in it (an operator's manual run after an outage) widens the buckets read.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { sweepTimers, type SweepResult } from '../../shared/timers/sweep.ts';
import { timerStore, timerStoreLookingBack } from '../commons/clients.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';
import { timerHandlers } from './kinds.ts';

/** Time left at which the sweep stops taking pages. */
const SAFETY_MARGIN_MS = 30_000;

const inputSchema = z.object({ subscription: z.string(), scheduledTime: z.string(), lookbackHours: z.number().int().positive().max(24 * 400).optional() });

export const handler = middy(async (event: unknown, context: Context): Promise<SweepResult> => {
  const parsed = inputSchema.safeParse(event);
  if (!parsed.success) {
    const reasons = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
    logger.error('invalid timer sweep input', { reasons });
    throw new Error(`invalid timer sweep input: ${reasons.join('; ')}`);
  }
  const result = await sweepTimers({
    timers: parsed.data.lookbackHours ? timerStoreLookingBack(parsed.data.lookbackHours) : timerStore(),
    handlers: timerHandlers(),
    now: () => new Date(),
    hasTime: () => context.getRemainingTimeInMillis() > SAFETY_MARGIN_MS,
    // The kind and error only: a timer's key and payload may name a customer's order or product.
    onFailure: (timer, error, outcome) => logger.error('timer failed', { kind: timer.kind, attempts: timer.attempts + 1, outcome, error }),
  });
  logger.info('timers swept', { ...result });
  metrics.addMetric('TimersFired', MetricUnit.Count, result.fired);
  if (result.gaveUp) metrics.addMetric('TimersGivenUp', MetricUnit.Count, result.gaveUp);
  return result;
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
