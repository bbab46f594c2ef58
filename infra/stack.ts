/**
 * The serverless-clm stack, composed from shared/wiring.ts: one function per
 * `functionSpecs` entry (granted exactly its `access`), one rule, stream or
 * schedule subscription per `subscriptions` entry. Adding a subscription or
 * function in wiring.ts adds it here with no change in infra/.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { CLM_SOURCE_PREFIX } from '../shared/events/catalog.ts';
import { ENV, type FunctionName, type FunctionSpec, functionSpecs, subscriptions } from '../shared/wiring.ts';
import { Alarms, type QueueFill } from './constructs/alarms.ts';
import { ClmFunction } from './constructs/clm-function.ts';
import { CustomerTable } from './constructs/customer-table.ts';
import { EmailSending } from './constructs/email-sending.ts';
import { ClmEventBus } from './constructs/event-bus.ts';
import { NightlySchedule } from './constructs/nightly-schedule.ts';
import { RejectedEvents } from './constructs/rejected-events.ts';
import { RuleSubscription } from './constructs/rule-subscription.ts';
import { StreamSubscription } from './constructs/stream-subscription.ts';
import type { Settings } from './settings.ts';

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
  readonly alarms: Alarms;
  readonly functions: Record<FunctionName, ClmFunction>;
  /** Every dead-letter queue of the stack, by a readable name, with how messages get into it. */
  readonly deadLetterQueues: Record<string, { queue: sqs.IQueue; filledBy: QueueFill }> = {};

  constructor(scope: Construct, id: string, props: ServerlessClmStackProps) {
    super(scope, id, {
      description: 'serverless-clm: customer lifecycle marketing (events in, CLV and churn scores, churn triggers and SES campaigns out)',
      ...props,
    });
    const settings = (this.settings = props.settings);
    const removalPolicy = settings.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    Tags.of(this).add('project', 'serverless-clm');

    this.table = new CustomerTable(this, 'CustomerTable', { tablePrefix: settings.tablePrefix, removalPolicy });
    this.eventBus = new ClmEventBus(this, 'EventBus', {
      archiveDays: settings.eventArchiveDays,
      producerAccountIds: settings.producerAccountIds,
    });
    this.rejectedEvents = new RejectedEvents(this, 'RejectedEvents');
    this.email = new EmailSending(this, 'EmailSending', {
      senderAddress: settings.senderAddress,
      senderDomain: settings.senderDomain,
      createSenderIdentity: settings.createSenderIdentity,
    });
    this.alarms = new Alarms(this, 'Alarms', { alarmEmail: settings.alarmEmail });

    // Functions, each with exactly the access wiring.ts gives it.
    const entries = Object.entries(functionSpecs) as [FunctionName, FunctionSpec][];
    this.functions = Object.fromEntries(
      entries.map(([name, spec]) => {
        const fn = new ClmFunction(this, `${constructId(name)}Function`, {
          name,
          spec,
          environment: this.environmentFor(spec),
          logRetention: settings.logRetentionDays,
          logLevel: settings.logLevel,
          removalPolicy,
        });
        this.grantAccess(fn, spec);
        this.alarms.watchFunction(constructId(name), fn.function);
        return [name, fn];
      }),
    ) as Record<FunctionName, ClmFunction>;

    // Subscriptions, one construct each.
    for (const sub of subscriptions) {
      const fn = this.functions[sub.function];
      if (!fn) throw new Error(`Subscription ${sub.id} names unknown function ${sub.function}`);
      switch (sub.kind) {
        case 'rule': {
          const s = new RuleSubscription(this, sub.id, {
            spec: sub,
            bus: this.eventBus.bus,
            fn: fn.function,
            functionTimeoutSeconds: functionSpecs[sub.function].timeoutSeconds,
          });
          // Filled by the subscription queue's redrive policy (not a SendMessage).
          this.deadLetterQueues[`${sub.id}DeadLetterQueue`] = { queue: s.deadLetterQueue, filledBy: 'redrive' };
          // Filled by EventBridge with SendMessage.
          this.deadLetterQueues[`${sub.id}DeliveryDeadLetterQueue`] = { queue: s.deliveryDeadLetterQueue, filledBy: 'send' };
          break;
        }
        case 'stream': {
          const s = new StreamSubscription(this, sub.id, { spec: sub, table: this.table.table, fn: fn.function });
          // Filled by Lambda's on-failure destination with SendMessage.
          this.deadLetterQueues[`${sub.id}OnFailureQueue`] = { queue: s.deadLetterQueue, filledBy: 'send' };
          break;
        }
        case 'schedule': {
          const s = new NightlySchedule(this, sub.id, {
            spec: sub,
            fn: fn.function,
            expression: settings[sub.expressionSetting],
            timeZone: settings.nightlyTimeZone,
          });
          // Filled by EventBridge Scheduler with SendMessage.
          this.deadLetterQueues[`${sub.id}DeadLetterQueue`] = { queue: s.deadLetterQueue, filledBy: 'send' };
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
    if (this.email.identity) {
      this.email.identity.dkimRecords.forEach((record, i) => {
        new CfnOutput(this, `SenderDomainDkimRecord${i + 1}`, {
          value: `${record.name} CNAME ${record.value}`,
          description: `DKIM CNAME record ${i + 1} of 3 to add to the DNS of ${settings.senderDomain}`,
        });
      });
    }
  }

  /** The environment a function gets: the names of what it may touch, and the plain settings. */
  private environmentFor(spec: FunctionSpec): Record<string, string> {
    const s = this.settings;
    const env: Record<string, string> = {
      [ENV.eventRetentionDays]: String(s.eventRetentionDays),
      [ENV.controlGroupPercent]: String(s.controlGroupPercent),
      [ENV.controlGroupExperiment]: s.controlGroupExperiment,
      [ENV.frequencyCapPerWeek]: String(s.frequencyCapPerWeek),
    };
    const { access } = spec;
    if (access.table) env[ENV.tableName] = this.table.table.tableName;
    if (access.putEvents) env[ENV.busName] = this.eventBus.bus.eventBusName;
    if (access.rejectedEvents) env[ENV.rejectedQueueUrl] = this.rejectedEvents.queue.queueUrl;
    if (access.sendEmail) {
      env[ENV.senderAddress] = s.senderAddress;
      env[ENV.configurationSet] = this.email.configurationSet.configurationSetName;
      env[ENV.unsubscribeBaseUrl] = s.unsubscribeBaseUrl;
      env[ENV.helpBaseUrl] = s.helpBaseUrl;
    }
    return env;
  }

  /** Exactly the grants of `spec.access`; nothing else. */
  private grantAccess(fn: ClmFunction, spec: FunctionSpec): void {
    const { access } = spec;
    if (access.table) this.table.grantItemActions(fn.function, access.table);
    if (access.putEvents) this.eventBus.bus.grantPutEventsTo(fn.function);
    if (access.sendEmail) this.email.grantSendEmail(fn.function);
    if (access.rejectedEvents) this.rejectedEvents.queue.grant(fn.function, 'sqs:SendMessage');
  }
}
