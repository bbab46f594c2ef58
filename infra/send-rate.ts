/**
 * How the campaigns function is sized to the SES maximum send rate
 * (`sesMaxSendRate`, emails per second). The SQS event source runs at most
 * `maxConcurrency` invocations at once, and each invocation paces its sends
 * to `sendsPerSecondPerInvocation` (functions/commons/clients.ts), so all of
 * them together never send faster than the rate, however quickly the rest of
 * a trigger's work goes. The batch size is cut so that a paced batch still
 * sends within half the function timeout.
 */

/** Sends per second one invocation aims at before another concurrent invocation is added. */
export const SENDS_PER_SECOND_PER_INVOCATION = 5;
/** The SQS event source's limits on maximum concurrency. */
export const MIN_CONCURRENCY = 2;
export const MAX_CONCURRENCY = 1000;

export type SendRatePlan = {
  /** Most concurrent invocations of the sending function (SQS event source ScalingConfig). */
  maxConcurrency: number;
  /** Records per invocation. */
  batchSize: number;
  /** Sends per second each invocation paces itself to (rate ÷ maxConcurrency). */
  sendsPerSecondPerInvocation: number;
};

export function planSendRate(maxSendRate: number, fn: { batchSize: number; timeoutSeconds: number }): SendRatePlan {
  if (!(maxSendRate > 0)) throw new Error(`sesMaxSendRate must be positive, got ${maxSendRate}`);
  const maxConcurrency = Math.min(MAX_CONCURRENCY, Math.max(MIN_CONCURRENCY, Math.ceil(maxSendRate / SENDS_PER_SECOND_PER_INVOCATION)));
  const sendsPerSecondPerInvocation = maxSendRate / maxConcurrency;
  const batchSize = Math.max(1, Math.min(fn.batchSize, Math.floor((sendsPerSecondPerInvocation * fn.timeoutSeconds) / 2)));
  return { maxConcurrency, batchSize, sendsPerSecondPerInvocation };
}
