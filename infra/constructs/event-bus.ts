/**
 * The custom EventBridge bus every producer publishes to and the stack emits
 * on, with an archive (for replays) and a resource policy that lets the
 * deploying account and the configured producer accounts put events, except
 * events with the stack's own source prefix (`reserveSourcePrefix`).
 */
import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { physicalName } from './names.ts';

/**
 * A bus policy statement id from the stack name: CloudFormation takes the
 * statement id as the physical id of the policy, and CDK prefixes it with
 * `cdk-` and cuts it at 64 characters.
 */
const statementId = (scope: Construct, what: string): string => physicalName(scope, what, 60);

export type EventBusProps = {
  /** Days the archive keeps events; 0 keeps them forever. */
  archiveDays: number;
  /** Accounts besides the deploying one that may put events. */
  producerAccountIds: string[];
};

export class ClmEventBus extends Construct {
  readonly bus: events.EventBus;
  readonly archive: events.CfnArchive;

  constructor(scope: Construct, id: string, props: EventBusProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: physicalName(this, 'events', 256),
      description: 'Business events in, churn triggers and campaign outcomes out (serverless-clm)',
    });

    // No event pattern: the archive keeps every event on the bus.
    this.archive = new events.CfnArchive(this, 'Archive', {
      sourceArn: this.bus.eventBusArn,
      description: 'Every event on the serverless-clm bus, for replays',
      retentionDays: props.archiveDays,
    });

    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: statementId(this, 'DeployingAccountPutEvents'),
        principals: [new iam.AccountPrincipal(stack.account)],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
      }),
    );
    if (props.producerAccountIds.length > 0) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: statementId(this, 'ProducerAccountsPutEvents'),
          principals: props.producerAccountIds.map((a) => new iam.AccountPrincipal(a)),
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
        }),
      );
    }
  }

  /**
   * Denies `events:PutEvents` of any event whose source starts with `prefix`
   * to every principal except `emitters` (the stack's own function roles).
   * The stack's rules trust those sources (e.g. `clm.triggers` → campaigns), so
   * without this a producer account could forge churn triggers and make the
   * stack send emails. An explicit Deny in the bus policy applies to callers of
   * every account, the deploying one included.
   *
   * `events:source` can carry several values (the sources of the entries of
   * one PutEvents call), hence `ForAnyValue:StringLike`: any reserved source
   * matches, and a single value matches as with plain `StringLike`.
   * `aws:PrincipalArn` is the role ARN for a session of an assumed role (a
   * Lambda function's), so the exception names the roles.
   */
  reserveSourcePrefix(prefix: string, emitters: iam.IRole[]): void {
    if (emitters.length === 0) throw new Error('reserveSourcePrefix needs at least one emitting role');
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: statementId(this, 'OnlyStackFunctionsPutReservedSources'),
        effect: iam.Effect.DENY,
        principals: [new iam.StarPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: {
          'ForAnyValue:StringLike': { 'events:source': `${prefix}*` },
          ArnNotEquals: { 'aws:PrincipalArn': emitters.map((r) => r.roleArn) },
        },
      }),
    );
  }
}
