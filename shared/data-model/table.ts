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
       * Sparse index over customer profiles only, sharded so the nightly run reads it in parallel.
       * KEYS_ONLY: the profile is rewritten on every event, but its keys and `scoringShard` never
       * change, so an index entry is written once (when the profile is created) instead of on every
       * write. The nightly run reads the keys of a shard here and BatchGetItem's the profiles.
       */
      indexName: 'byScoringShard',
      partitionKey: { name: 'scoringShard', type: 'S' },
      sortKey: { name: 'pk', type: 'S' },
      projection: 'KEYS_ONLY',
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
