/**
 * The public pages (docs/pages.md): the Secrets Manager secret of the page
 * signing keys, and the pages function's URL. The URL is public
 * (`AuthType: NONE`): the signed token in each link is the only authority, and
 * a request whose token fails is answered before the table is read.
 *
 * The secret is created with a generated 64-character key (`kid` `k1`); it
 * rotates by hand, with an overlap (docs/pages.md#rotating-the-signing-key),
 * because links already in mailboxes must keep working for their lifetime.
 */
import { CfnOutput, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export class PageSigningKeys extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: { removalPolicy: RemovalPolicy }) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'serverless-clm: HMAC keys of the public pages\u2019 signed links ({"kid","key","previous":[{"kid","key","acceptUntil"}]}); see docs/pages.md',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ kid: 'k1', previous: [] }),
        generateStringKey: 'key',
        passwordLength: 64,
        excludePunctuation: true,
      },
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The page signing key rotates by hand with an overlap (docs/pages.md#rotating-the-signing-key): links already sent must keep verifying with the retired key until their expiry, which a single-version automatic rotation would break.',
    });
  }

  /** secretsmanager:GetSecretValue (and DescribeSecret) on this secret only. */
  grantRead(grantee: iam.IGrantable): void {
    this.secret.grantRead(grantee);
  }
}

export class PublicPages extends Construct {
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: { fn: lambda.IFunction }) {
    super(scope, id);
    this.url = props.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE, invokeMode: lambda.InvokeMode.BUFFERED });
    new CfnOutput(this, 'PagesUrl', { value: this.url.url, description: 'Base URL of the public pages (unsubscribe, help, exit survey)' }).overrideLogicalId('PagesUrl');
  }
}
