/**
 * The one DynamoDB table, described once. The CDK construct and the local
 * stack's CreateTable both read this, so the two cannot drift apart.
 * See docs/data-model.md for the item types and access patterns.
 */
export const tableDefinition = {
  /** Logical name; the deployed name is `${prefix}${baseName}`. */
  baseName: 'clm',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  /** Epoch seconds; items with it set expire (events after their retention, send-ledger leases, timers). */
  timeToLiveAttribute: 'expiresAt',
  stream: 'NEW_AND_OLD_IMAGES',
  globalSecondaryIndexes: [
    {
      /**
       * Sparse index of what the nightly run reads, sharded so it reads the shards in parallel:
       * the customer's PROFILE (its compact `scoringView`, shared/scoring/scoring-view.ts), SCORE
       * (the values of the last written score that a night compares with) and TRIGGER# items (the churn triggers fired), each carrying
       * `scoringShard`; sorted by `pk`, so one customer's entries are next to each other. A worker
       * reads a shard with Query pages (billed per 4 KB read, not per item) and needs no other read.
       * INCLUDE only those attributes: a profile write rewrites its entry only when the scoring view
       * changed (not on every event), and the index holds no email, name or event history.
       */
      indexName: 'byScoringShard',
      partitionKey: { name: 'scoringShard', type: 'S' },
      sortKey: { name: 'pk', type: 'S' },
      projection: 'INCLUDE',
      nonKeyAttributes: [
        // the profile's
        'scoringView',
        // the score's values a night compares with (shared/scoring/score-diff.ts StoredScore)
        'kind', 'clv', 'pAlive', 'churnRisk', 'riskBand', 'valueTier', 'potentialSpend', 'nextBestAction',
        // a trigger's (shared/scoring/risk.ts ActiveTrigger)
        'rule', 'action', 'churnRiskBoost', 'firedAt',
        // the send ledger version's (SENDS): the campaign response reads the SEND# entries only of customers claimed since its window
        'lastClaimAt',
      ],
    },
    {
      /**
       * Sparse index over pending timers only (shared/timers/): partition = the hour bucket a
       * timer is due in and a shard (`TIMER#<yyyy-mm-ddThh>#<shard>`), sort = its due time. The
       * sweeper queries the buckets up to now; a timer that fires or is given up drops its
       * `timerBucket`, so only pending timers are in the index. ALL: the sweeper needs the payload.
       */
      indexName: 'byTimerDue',
      partitionKey: { name: 'timerBucket', type: 'S' },
      sortKey: { name: 'timerDue', type: 'S' },
      projection: 'ALL',
    },
  ],
} as const;

/** Number of scoring shards: nightly rescoring reads the shards in parallel, one Query stream each. */
export const SCORING_SHARDS = 32;

/** Shards of each hour bucket of the timer index: spreads the writes of timers due in the same hour. */
export const TIMER_SHARDS = 4;

export const tableName = (prefix: string): string => `${prefix}${tableDefinition.baseName}`;
