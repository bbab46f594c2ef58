/**
 * The wiring, pinned by hand-written literals: the filters and patterns are written out here
 * as they are meant to be, not read back from the wiring (or the rules) under test. A type
 * dropped from the stream filter, or a pattern widened, fails here.
 */
import { describe, expect, it } from 'vitest';
import { backfillRun, ENV, functionSpecs, subscriptions, type RuleSubscription, type StreamSubscription } from '../../shared/wiring.ts';

const byId = (id: string) => subscriptions.find((s) => s.id === id);

describe('wiring (hand-written expectations)', () => {
  it('has exactly these subscriptions', () => {
    expect(subscriptions.map((s) => [s.kind, s.id, s.function])).toEqual([
      ['rule', 'BusinessEventsToIngest', 'ingest'],
      ['rule', 'ErasureRequestsToErasure', 'erasure'],
      ['stream', 'NewEventsToChurnTriggers', 'churn-triggers'],
      ['rule', 'ChurnTriggersToCampaigns', 'campaigns'],
      ['rule', 'SesFeedbackToEmailFeedback', 'email-feedback'],
      ['schedule', 'NightlyRescore', 'nightly-rescore'],
      ['schedule', 'TimerSweep', 'timer-sweep'],
      ['schedule', 'NightlyReport', 'report'],
    ]);
  });

  it('the stream filter passes newly inserted events of the nine types the enabled triggers of config/triggers.json read and the four more the winback sequence reads, unless a backfill stored them, and nothing else', () => {
    const s = byId('NewEventsToChurnTriggers') as StreamSubscription;
    expect(s.filters).toEqual([
      {
        eventName: ['INSERT'],
        dynamodb: {
          NewImage: {
            sk: { S: [{ prefix: 'EVT#' }] },
            type: {
              S: [
                'OrderPlaced', 'OrderStatusChanged', 'UsageRecorded', 'SupportCallLogged', 'SupportCallResolved', 'SubscriptionChanged', 'SubscriptionCancelled', 'CancellationRequested', 'PaymentFailed',
                'AccountClosed', 'ExitSurveyAnswered', 'ConsentChanged', 'SubscriptionStarted',
              ],
            },
            backfill: { S: [{ exists: false }] },
          },
        },
      },
    ]);
    expect({ batchSize: s.batchSize, maxBatchingWindowSeconds: s.maxBatchingWindowSeconds, retryAttempts: s.retryAttempts, maxRecordAgeSeconds: s.maxRecordAgeSeconds }).toEqual({
      batchSize: 50,
      maxBatchingWindowSeconds: 1,
      retryAttempts: 5,
      maxRecordAgeSeconds: 3600,
    });
  });

  it('the bus rules: everything not from clm.* to ingest; triggers on the email route, rescores and the business events that ask for an email to campaigns', () => {
    const ingest = byId('BusinessEventsToIngest') as RuleSubscription;
    expect(ingest.pattern).toEqual({ source: [{ 'anything-but': { prefix: 'clm.' } }] });
    expect({ batchSize: ingest.batchSize, window: ingest.maxBatchingWindowSeconds, receives: ingest.maxReceiveCount, concurrency: ingest.maxConcurrency }).toEqual({
      batchSize: 100,
      window: 1,
      receives: 5,
      concurrency: undefined,
    });
    const campaigns = byId('ChurnTriggersToCampaigns') as RuleSubscription;
    // triggers on the email route (or without one: those routed to people get an OutreachTaskCreated, no email),
    // the nightly rescores and the producers' events that ask for an email
    expect(campaigns.pattern).toEqual({
      $or: [
        { source: ['clm.triggers'], 'detail-type': ['ChurnTriggerFired'], detail: { route: ['email'] } },
        { source: ['clm.triggers'], 'detail-type': ['ChurnTriggerFired'], detail: { route: [{ exists: false }] } },
        { source: ['clm.scoring'], 'detail-type': ['CustomerRescored'] },
        { source: ['clm.campaigns'], 'detail-type': ['CampaignSendDue'] },
        { source: [{ 'anything-but': { prefix: 'clm.' } }], 'detail-type': ['OrderPlaced', 'SubscriptionStarted', 'InvoiceIssued', 'PaymentFailed'] },
      ],
    });
    // no fixed concurrency: the stack derives it (and the batch size, at most 10) from the SES send rate (infra/send-rate.ts)
    expect({ batchSize: campaigns.batchSize, window: campaigns.maxBatchingWindowSeconds, receives: campaigns.maxReceiveCount, concurrency: campaigns.maxConcurrency }).toEqual({
      batchSize: 10,
      window: 1,
      receives: 5,
      concurrency: undefined,
    });
  });

  it("a producer's erasure requests to erasure (ingest gets them too, and stores none)", () => {
    const s = byId('ErasureRequestsToErasure') as RuleSubscription;
    expect(s.pattern).toEqual({ source: [{ 'anything-but': { prefix: 'clm.' } }], 'detail-type': ['CustomerErasureRequested'] });
    expect({ batchSize: s.batchSize, window: s.maxBatchingWindowSeconds, receives: s.maxReceiveCount, concurrency: s.maxConcurrency, bus: s.bus }).toEqual({
      batchSize: 10,
      window: 1,
      receives: 5,
      concurrency: undefined,
      bus: undefined,
    });
  });

  it("SES's email events, on the account's default bus, to email-feedback", () => {
    const s = byId('SesFeedbackToEmailFeedback') as RuleSubscription;
    expect(s.bus).toBe('default');
    expect(s.pattern).toEqual({
      source: ['aws.ses'],
      'detail-type': ['Email Sent', 'Email Delivered', 'Email Bounced', 'Email Complaint Received', 'Email Opened', 'Email Clicked', 'Email Rejected', 'Email Rendering Failed'],
    });
    expect({ batchSize: s.batchSize, window: s.maxBatchingWindowSeconds, receives: s.maxReceiveCount, concurrency: s.maxConcurrency }).toEqual({ batchSize: 10, window: 1, receives: 5, concurrency: undefined });
    // every other rule is on the stack's own bus
    expect(subscriptions.filter((x) => x.kind === 'rule' && x.bus !== undefined).map((x) => x.id)).toEqual(['SesFeedbackToEmailFeedback']);
  });

  it('the nightly schedule passes its id and the scheduled time', () => {
    const s = byId('NightlyRescore');
    expect(s?.kind === 'schedule' && s.input('2026-11-01T02:00:00Z')).toEqual({ subscription: 'NightlyRescore', scheduledTime: '2026-11-01T02:00:00Z' });
    expect(s?.kind === 'schedule' && s.expressionSetting).toBe('nightlySchedule');
    const r = byId('NightlyReport');
    expect(r?.kind === 'schedule' && r.input('2026-11-01T06:00:00Z')).toEqual({ subscription: 'NightlyReport', scheduledTime: '2026-11-01T06:00:00Z' });
    expect(r?.kind === 'schedule' && r.expressionSetting).toBe('reportSchedule');
  });

  it('the timer sweep passes its id and the scheduled time; its expression is the timerSweepSchedule setting', () => {
    const s = byId('TimerSweep');
    expect(s?.kind === 'schedule' && s.input('2026-11-01T02:05:00Z')).toEqual({ subscription: 'TimerSweep', scheduledTime: '2026-11-01T02:05:00Z' });
    expect(s?.kind === 'schedule' && s.expressionSetting).toBe('timerSweepSchedule');
  });

  it('each function may touch exactly this', () => {
    expect(Object.fromEntries(Object.entries(functionSpecs).map(([n, f]) => [n, { entry: f.entry, access: f.access, memoryMb: f.memoryMb, timeoutSeconds: f.timeoutSeconds }]))).toEqual({
      ingest: { entry: 'functions/ingest/handler.ts', memoryMb: 512, timeoutSeconds: 30, access: { table: { actions: ['GetItem', 'PutItem', 'BatchGetItem'] }, rejectedEvents: true, privacySalt: true } },
      erasure: { entry: 'functions/erasure/handler.ts', memoryMb: 512, timeoutSeconds: 120, access: { table: { actions: ['GetItem', 'PutItem', 'BatchGetItem', 'DeleteItem', 'Query', 'BatchWriteItem'] }, privacySalt: true } },
      'churn-triggers': { entry: 'functions/churn-triggers/handler.ts', memoryMb: 512, timeoutSeconds: 30, access: { table: { actions: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'] }, putEvents: true } },
      campaigns: {
        entry: 'functions/campaigns/handler.ts',
        memoryMb: 512,
        timeoutSeconds: 60,
        access: { table: { actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'] }, putEvents: true, sendEmail: true, pageKeys: true, privacySalt: true },
      },
      'nightly-rescore': {
        entry: 'functions/nightly-rescore/handler.ts',
        memoryMb: 1769,
        timeoutSeconds: 900,
        access: { table: { actions: ['BatchGetItem', 'BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'], queryIndexes: ['byScoringShard'] }, putEvents: true },
      },
      'timer-sweep': {
        entry: 'functions/timer-sweep/handler.ts',
        memoryMb: 512,
        timeoutSeconds: 240,
        access: { table: { actions: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'], queryIndexes: ['byTimerDue'] }, putEvents: true },
      },
      pages: { entry: 'functions/pages/handler.ts', memoryMb: 256, timeoutSeconds: 10, access: { table: { actions: ['GetItem', 'PutItem'] }, pageKeys: true } },
      report: { entry: 'functions/report/handler.ts', memoryMb: 1024, timeoutSeconds: 120, access: { table: { actions: ['Query'] }, reportBucket: true } },
      'email-feedback': { entry: 'functions/email-feedback/handler.ts', memoryMb: 512, timeoutSeconds: 30, access: { table: { actions: ['GetItem', 'PutItem', 'UpdateItem'] }, rejectedEvents: true } },
      backfill: {
        entry: 'functions/backfill/handler.ts',
        memoryMb: 1769,
        timeoutSeconds: 300,
        access: { table: { actions: ['BatchGetItem', 'BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query'] }, putEvents: true, privacySalt: true },
      },
    });
    for (const f of Object.values(functionSpecs)) expect(f.description.length).toBeGreaterThan(20);
    // every subscription says what it carries (the wiring is read as documentation of the stack)
    for (const s of subscriptions) expect(s.description.length, s.id).toBeGreaterThan(20);
  });

  it('the backfill: batches of 500 rows, 16 at once, 5% of failed batches tolerated, retried with backoff', () => {
    expect(backfillRun).toEqual({
      function: 'backfill',
      rowsPerBatch: 500,
      maxConcurrency: 16,
      toleratedFailurePercentage: 5,
      retry: { maxAttempts: 3, intervalSeconds: 5, backoffRate: 2, maxDelaySeconds: 60 },
      timeoutHours: 24,
    });
  });

  it('the environment variable names', () => {
    expect(ENV).toEqual({
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
      sesSendsPerSecond: 'CLM_SES_SENDS_PER_SECOND',
      scoringConfig: 'CLM_SCORING_CONFIG',
      winbackPermissionMonths: 'CLM_WINBACK_PERMISSION_MONTHS',
      winbackDelaysDays: 'CLM_WINBACK_DELAYS_DAYS',
      winbackHighValueMinClv: 'CLM_WINBACK_HIGH_VALUE_MIN_CLV',
      winbackPersonalOutreach: 'CLM_WINBACK_PERSONAL_OUTREACH',
      pageKeysSecret: 'CLM_PAGE_KEYS_SECRET',
      privacySaltSecret: 'CLM_PRIVACY_SALT_SECRET',
      pagesBaseUrl: 'CLM_PAGES_BASE_URL',
      reportBucket: 'CLM_REPORT_BUCKET',
      reportSettings: 'CLM_REPORT_SETTINGS',
      circuitBreaker: 'CLM_CIRCUIT_BREAKER',
    });
  });
});
