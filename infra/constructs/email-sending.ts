/**
 * Sending email through SES: a configuration set (reputation metrics,
 * account suppression of bounces and complaints, TLS required) and,
 * optionally, the domain identity of the sender (EasyDKIM). The send grant is
 * scoped to the identity and configuration set ARNs and to the sender address.
 *
 * In the SES sandbox, SES also authorises SendEmail against the identity of
 * each recipient (which must be verified), so the grant then covers the
 * verified recipient identities as well: the ones listed, or every identity of
 * the account (`identity/*`) when none are. The `ses:FromAddress` condition
 * stays: whatever identities are covered, mail goes out from the sender address only.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { nagEnv } from './names.ts';
import { loadTemplateSet } from '../../shared/campaigns/template-files.ts';
import { checkTemplates } from '../../shared/campaigns/templates.ts';

export type EmailSendingProps = {
  senderAddress: string;
  senderDomain: string;
  /** false when the domain identity already exists in the account and region. */
  createSenderIdentity: boolean;
  /** Set when the account is in the SES sandbox: the verified recipient addresses or domains (empty: any identity of the account). */
  sandboxRecipients?: string[];
  /** The email templates checked at synthesis (default: the repository's `templates/`). */
  templatesDir?: string;
};

export class EmailSending extends Construct {
  readonly configurationSet: ses.ConfigurationSet;
  /** The created identity; undefined when `createSenderIdentity` is false. */
  readonly identity?: ses.EmailIdentity;
  readonly identityArn: string;
  readonly configurationSetArn: string;
  readonly senderAddress: string;
  /** Identity ARNs the send grant covers for recipients (sandbox only; empty outside it). */
  readonly recipientIdentityArns: string[];

  constructor(scope: Construct, id: string, props: EmailSendingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.senderAddress = props.senderAddress;

    // Every campaign's templates render (every locale, every block present and absent): a bad one fails synth.
    const problems = checkTemplates(loadTemplateSet(props.templatesDir));
    if (problems.length > 0) throw new Error(`email templates: ${problems.join('; ')}`);

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
    const recipients = props.sandboxRecipients;
    this.recipientIdentityArns =
      recipients === undefined
        ? []
        : (recipients.length > 0 ? recipients : ['*']).map((r) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: r }));
  }

  /**
   * Publishes the configuration set's email events that the stack records (docs/email-feedback.md)
   * to `bus`, which must be the account's default bus: the only one SES publishes to.
   */
  publishEventsTo(bus: events.IEventBus): void {
    this.configurationSet.addEventDestination('Feedback', {
      destination: ses.EventDestination.eventBus(bus),
      events: [
        // Send: SES took the email (counted by the circuit breaker; confirms a `submitted` ledger entry).
        ses.EmailSendingEvent.SEND,
        ses.EmailSendingEvent.DELIVERY,
        ses.EmailSendingEvent.BOUNCE,
        ses.EmailSendingEvent.COMPLAINT,
        ses.EmailSendingEvent.OPEN,
        ses.EmailSendingEvent.CLICK,
        ses.EmailSendingEvent.REJECT,
        ses.EmailSendingEvent.RENDERING_FAILURE,
      ],
    });
  }

  /**
   * ses:SendEmail and ses:SendBulkEmail from the sender address only, through this identity and
   * configuration set only (and, in the sandbox, to the verified recipient identities).
   */
  grantSendEmail(grantee: iam.IGrantable, role?: iam.IRole): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendCampaignEmail',
        actions: ['ses:SendEmail', 'ses:SendBulkEmail'],
        resources: [this.identityArn, this.configurationSetArn, ...this.recipientIdentityArns],
        conditions: { StringEquals: { 'ses:FromAddress': this.senderAddress } },
      }),
    );
    if (role && this.recipientIdentityArns.some((arn) => arn.endsWith('identity/*'))) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:${nagEnv(this).region}:${nagEnv(this).account}:identity/*]`,
        reason:
          'sesSandbox=true without sesSandboxRecipients: in the SES sandbox SendEmail is also authorised against each (verified) recipient identity, so the grant covers the identities of the account; the ses:FromAddress condition still limits sending to the sender address. List the test recipients in sesSandboxRecipients to scope it.',
      });
    }
  }
}
