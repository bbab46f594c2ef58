/**
 * The custom EventBridge bus every producer publishes to and the stack emits
 * on, with an archive (for replays) and a resource policy that lets the
 * deploying account and the configured producer accounts put events.
 */
import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

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
      eventBusName: `${stack.stackName}-events`,
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
        sid: 'DeployingAccountPutEvents',
        principals: [new iam.AccountPrincipal(stack.account)],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
      }),
    );
    if (props.producerAccountIds.length > 0) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ProducerAccountsPutEvents',
          principals: props.producerAccountIds.map((a) => new iam.AccountPrincipal(a)),
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
        }),
      );
    }
  }
}
