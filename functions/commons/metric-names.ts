/** Names of metrics the handlers emit that the stack alarms on (infra/constructs/alarms.ts reads them here). */
import type { TokenFailure } from '../../shared/pages/tokens.ts';

/** One per record a batch handler reports as a batch item failure (for retry). */
export const FAILED_RECORDS_METRIC = 'FailedRecords';

/**
 * One per record a batch handler reports for retry because what it needs is not there yet (an expected race, e.g.
 * campaigns getting a producer's event before ingest stored it): retried like a failure, but not counted or alarmed
 * as one. A record that is still not ready after the queue's receives goes to its dead-letter queue, which is alarmed.
 */
export const RETRIED_LATER_METRIC = 'RecordsRetriedLater';

/** One per durable timer the sweep gave up on after its attempts (kept in the table with its error). */
export const TIMERS_GIVEN_UP_METRIC = 'TimersGivenUp';

/** One per marketing send the deliverability circuit breaker paused (deferred by the campaigns function). */
export const CIRCUIT_BREAKER_PAUSED_METRIC = 'CircuitBreakerPaused';

/** What ingest counts, by its records' outcome (one metric each; the dashboard's "Events in" graph shows them all). */
export const INGEST_OUTCOME_METRICS = {
  stored: 'EventsStored',
  duplicate: 'DuplicateEvents',
  erased: 'EventsOfErasedCustomers',
  rejected: 'EventsRejected',
  /** A rejected event redelivered: already on the rejected-events queue, not sent again. */
  rejectedBefore: 'RepeatedRejections',
  failed: FAILED_RECORDS_METRIC,
} as const;

/**
 * One per page request whose link was refused, by why (shared/pages/tokens.ts `TokenFailure`): e.g.
 * `PageLinkRefused_unknown-key`, a link signed with a key the pages no longer hold, which the stack alarms on.
 */
export const pageLinkRefusedMetric = (reason: TokenFailure): string => `PageLinkRefused_${reason}`;
