/** Powertools for AWS Lambda, created once per container and shared by the handlers. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'serverless-clm';

export const logger = new Logger({ serviceName });
// The Logger filters Metrics' own warnings by level (e.g. "no application metrics to publish").
export const metrics = new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ServerlessClm', logger });
export const tracer = new Tracer({ serviceName });
