/**
 * The wiring of the stack, defined once: which function listens to which bus
 * rule, table stream (with filter criteria) or schedule, and what each
 * function may touch. `infra/` turns this into CDK resources; `local/` turns
 * it into in-process routing. Neither has its own copy of the routing.
 */
import type { tableDefinition } from './data-model/table.ts';
import { CLM_SOURCE_PREFIX, EMITTED_SOURCES } from './events/catalog.ts';
import { SES_SOURCE, routedSesDetailTypes } from './email-feedback/ses-events.ts';
import { triggerEventTypes } from './triggers/rules.ts';
import { requestEventTypes } from './campaigns/requests.ts';
import { winbackEventTypes } from './winback/track.ts';

/** An EventBridge event pattern (also used, in the same syntax, for Lambda stream filter criteria). */
export type EventPattern = { [key: string]: unknown };

export type FunctionName = 'ingest' | 'churn-triggers' | 'campaigns' | 'nightly-rescore' | 'timer-sweep' | 'pages' | 'report' | 'email-feedback' | 'backfill' | 'erasure';

/**
 * DynamoDB item actions a function may call on the table, as IAM action names
 * without the `dynamodb:` prefix. A `TransactWriteItems` is authorised per item
 * by the action of that item (`Put` → PutItem, `Update` → UpdateItem,
 * `Delete` → DeleteItem, `ConditionCheck` → ConditionCheckItem), so it is
 * listed as those actions, never as a table-wide right.
 */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'BatchWriteItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'ConditionCheckItem';

/** Names of the table's global secondary indexes (from shared/data-model/table.ts). */
export type IndexName = (typeof tableDefinition.globalSecondaryIndexes)[number]['indexName'];

/** What a function may do on the table: exactly these actions, nothing table-wide. */
export type TableAccess = {
  /** Actions on the table's items (granted on the table ARN only). */
  actions: readonly TableAction[];
  /** Indexes the function queries: `dynamodb:Query` on exactly these index ARNs. */
  queryIndexes?: readonly IndexName[];
};

export type FunctionSpec = {
  /** Path from the repository root of the module that exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** What the function may touch; CDK grants exactly this, nothing more. */
  access: {
    /** Table rights (the stream read of a `stream` subscription is granted by its event source mapping). */
    table?: TableAccess;
    putEvents?: boolean;
    sendEmail?: boolean;
    rejectedEvents?: boolean;
    /** Reads the page signing keys (the Secrets Manager secret): signs or verifies the public pages' tokens. */
    pageKeys?: boolean;
    /** PutObject into the private report bucket. */
    reportBucket?: boolean;
    /** Reads the erasure salt (the Secrets Manager secret): hashes customer ids and addresses against the tombstones and suppression list. */
    privacySalt?: boolean;
  };
};

export const functionSpecs: Record<FunctionName, FunctionSpec> = {
  ingest: {
    entry: 'functions/ingest/handler.ts',
    description: 'Validates business events, stores them once and updates the customer aggregates',
    memoryMb: 512,
    timeoutSeconds: 30,
    // GetItem (consistent) of the profile; TransactWriteItems of conditional Puts (events + profile);
    // PutItem and GetItem of a REJECTED# item (a rejected event sent once); PutItem of CONSENT# records (once each);
    // BatchGetItem of the batch's customers' erasure tombstones (their events are dropped; privacySalt: the hashes' salt).
    // Erasure itself is the erasure function's.
    access: { table: { actions: ['GetItem', 'PutItem', 'BatchGetItem'] }, rejectedEvents: true, privacySalt: true },
  },
  erasure: {
    entry: 'functions/erasure/handler.ts',
    description: "Erases a customer on request (CustomerErasureRequested): the customer's items deleted, a tombstone and the address's salted hash kept",
    memoryMb: 512,
    timeoutSeconds: 120,
    // shared/privacy/erasure.ts on the DynamoDB adapter (shared/adapters/dynamodb-privacy-store.ts): GetItem of the
    // profile, PutItem of the tombstone, suppression entry and erasure record (conditional); BatchGetItem of her
    // outreach assignments, each replaced by its residue in a TransactWriteItems (Delete of it and of its unpublished
    // copy, Put of the residue); Query of her personal-outreach task items and of her partition's keys, BatchWriteItem
    // of their deletes; privacySalt: the hashes' salt. The scoring config (CLM_SCORING_CONFIG): the outreach experiment.
    access: { table: { actions: ['GetItem', 'PutItem', 'BatchGetItem', 'DeleteItem', 'Query', 'BatchWriteItem'] }, privacySalt: true },
  },
  'churn-triggers': {
    entry: 'functions/churn-triggers/handler.ts',
    description: 'Reads new events from the table stream and fires single and collective churn triggers',
    memoryMb: 512,
    timeoutSeconds: 30,
    // GetItem of the profile, of a trigger and of the nightly SCORE; PutItem of a trigger once; UpdateItem of publishedAt
    // (CustomerStore.markPublished); a transaction of a PutItem and an UpdateItem claiming an outreach task (OutreachDesk);
    // GetItem, PutItem and DeleteItem of the timers of absence (TimerStore set/cancel: stuck orders, stopped usage) and of the
    // winback steps; the winback tracking (shared/winback/track.ts): GetItem and a transaction of two conditional Puts of a
    // leaving's link and fact, UpdateItem of the fact, Query of the customer's latest WINBACK# link.
    access: { table: { actions: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'] }, putEvents: true },
  },
  campaigns: {
    entry: 'functions/campaigns/handler.ts',
    description: 'Turns churn triggers into emails through SES, within consent, suppression, caps and control groups',
    memoryMb: 512,
    timeoutSeconds: 60,
    // GetItem of the profile and the ledger entry; Query of SEND#; PutItem (claim, complete); DeleteItem (release);
    // UpdateItem of the ledger entry's publishedAt (CustomerStore.markPublished).
    // GetItem and PutItem of a campaign-send timer (a send deferred to the customer's hour: DynamoTimerStore.set).
    // GetItem of an erasure tombstone (a late event of an erased customer asks for no email: shared/campaigns/requests.ts)
    // and of an address's suppression entry (privacySalt: the hashes' salt).
    // Query of the circuit breaker's hour buckets (DELIVERABILITY#<shard>, read before marketing sends).
    // PutItem of CONSENT# records and a TransactWriteItems of conditional Puts (the welcome's double opt-in request, a
    // ConsentChanged stored on the customer as ingest stores one).
    // pageKeys: signs the links of the public pages (unsubscribe, help, exit survey, double opt-in confirmation) in its emails.
    access: { table: { actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'] }, putEvents: true, sendEmail: true, pageKeys: true, privacySalt: true },
  },
  'nightly-rescore': {
    entry: 'functions/nightly-rescore/handler.ts',
    description: 'Nightly run that rescores every customer (CLV, churn risk, value tier, next best action)',
    memoryMb: 1769,
    timeoutSeconds: 900,
    // What the rescoring calls (shared/adapters/dynamodb-scoring-store.ts): Query of one shard of the
    // byScoringShard index (scoring views, stored scores, triggers); BatchGetItem of the profiles written
    // without a scoring view; Query of the MODEL partition and of an outreach period; BatchWriteItem of changed scores;
    // GetItem/PutItem (conditional) of the model item and of outreach assignments, a treated one in a
    // TransactWriteItems with its copy in the unpublished list (PutItem); UpdateItem of an assignment's
    // publishedAt with the DeleteItem of that copy, in one TransactWriteItems (ScoringStore.markOutreachPublished).
    access: {
      table: { actions: ['BatchGetItem', 'BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'], queryIndexes: ['byScoringShard'] },
      putEvents: true,
    },
  },
  backfill: {
    entry: 'functions/backfill/handler.ts',
    description: 'Bulk backfill of history from files in S3: one batch of rows a call, then the summary (shared/backfill)',
    memoryMb: 1769,
    timeoutSeconds: 300,
    // What the backfill calls (shared/adapters/dynamodb-backfill-store.ts): BatchGetItem (consistent) of the
    // profiles and of the batch's EVT# keys; BatchWriteItem of the EVT# items; PutItem (conditional) of a
    // profile and of a batch result; Query of a run's BACKFILL# partition. The history's timers of absence
    // (shared/adapters/dynamodb-timer-store.ts): GetItem and PutItem of a timer, DeleteItem of a cancelled one; its
    // consent records (dynamodb-consent-ledger.ts): PutItem (conditional). BackfillCompleted on the bus.
    // BatchGetItem of the erasure tombstones of a batch's customers (privacySalt: their hashes' salt): an erased customer's rows are refused.
    access: { table: { actions: ['BatchGetItem', 'BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query'] }, putEvents: true, privacySalt: true },
  },
  'timer-sweep': {
    entry: 'functions/timer-sweep/handler.ts',
    description: 'Every few minutes fires the durable timers that are due (stuck orders, stopped usage, deferred sends) by kind',
    memoryMb: 512,
    timeoutSeconds: 240,
    // Query of the byTimerDue index (due timers); UpdateItem of a timer (fired, failed). What the registered
    // kinds do: GetItem of the profile and of a trigger, PutItem of a trigger and a re-armed timer, UpdateItem
    // of publishedAt (churn triggers fired by a timer, shared/triggers/); the winback steps (shared/winback/track.ts):
    // GetItem of the profile and the score, Query of the latest WINBACK# link, UpdateItem of its fact, DeleteItem of cancelled steps.
    access: { table: { actions: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'], queryIndexes: ['byTimerDue'] }, putEvents: true },
  },
  pages: {
    entry: 'functions/pages/handler.ts',
    description: 'Public pages behind signed links: one-click unsubscribe, the personal help page, the exit survey and the double opt-in confirmation',
    memoryMb: 256,
    timeoutSeconds: 10,
    // GetItem of the profile; TransactWriteItems of conditional Puts (the customer's own answer, stored
    // once as a business event and folded into the profile, as ingest does: CustomerStore.recordEvent);
    // PutItem of its consent records (CONSENT#, once each).
    access: { table: { actions: ['GetItem', 'PutItem'] }, pageKeys: true },
  },
  report: {
    entry: 'functions/report/handler.ts',
    description: 'Writes the report of the latest nightly run (HTML with charts, JSON, lookalike export) to the private report bucket',
    memoryMb: 1024,
    timeoutSeconds: 120,
    // Query of the REPORT partition (the latest night's merged aggregate, shared/adapters/dynamodb-report-store.ts) and of the
    // LEAVERS#<month> partitions (the winback section, shared/report/winback.ts); PutObject of the files.
    access: { table: { actions: ['Query'] }, reportBucket: true },
  },
  'email-feedback': {
    entry: 'functions/email-feedback/handler.ts',
    description: 'Records SES feedback (bounces, complaints, deliveries, opens, clicks) on the customer and suppresses at once',
    memoryMb: 512,
    timeoutSeconds: 30,
    // As ingest: GetItem (consistent) of the profile; TransactWriteItems of conditional Puts (the EmailFeedback
    // event and the profile); PutItem and GetItem of a REJECTED# item (an invalid SES event sent once).
    // The circuit breaker's counts: TransactWriteItems of conditional Puts (a counted event's marker) and an
    // UpdateItem (ADD to an hour bucket). UpdateItem of a `submitted` SEND# entry SES's events confirm.
    access: { table: { actions: ['GetItem', 'PutItem', 'UpdateItem'] }, rejectedEvents: true },
  },
};

/** Bus rule → SQS queue (with its own dead-letter queue) → function, with partial batch responses. */
export type RuleSubscription = {
  kind: 'rule';
  id: string;
  function: FunctionName;
  description: string;
  pattern: EventPattern;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  /** Receives before a message goes to the queue's dead-letter queue. */
  maxReceiveCount: number;
  /**
   * Most concurrent invocations the SQS event source runs (2–1000); unset = no
   * limit besides the account's. Caps a downstream rate, e.g. SES sends.
   */
  maxConcurrency?: number;
  /**
   * `default`: the rule is on the account's default bus, where AWS services put their events
   * (SES publishes a configuration set's events only there). Unset: the stack's own bus.
   */
  bus?: 'default';
};

/** Table stream → function, filtered, with bisect on error and bounded retries. */
export type StreamSubscription = {
  kind: 'stream';
  id: string;
  function: FunctionName;
  description: string;
  /** Lambda event-source filter criteria, applied to the stream record (OR of patterns). */
  filters: EventPattern[];
  batchSize: number;
  maxBatchingWindowSeconds: number;
  retryAttempts: number;
  maxRecordAgeSeconds: number;
};

/** EventBridge Scheduler schedule → function. The expression and time zone come from configuration. */
export type ScheduleSubscription = {
  kind: 'schedule';
  id: string;
  function: FunctionName;
  description: string;
  /** Name of the configuration setting holding the schedule expression (cron or rate). */
  expressionSetting: 'nightlySchedule' | 'timerSweepSchedule' | 'reportSchedule';
  /**
   * The payload the function receives: the schedule target's input, given the
   * scheduled time. CDK calls it with Scheduler's `<aws.scheduler.scheduled-time>`
   * placeholder, the local stack with the actual time, so both send the same shape.
   */
  input: (scheduledTime: string) => ScheduledInvocation;
};

/** What a scheduled function is invoked with (the schedule target's input, verbatim). */
export type ScheduledInvocation = {
  /** Id of the schedule subscription. */
  subscription: string;
  /** ISO 8601 time the run was scheduled for. */
  scheduledTime: string;
};

export type Subscription = RuleSubscription | StreamSubscription | ScheduleSubscription;


export const subscriptions: Subscription[] = [
  {
    kind: 'rule',
    id: 'BusinessEventsToIngest',
    function: 'ingest',
    description: 'Every event a producer puts on the bus (anything not emitted by the stack itself)',
    pattern: { source: [{ 'anything-but': { prefix: CLM_SOURCE_PREFIX } }] },
    // Large batches: ingest writes each customer's events in a batch with one transaction.
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
    maxReceiveCount: 5,
  },
  {
    kind: 'rule',
    id: 'ErasureRequestsToErasure',
    function: 'erasure',
    description: "A producer's erasure requests (ingest gets them too, stores none and rejects an invalid one)",
    pattern: { source: [{ 'anything-but': { prefix: CLM_SOURCE_PREFIX } }], 'detail-type': ['CustomerErasureRequested'] },
    // Small batches: an erasure deletes a whole partition (one Query page and 25 deletes a call).
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxReceiveCount: 5,
  },
  {
    kind: 'stream',
    id: 'NewEventsToChurnTriggers',
    function: 'churn-triggers',
    description: 'Newly stored business events of the types the churn rules look at',
    filters: [
      {
        eventName: ['INSERT'],
        // The types the enabled triggers read, then those the winback tracking reads (shared/winback/track.ts);
        // events a backfill stored (marked `backfill`, shared/backfill) are history: they fire nothing.
        dynamodb: { NewImage: { sk: { S: [{ prefix: 'EVT#' }] }, type: { S: [...new Set([...triggerEventTypes, ...winbackEventTypes])] }, backfill: { S: [{ exists: false }] } } },
      },
    ],
    batchSize: 50,
    maxBatchingWindowSeconds: 1,
    retryAttempts: 5,
    maxRecordAgeSeconds: 3600,
  },
  {
    kind: 'rule',
    id: 'ChurnTriggersToCampaigns',
    function: 'campaigns',
    description: 'Churn triggers on the automated route, the nightly next best action and the business events that ask for an email (first purchase, statement, invoice, failed payment) become campaign emails',
    // Triggers routed to people (`route: outreach`, an OutreachTaskCreated goes with them) get no email.
    pattern: {
      $or: [
        { source: [EMITTED_SOURCES.triggers], 'detail-type': ['ChurnTriggerFired'], detail: { route: ['email'] } },
        { source: [EMITTED_SOURCES.triggers], 'detail-type': ['ChurnTriggerFired'], detail: { route: [{ exists: false }] } },
        { source: [EMITTED_SOURCES.scoring], 'detail-type': ['CustomerRescored'] },
        // A deferred send whose timer went off (the timer sweep puts it back).
        { source: [EMITTED_SOURCES.campaigns], 'detail-type': ['CampaignSendDue'] },
        // A producer's events (validated by the handler as by ingest): the same ones ingest gets, of these types.
        { source: [{ 'anything-but': { prefix: CLM_SOURCE_PREFIX } }], 'detail-type': [...requestEventTypes] },
      ],
    },
    // At most 10; the deployed concurrency and batch size come from the SES send rate
    // (the sesMaxSendRate setting, infra/send-rate.ts), as for any function that sends email.
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxReceiveCount: 5,
  },
  {
    kind: 'rule',
    id: 'SesFeedbackToEmailFeedback',
    function: 'email-feedback',
    description: "SES's events of the configuration set's emails (on the account's default bus) to the customer's record",
    bus: 'default',
    pattern: { source: [SES_SOURCE], 'detail-type': [...routedSesDetailTypes] },
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxReceiveCount: 5,
  },
  {
    kind: 'schedule',
    id: 'NightlyRescore',
    function: 'nightly-rescore',
    description: 'Rescore every customer once a night',
    expressionSetting: 'nightlySchedule',
    input: (scheduledTime) => ({ subscription: 'NightlyRescore', scheduledTime }),
  },
  {
    kind: 'schedule',
    id: 'TimerSweep',
    function: 'timer-sweep',
    description: 'Fire the durable timers that are due, every few minutes',
    expressionSetting: 'timerSweepSchedule',
    input: (scheduledTime) => ({ subscription: 'TimerSweep', scheduledTime }),
  },
  {
    kind: 'schedule',
    id: 'NightlyReport',
    function: 'report',
    description: 'Write the report of the latest nightly run, some hours after the run starts',
    expressionSetting: 'reportSchedule',
    input: (scheduledTime) => ({ subscription: 'NightlyReport', scheduledTime }),
  },
];

/**
 * The nightly run's state machine (infra/constructs/nightly-run.ts builds it from this; the
 * steps are shared/scoring/nightly-steps.ts): start → gather every segment (a Map, each
 * segment a loop of step invocations until its checkpoint is done) → fit → score every
 * segment (the same) → finish. A step invocation that fails is retried with backoff; a
 * segment still failing is marked failed and the others go on.
 */
export const nightlyRun = {
  function: 'nightly-rescore' as FunctionName,
  /** Segments worked on at once (each runs one invocation at a time): bounds the function's concurrency. */
  maxConcurrency: 8,
  /** Retries of a failed step invocation: attempts after the first, first wait, backoff factor, longest wait. */
  retry: { maxAttempts: 3, intervalSeconds: 10, backoffRate: 2, maxDelaySeconds: 120 },
  /** The whole run's timeout. */
  timeoutHours: 8,
};

/**
 * The backfill's state machine (infra/constructs/backfill.ts; shared/backfill): one execution
 * per uploaded file, whose Distributed Map reads the file's rows from S3, hands them to the
 * function in batches, and ends with a summary step that publishes BackfillCompleted.
 */
export const backfillRun = {
  function: 'backfill' as FunctionName,
  /** Rows a batch (one function invocation). */
  rowsPerBatch: 500,
  /** Batches worked on at once: bounds the function's concurrency and the table's write rate. */
  maxConcurrency: 16,
  /** Share of a file's batches that may fail (after retries, and after their failure is recorded) before the run fails. */
  toleratedFailurePercentage: 5,
  /** Retries of a failed batch: attempts after the first, first wait, backoff factor, longest wait. */
  retry: { maxAttempts: 3, intervalSeconds: 5, backoffRate: 2, maxDelaySeconds: 60 },
  /** One file's run's timeout. */
  timeoutHours: 24,
};

/**
 * The public pages: one function answers every path (`/u/TOKEN`, `/learn/TOKEN`, `/exit/TOKEN`, `/confirm/TOKEN`)
 * behind a Lambda function URL in AWS (infra/constructs/public-pages.ts) and an HTTP server in
 * the local stack (local/pages-server.ts).
 */
export const publicPages = {
  function: 'pages' as FunctionName,
};

/** Environment variable names the functions read; set by CDK in AWS and by the local stack locally. */
export const ENV = {
  tableName: 'CLM_TABLE_NAME',
  busName: 'CLM_BUS_NAME',
  rejectedQueueUrl: 'CLM_REJECTED_QUEUE_URL',
  senderAddress: 'CLM_SENDER_ADDRESS',
  configurationSet: 'CLM_SES_CONFIGURATION_SET',
  unsubscribeBaseUrl: 'CLM_UNSUBSCRIBE_BASE_URL',
  helpBaseUrl: 'CLM_HELP_BASE_URL',
  eventRetentionDays: 'CLM_EVENT_RETENTION_DAYS',
  controlGroupPercent: 'CLM_CONTROL_GROUP_PERCENT',
  controlGroupExperiment: 'CLM_CONTROL_GROUP_EXPERIMENT',
  frequencyCapPerWeek: 'CLM_FREQUENCY_CAP_PER_WEEK',
  /** Sends per second one invocation paces itself to (unset: no pacing, as locally). */
  sesSendsPerSecond: 'CLM_SES_SENDS_PER_SECOND',
  /** The nightly scoring settings as JSON (shared/scoring/config.ts); unset: the defaults. */
  scoringConfig: 'CLM_SCORING_CONFIG',
  /** Months a winback permission lasts (the consent ledger's default expiry of a winback grant). */
  winbackPermissionMonths: 'CLM_WINBACK_PERMISSION_MONTHS',
  /** The winback sequence's delays in days, comma-separated (e.g. 14,60,180). */
  winbackDelaysDays: 'CLM_WINBACK_DELAYS_DAYS',
  winbackHighValueMinClv: 'CLM_WINBACK_HIGH_VALUE_MIN_CLV',
  winbackPersonalOutreach: 'CLM_WINBACK_PERSONAL_OUTREACH',
  /** Name or ARN of the Secrets Manager secret holding the page signing keys (shared/pages/tokens.ts). */
  pageKeysSecret: 'CLM_PAGE_KEYS_SECRET',
  /** Name or ARN of the Secrets Manager secret holding the erasure salt (shared/adapters/secrets-manager-privacy-salt.ts). */
  privacySaltSecret: 'CLM_PRIVACY_SALT_SECRET',
  /** Base URL of the public pages (`<base>/u/TOKEN`, `/learn/TOKEN`, `/exit/TOKEN`; docs/pages.md). */
  pagesBaseUrl: 'CLM_PAGES_BASE_URL',
  /** The private bucket the report function writes to. */
  reportBucket: 'CLM_REPORT_BUCKET',
  /** The report's settings as JSON (shared/report/settings.ts: cost per contact, currency, …); unset: the defaults. */
  reportSettings: 'CLM_REPORT_SETTINGS',
  /** The deliverability circuit breaker's policy as JSON (shared/campaigns/circuit-breaker.ts); unset: the defaults. */
  circuitBreaker: 'CLM_CIRCUIT_BREAKER',
} as const;
