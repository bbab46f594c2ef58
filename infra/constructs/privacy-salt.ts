/**
 * The erasure salt (docs/erasure.md): a Secrets Manager secret holding a generated 64-character
 * salt, with which the tombstones of erased customer ids and the suppression list of their
 * addresses are hashed. Outside the table, so that reading the table (a backup, an export, a role
 * with table read) is not enough to test guessed addresses against the suppression list. Read only
 * by the functions whose access lists `privacySalt` (ingest, erasure, campaigns, backfill) and by operators
 * running `clm erase`. Never rotated: a new salt would orphan every hash already kept.
 */
import { CfnOutput, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export class PrivacySalt extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: { removalPolicy: RemovalPolicy }) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'serverless-clm: the salt of the erasure tombstones and suppression list (64 letters and digits); never rotate it, see docs/erasure.md',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The erasure salt must never change: every tombstone and suppression entry kept is a hash taken with it, and a new salt would let erased customers back in (docs/erasure.md).',
    });
    new CfnOutput(this, 'Arn', { value: this.secret.secretArn, description: 'The erasure salt secret (clm erase --salt-secret)' }).overrideLogicalId('PrivacySaltSecretArn');
  }

  /** secretsmanager:GetSecretValue (and DescribeSecret) on this secret only. */
  grantRead(grantee: iam.IGrantable): void {
    this.secret.grantRead(grantee);
  }
}
