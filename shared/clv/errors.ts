/** Errors raised by the customer-value models. Pure: no I/O. */

/** Input data is invalid (negative, non-numeric, recency > T, ...). */
export class DataError extends Error {
  override name = 'DataError';
  /** 0-based index of the offending record when known. */
  readonly index: number | undefined;
  constructor(message: string, index?: number) {
    super(index === undefined ? message : `record ${index}: ${message}`);
    this.index = index;
  }
}

/** The optimizer did not reach a maximum of the likelihood. */
export class ConvergenceError extends Error {
  override name = 'ConvergenceError';
  readonly details: { iterations: number; gradientNorm: number; logLikelihood: number; params: number[]; reason: string };
  constructor(model: string, details: ConvergenceError['details']) {
    super(
      `${model} fit did not converge (${details.reason}) after ${details.iterations} iterations; ` +
        `|grad| = ${details.gradientNorm.toExponential(3)}, LL = ${details.logLikelihood}, ` +
        `params = [${details.params.map((p) => p.toPrecision(6)).join(', ')}]. ` +
        'The data may not identify the model (e.g. too few repeat buyers); no estimates are returned.',
    );
    this.details = details;
  }
}

/**
 * The error for a fit whose last attempt did not end in a usable optimum: not converged,
 * or converged with log-parameters running off to a boundary. `scale` turns the mean
 * objective back into the total log-likelihood.
 */
export function unusableFit(
  model: string,
  last: { iterations: number; gradientNorm: number; value: number; theta: ArrayLike<number>; converged: boolean; reason?: string },
  scale: number,
  boundaryReason = 'parameters diverged to a boundary',
): ConvergenceError {
  return new ConvergenceError(model, {
    iterations: last.iterations,
    gradientNorm: last.gradientNorm,
    logLikelihood: -last.value * scale,
    params: Array.from(last.theta, Math.exp),
    reason: last.converged ? boundaryReason : (last.reason ?? 'not converged'),
  });
}
