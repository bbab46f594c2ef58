/**
 * The serverless-clm stack, composed from shared/wiring.ts: one function per
 * `functionSpecs` entry (granted exactly its `access`), one rule, stream or
 * schedule subscription per `subscriptions` entry. Adding a subscription or
 * function in wiring.ts adds it here with no change in infra/.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { CLM_SOURCE_PREFIX } from '../shared/events/catalog.ts';
import { BUNDLED_TRIGGERS_FILE, triggerConfigSource } from '../shared/triggers/config.ts';
import { backfillRun, ENV, type FunctionName, type FunctionSpec, functionSpecs, nightlyRun, publicPages, type RuleSubscription as RuleSubscriptionSpec, subscriptions } from '../shared/wiring.ts';
import { Alarms, PAGE_LINKS_UNKNOWN_KEY_ALARM, type QueueFill } from './constructs/alarms.ts';
import { ClmFunction } from './constructs/clm-function.ts';
import { CustomerTable } from './constructs/customer-table.ts';
import { PipelineDashboard } from './constructs/dashboard.ts';
import { EmailSending } from './constructs/email-sending.ts';
import { ClmEventBus } from './constructs/event-bus.ts';
import { Backfill } from './constructs/backfill.ts';
import { NightlyRun, STALE_RUN_HOURS } from './constructs/nightly-run.ts';
import { NightlySchedule } from './constructs/nightly-schedule.ts';
import { TimerSweep } from './constructs/timer-sweep.ts';
import { PageSigningKeys, PublicPages } from './constructs/public-pages.ts';
import { PrivacySalt } from './constructs/privacy-salt.ts';
import { Report } from './constructs/report.ts';
import { RejectedEvents } from './constructs/rejected-events.ts';
import { RuleSubscription } from './constructs/rule-subscription.ts';
import { planSendRate, type SendRatePlan } from './send-rate.ts';
import { StreamSubscription } from './constructs/stream-subscription.ts';
import type { Settings } from './settings.ts';

/** A work queue (one a function consumes) whose oldest message is older than this raises an alarm. */
export const WORK_QUEUE_MAX_AGE = Duration.minutes(30);

/**
 * The DynamoDB operations the functions call (their `access`, the transactions
 * of ingest and campaigns, the stream reads), whose throttles and system
 * errors are alarmed. ConditionCheckItem has no metric of its own.
 */
const tableOperations = (specs: FunctionSpec[]): dynamodb.Operation[] => {
  const ops = new Set<string>(specs.flatMap((s) => s.access.table?.actions ?? []).filter((a) => a !== 'ConditionCheckItem'));
  ops.add(dynamodb.Operation.TRANSACT_WRITE_ITEMS);
  return [...ops].map((op) => {
    if (!Object.values(dynamodb.Operation).includes(op as dynamodb.Operation)) throw new Error(`No DynamoDB metric operation for ${op}`);
    return op as dynamodb.Operation;
  });
};

export type ServerlessClmStackProps = StackProps & { settings: Settings };

/** `churn-triggers` → `ChurnTriggers`, for construct ids. */
export const constructId = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');

export class ServerlessClmStack extends Stack {
  readonly settings: Settings;
  readonly table: CustomerTable;
  readonly eventBus: ClmEventBus;
  readonly rejectedEvents: RejectedEvents;
  readonly email: EmailSending;
  /** The secret of the page signing keys, and the public pages' function URL. */
  readonly pageKeys: PageSigningKeys;
  readonly privacySalt: PrivacySalt;
  readonly publicPages: PublicPages;
  readonly alarms: Alarms;
  readonly dashboard: PipelineDashboard;
  readonly functions: Record<FunctionName, ClmFunction>;
  /** The nightly run's state machine (the schedule starts it). */
  readonly nightlyRun: NightlyRun;
  /** The report's private bucket and its schedule. */
  report?: Report;
  /** The backfill: its upload bucket and its state machine (`clm backfill upload` starts it). */
  readonly backfill: Backfill;
  /** Concurrency, batch size and pacing of the function that sends email, from `sesMaxSendRate`. */
  readonly sendRate: SendRatePlan;
  /** Every dead-letter queue of the stack, by a readable name, with how messages get into it. */
  readonly deadLetterQueues: Record<string, { queue: sqs.IQueue; filledBy: QueueFill }> = {};
  /** Every queue a function consumes, by subscription id. */
  readonly workQueues: Record<string, sqs.IQueue> = {};

  constructor(scope: Construct, id: string, props: ServerlessClmStackProps) {
    super(scope, id, {
      description: 'serverless-clm: customer lifecycle marketing (events in, CLV and churn scores, churn triggers and SES campaigns out)',
      ...props,
    });
    const settings = (this.settings = props.settings);
    // Retained on update and delete, but not when the deploy that created them rolls back.
    const removalPolicy = settings.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    Tags.of(this).add('project', 'serverless-clm');

    this.table = new CustomerTable(this, 'CustomerTable', { removalPolicy, deletionProtection: settings.tableDeletionProtection });
    this.eventBus = new ClmEventBus(this, 'EventBus', {
      archiveDays: settings.eventArchiveDays,
      producerAccountIds: settings.producerAccountIds,
    });
    this.rejectedEvents = new RejectedEvents(this, 'RejectedEvents');
    this.email = new EmailSending(this, 'EmailSending', {
      senderAddress: settings.senderAddress,
      senderDomain: settings.senderDomain,
      createSenderIdentity: settings.createSenderIdentity,
      sandboxRecipients: settings.sesSandbox ? settings.sesSandboxRecipients : undefined,
    });
    this.alarms = new Alarms(this, 'Alarms', { alarmEmail: settings.alarmEmail });
    // SES feedback: the configuration set's events go to the default bus (the only one SES publishes to),
    // where the email-feedback subscription's rule picks them up.
    this.email.publishEventsTo(this.defaultBus());
    this.pageKeys = new PageSigningKeys(this, 'PageSigningKeys', { removalPolicy });
    this.privacySalt = new PrivacySalt(this, 'PrivacySalt', { removalPolicy });

    // The rule subscription of a function that sends email is sized to the SES send rate.
    const senders = subscriptions.filter((s): s is RuleSubscriptionSpec => s.kind === 'rule' && functionSpecs[s.function].access.sendEmail === true);
    if (senders.length !== 1) throw new Error(`Expected one rule subscription of a function that sends email, found ${senders.length}`);
    this.sendRate = planSendRate(settings.sesMaxSendRate, { batchSize: senders[0]!.batchSize, timeoutSeconds: functionSpecs[senders[0]!.function].timeoutSeconds });

    // Functions, each with exactly the access wiring.ts gives it.
    const entries = Object.entries(functionSpecs) as [FunctionName, FunctionSpec][];
    const triggersFile = triggerConfigSource;
    this.functions = Object.fromEntries(
      entries.map(([name, spec]) => {
        const fn = new ClmFunction(this, `${constructId(name)}Function`, {
          name,
          spec,
          environment: this.environmentFor(name, spec),
          logRetention: settings.logRetentionDays,
          logLevel: settings.logLevel,
          removalPolicy,
          // A function that sends email renders the template files: they ship beside its bundle.
          bundledDirs: spec.access.sendEmail ? ['templates'] : undefined,
          // A trigger configuration other than the repository's (CLM_TRIGGERS_FILE, validated when this module loaded) ships beside every bundle.
          bundledFiles: triggersFile ? [{ from: triggersFile, name: BUNDLED_TRIGGERS_FILE }] : undefined,
        });
        this.grantAccess(fn, spec);
        this.alarms.watchFunction(constructId(name), fn.function);
        return [name, fn];
      }),
    ) as Record<FunctionName, ClmFunction>;

    // The public pages behind their function URL; the functions that send email link to them.
    this.publicPages = new PublicPages(this, 'PublicPages', { fn: this.functions[publicPages.function].function });
    for (const [name, spec] of entries) {
      if (spec.access.sendEmail) this.functions[name].function.addEnvironment(ENV.pagesBaseUrl, settings.pagesBaseUrl ?? this.publicPages.url.url);
    }

    // The nightly run: a state machine over the steps of its function.
    const nightlyFn = this.functions[nightlyRun.function];
    this.nightlyRun = new NightlyRun(this, 'NightlyRun', {
      spec: nightlyRun,
      fn: nightlyFn.function,
      stepTimeout: Duration.seconds(functionSpecs[nightlyRun.function].timeoutSeconds),
      removalPolicy,
    });
    this.alarms.watchNightlyRun('NightlyRun', this.nightlyRun, STALE_RUN_HOURS);

    // The backfill: one execution per uploaded file, over the steps of its function.
    this.backfill = new Backfill(this, 'Backfill', {
      spec: backfillRun,
      fn: this.functions[backfillRun.function].function,
      stepTimeout: Duration.seconds(functionSpecs[backfillRun.function].timeoutSeconds),
      removalPolicy,
    });
    this.alarms.watchBackfill('Backfill', this.backfill.stateMachine);

    // Subscriptions, one construct each.
    const batchFunctions = new Set<FunctionName>();
    const streamFunctions: Partial<Record<FunctionName, ClmFunction>> = {};
    for (const sub of subscriptions) {
      const fn = this.functions[sub.function];
      if (!fn) throw new Error(`Subscription ${sub.id} names unknown function ${sub.function}`);
      switch (sub.kind) {
        case 'rule': {
          const sends = functionSpecs[sub.function].access.sendEmail === true;
          // On the default bus, only this stack's configuration set's events: another copy of the stack
          // in the account (its rule is on the same bus) must not record this one's feedback.
          const onDefaultBus = sub.bus === 'default' ? { ...sub, pattern: { ...sub.pattern, detail: { mail: { tags: { 'ses:configuration-set': [this.email.configurationSet.configurationSetName] } } } } } : sub;
          const s = new RuleSubscription(this, sub.id, {
            spec: sends ? { ...sub, maxConcurrency: this.sendRate.maxConcurrency, batchSize: this.sendRate.batchSize } : onDefaultBus,
            bus: sub.bus === 'default' ? this.defaultBus() : this.eventBus.bus,
            fn: fn.function,
            functionTimeoutSeconds: functionSpecs[sub.function].timeoutSeconds,
          });
          // Filled by the subscription queue's redrive policy (not a SendMessage).
          this.deadLetterQueues[`${sub.id}DeadLetterQueue`] = { queue: s.deadLetterQueue, filledBy: 'redrive' };
          // Filled by EventBridge with SendMessage.
          this.deadLetterQueues[`${sub.id}DeliveryDeadLetterQueue`] = { queue: s.deliveryDeadLetterQueue, filledBy: 'send' };
          this.workQueues[sub.id] = s.queue;
          this.alarms.watchWorkQueue(`${sub.id}Queue`, s.queue, WORK_QUEUE_MAX_AGE);
          batchFunctions.add(sub.function);
          break;
        }
        case 'stream': {
          const s = new StreamSubscription(this, sub.id, { spec: sub, table: this.table.table, fn: fn.function });
          // Filled by Lambda's on-failure destination with SendMessage.
          this.deadLetterQueues[`${sub.id}OnFailureQueue`] = { queue: s.deadLetterQueue, filledBy: 'send' };
          this.alarms.watchIteratorAge(sub.id, fn.function, Duration.seconds(sub.maxRecordAgeSeconds));
          streamFunctions[sub.function] = fn;
          batchFunctions.add(sub.function);
          break;
        }
        case 'schedule': {
          if (sub.function === nightlyRun.function) {
            const s = new NightlySchedule(this, sub.id, {
              spec: sub,
              stateMachine: this.nightlyRun.stateMachine,
              expression: settings[sub.expressionSetting],
              timeZone: settings.nightlyTimeZone,
            });
            // Filled by EventBridge Scheduler with SendMessage.
            this.deadLetterQueues[`${sub.id}DeadLetterQueue`] = { queue: s.deadLetterQueue, filledBy: 'send' };
          } else if (sub.function === 'report') {
            // The report: its private bucket and the schedule that invokes the report function.
            const r = (this.report = new Report(this, 'Report', {
              spec: sub,
              fn: fn.function,
              role: fn.role,
              expression: settings[sub.expressionSetting],
              timeZone: settings.nightlyTimeZone,
              removalPolicy,
            }));
            fn.function.addEnvironment(ENV.reportBucket, r.bucket.bucketName);
            this.deadLetterQueues[`${sub.id}DeadLetterQueue`] = { queue: r.deadLetterQueue, filledBy: 'send' };
          } else {
            // Any other schedule invokes its function directly (the timer sweep).
            const s = new TimerSweep(this, sub.id, { spec: sub, fn: fn.function, expression: settings[sub.expressionSetting] });
            this.deadLetterQueues[`${sub.id}DeadLetterQueue`] = { queue: s.deadLetterQueue, filledBy: 'send' };
            this.alarms.watchTimersGivenUp(sub.id, sub.function);
          }
          break;
        }
        default: {
          const unknown: never = sub;
          throw new Error(`Unknown subscription kind in ${JSON.stringify(unknown)}`);
        }
      }
    }

    for (const [name, { queue, filledBy }] of Object.entries(this.deadLetterQueues)) {
      this.alarms.watchQueue(name, queue, 'Dead letters', filledBy);
    }
    // The ingest function sends rejected events with SendMessage; nothing consumes the queue.
    this.alarms.watchQueue('RejectedEvents', this.rejectedEvents.queue, 'Events failed validation', 'send');
    // Batch handlers report failed records as batch item failures (the invocation succeeds) and count them.
    for (const name of batchFunctions) this.alarms.watchFailedRecords(constructId(name), name);
    this.alarms.watchTable(this.table.table, tableOperations(entries.map(([, spec]) => spec)));
    this.alarms.watchSesReputation();
    // Marketing paused by the deliverability circuit breaker (the campaigns function counts each paused send).
    for (const [name, spec] of entries) if (spec.access.sendEmail) this.alarms.watchCircuitBreaker(constructId(name), name);
    // Links refused for a signing key the pages no longer hold: customers' unsubscribe links failing.
    this.alarms.watchPageLinks(constructId(publicPages.function), publicPages.function, PAGE_LINKS_UNKNOWN_KEY_ALARM);

    this.dashboard = new PipelineDashboard(this, 'Dashboard', {
      functions: Object.fromEntries(entries.map(([name]) => [name, this.functions[name].function])),
      workQueues: this.workQueues,
      deadLetterQueues: {
        ...Object.fromEntries(Object.entries(this.deadLetterQueues).map(([name, { queue }]) => [name, queue])),
        RejectedEvents: this.rejectedEvents.queue,
      },
      streamFunctions: Object.fromEntries(Object.entries(streamFunctions).map(([name, fn]) => [name, fn.function])),
      services: { ingest: 'ingest', triggers: 'churn-triggers', campaigns: 'campaigns' },
    });

    // Only the stack's own functions may put events with a `clm.` source: the
    // stack's rules trust those (e.g. ChurnTriggerFired → campaigns).
    const emitters = entries.filter(([, spec]) => spec.access.putEvents).map(([name]) => this.functions[name].role);
    this.eventBus.reserveSourcePrefix(CLM_SOURCE_PREFIX, emitters);

    new CfnOutput(this, 'EventBusName', { value: this.eventBus.bus.eventBusName, description: 'Bus producers put business events on' });
    new CfnOutput(this, 'EventBusArn', { value: this.eventBus.bus.eventBusArn, description: 'ARN of the bus (for cross-account producers)' });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, description: 'DynamoDB table' });
    new CfnOutput(this, 'RejectedEventsQueueUrl', { value: this.rejectedEvents.queue.queueUrl, description: 'Events that failed validation, with the reason' });
    new CfnOutput(this, 'SesConfigurationSetName', { value: this.email.configurationSet.configurationSetName, description: 'SES configuration set campaign emails are sent with' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'SNS topic the alarms notify' });
    if (this.report) new CfnOutput(this, 'ReportBucketName', { value: this.report.bucket.bucketName, description: 'Private bucket of the nightly report (latest/report.html; reports/<run date>/)' });
    new CfnOutput(this, 'BackfillBucketName', { value: this.backfill.bucket.bucketName, description: 'Bucket clm backfill upload puts files in' });
    new CfnOutput(this, 'BackfillStateMachineArn', { value: this.backfill.stateMachine.stateMachineArn, description: 'State machine clm backfill upload starts, one execution per file' });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboard.dashboardName, description: 'CloudWatch dashboard of the pipeline' });
    if (this.email.identity) {
      this.email.identity.dkimRecords.forEach((record, i) => {
        new CfnOutput(this, `SenderDomainDkimRecord${i + 1}`, {
          value: `${record.name} CNAME ${record.value}`,
          description: `DKIM CNAME record ${i + 1} of 3 to add to the DNS of ${settings.senderDomain}`,
        });
      });
    }
  }

  private defaultBusRef?: events.IEventBus;
  /** The account's default bus, where AWS services (SES) put their events. */
  private defaultBus(): events.IEventBus {
    return (this.defaultBusRef ??= events.EventBus.fromEventBusName(this, 'DefaultBus', 'default'));
  }

  /** The environment a function gets: the names of what it may touch, and the plain settings. */
  private environmentFor(name: FunctionName, spec: FunctionSpec): Record<string, string> {
    const s = this.settings;
    const env: Record<string, string> = {
      [ENV.eventRetentionDays]: String(s.eventRetentionDays),
      [ENV.controlGroupPercent]: String(s.controlGroupPercent),
      [ENV.controlGroupExperiment]: s.controlGroupExperiment,
      [ENV.frequencyCapPerWeek]: String(s.frequencyCapPerWeek),
      [ENV.winbackPermissionMonths]: String(s.winbackPermissionMonths),
      [ENV.winbackDelaysDays]: s.winbackDelaysDays.join(','),
      [ENV.winbackHighValueMinClv]: String(s.winbackHighValueMinClv),
      [ENV.winbackPersonalOutreach]: s.winbackPersonalOutreach,
    };
    const { access } = spec;
    if (access.table) env[ENV.tableName] = this.table.table.tableName;
    if (access.putEvents) env[ENV.busName] = this.eventBus.bus.eventBusName;
    if (access.rejectedEvents) env[ENV.rejectedQueueUrl] = this.rejectedEvents.queue.queueUrl;
    if (access.pageKeys) env[ENV.pageKeysSecret] = this.pageKeys.secret.secretArn;
    if (access.privacySalt) env[ENV.privacySaltSecret] = this.privacySalt.secret.secretArn;
    if (access.sendEmail) {
      env[ENV.senderAddress] = s.senderAddress;
      env[ENV.configurationSet] = this.email.configurationSet.configurationSetName;
      env[ENV.unsubscribeBaseUrl] = s.unsubscribeBaseUrl;
      env[ENV.helpBaseUrl] = s.helpBaseUrl;
      env[ENV.sesSendsPerSecond] = String(this.sendRate.sendsPerSecondPerInvocation);
    }
    // The nightly run's scoring settings (validated at synthesis; `{}` = the defaults).
    // Erasure reads its outreach experiment and churn horizon (the residues of her assignments) from it too.
    if (name === nightlyRun.function || name === 'erasure') env[ENV.scoringConfig] = JSON.stringify(s.scoringConfig);
    // The deliverability circuit breaker's policy for the function that sends (validated at synthesis; `{}` = the defaults).
    if (access.sendEmail) env[ENV.circuitBreaker] = JSON.stringify(s.circuitBreaker);
    // The report's settings (validated at synthesis; `{}` = the defaults).
    if (access.reportBucket) env[ENV.reportSettings] = JSON.stringify(s.reportSettings);
    return env;
  }

  /** Exactly the grants of `spec.access`; nothing else. */
  private grantAccess(fn: ClmFunction, spec: FunctionSpec): void {
    const { access } = spec;
    if (access.table) this.table.grantItemActions(fn.function, access.table);
    if (access.putEvents) this.eventBus.bus.grantPutEventsTo(fn.function);
    if (access.sendEmail) this.email.grantSendEmail(fn.function, fn.role);
    if (access.rejectedEvents) this.rejectedEvents.queue.grant(fn.function, 'sqs:SendMessage');
    if (access.pageKeys) this.pageKeys.grantRead(fn.function);
    if (access.privacySalt) this.privacySalt.grantRead(fn.function);
  }
}
