/**
 * Sending email through SES: a configuration set (reputation metrics,
 * account suppression of bounces and complaints, TLS required) and,
 * optionally, the domain identity of the sender (EasyDKIM). The send grant is
 * scoped to the identity and configuration set ARNs and to the sender address.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

export type EmailSendingProps = {
  senderAddress: string;
  senderDomain: string;
  /** false when the domain identity already exists in the account and region. */
  createSenderIdentity: boolean;
};

export class EmailSending extends Construct {
  readonly configurationSet: ses.ConfigurationSet;
  /** The created identity; undefined when `createSenderIdentity` is false. */
  readonly identity?: ses.EmailIdentity;
  readonly identityArn: string;
  readonly configurationSetArn: string;
  readonly senderAddress: string;

  constructor(scope: Construct, id: string, props: EmailSendingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.senderAddress = props.senderAddress;

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
    });

    if (props.createSenderIdentity) {
      this.identity = new ses.EmailIdentity(this, 'SenderIdentity', {
        identity: ses.Identity.domain(props.senderDomain),
        configurationSet: this.configurationSet,
      });
    }

    this.identityArn = stack.formatArn({ service: 'ses', resource: 'identity', resourceName: props.senderDomain });
    this.configurationSetArn = stack.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }

  /** ses:SendEmail from the sender address only, through this identity and configuration set only. */
  grantSendEmail(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendCampaignEmail',
        actions: ['ses:SendEmail'],
        resources: [this.identityArn, this.configurationSetArn],
        conditions: { StringEquals: { 'ses:FromAddress': this.senderAddress } },
      }),
    );
  }
}
