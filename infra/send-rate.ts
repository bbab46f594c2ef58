/**
 * How the campaigns function is sized to the SES maximum send rate
 * (`sesMaxSendRate`, emails per second). The SQS event source runs at most
 * `maxConcurrency` invocations at once, and each invocation paces its sends
 * to `sendsPerSecondPerInvocation` (functions/commons/clients.ts), so all of
 * them together never send faster than the rate, however quickly the rest of
 * a trigger's work goes. The batch size is cut so that a paced batch still
 * sends within half the function timeout.
 *
 * The bound holds in every one-second window, not only on average: the concurrency is chosen
 * to divide a whole rate (14/s → 7 invocations of 2/s, 500/s → 100 of 5/s), and each
 * invocation's pacer (functions/commons/clients.ts `sendPacer`) starts a call of at most its
 * whole per-second rate once a second. A rate below 2/s (the sandbox's 1/s) cannot be split
 * over the event source's minimum of 2 invocations in whole sends: there each invocation
 * sends one email every 1/(rate ÷ 2) seconds, within the rate on average over two seconds.
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
  const least = Math.min(MAX_CONCURRENCY, Math.max(MIN_CONCURRENCY, Math.ceil(maxSendRate / SENDS_PER_SECOND_PER_INVOCATION)));
  // A whole rate split into whole per-invocation rates: each invocation then sends at most its rate
  // in every one-second window (a call of `rate` recipients a second), so together they never exceed it.
  let maxConcurrency = least;
  if (Number.isInteger(maxSendRate)) {
    for (let c = least; c <= Math.min(MAX_CONCURRENCY, maxSendRate); c++) {
      if (maxSendRate % c === 0) {
        maxConcurrency = c;
        break;
      }
    }
  }
  const sendsPerSecondPerInvocation = maxSendRate / maxConcurrency;
  const batchSize = Math.max(1, Math.min(fn.batchSize, Math.floor((sendsPerSecondPerInvocation * fn.timeoutSeconds) / 2)));
  return { maxConcurrency, batchSize, sendsPerSecondPerInvocation };
}
