/**
 * The wiring of the stack, defined once: which function listens to which bus
 * rule, table stream (with filter criteria) or schedule, and what each
 * function may touch. `infra/` turns this into CDK resources; `local/` turns
 * it into in-process routing. Neither has its own copy of the routing.
 */
import { CLM_SOURCE_PREFIX, EMITTED_SOURCES } from './events/catalog.ts';
import { triggerEventTypes } from './triggers/rules.ts';

/** An EventBridge event pattern (also used, in the same syntax, for Lambda stream filter criteria). */
export type EventPattern = { [key: string]: unknown };

export type FunctionName = 'ingest' | 'churn-triggers' | 'campaigns' | 'nightly-rescore';

export type FunctionSpec = {
  /** Path from the repository root of the module that exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** What the function may touch; CDK grants exactly this, nothing more. */
  access: {
    table?: 'read' | 'readwrite';
    putEvents?: boolean;
    sendEmail?: boolean;
    rejectedEvents?: boolean;
  };
};

export const functionSpecs: Record<FunctionName, FunctionSpec> = {
  ingest: {
    entry: 'functions/ingest/handler.ts',
    description: 'Validates business events, stores them once and updates the customer aggregates',
    memoryMb: 512,
    timeoutSeconds: 30,
    access: { table: 'readwrite', rejectedEvents: true },
  },
  'churn-triggers': {
    entry: 'functions/churn-triggers/handler.ts',
    description: 'Reads new events from the table stream and fires single and collective churn triggers',
    memoryMb: 512,
    timeoutSeconds: 30,
    access: { table: 'readwrite', putEvents: true },
  },
  campaigns: {
    entry: 'functions/campaigns/handler.ts',
    description: 'Turns churn triggers into emails through SES, within consent, suppression, caps and control groups',
    memoryMb: 512,
    timeoutSeconds: 60,
    access: { table: 'readwrite', putEvents: true, sendEmail: true },
  },
  'nightly-rescore': {
    entry: 'functions/nightly-rescore/handler.ts',
    description: 'Nightly run that rescores every customer (CLV, churn risk, value tier, next best action)',
    memoryMb: 1769,
    timeoutSeconds: 900,
    access: { table: 'readwrite', putEvents: true },
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
  /** Name of the configuration setting holding the cron expression. */
  expressionSetting: 'nightlySchedule';
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
    kind: 'stream',
    id: 'NewEventsToChurnTriggers',
    function: 'churn-triggers',
    description: 'Newly stored business events of the types the churn rules look at',
    filters: [
      {
        eventName: ['INSERT'],
        dynamodb: { NewImage: { sk: { S: [{ prefix: 'EVT#' }] }, type: { S: [...triggerEventTypes] } } },
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
    description: 'Churn triggers become retention, winback and education emails',
    pattern: { source: [EMITTED_SOURCES.triggers], 'detail-type': ['ChurnTriggerFired'] },
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
  },
];

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
  frequencyCapPerWeek: 'CLM_FREQUENCY_CAP_PER_WEEK',
} as const;
