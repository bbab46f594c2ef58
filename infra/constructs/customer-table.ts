/**
 * The one DynamoDB table, built from shared/data-model/table.ts (keys, GSIs,
 * TTL attribute and stream view type are read from the definition, not
 * restated here): on demand, point-in-time recovery, KMS encryption, stream.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { tableDefinition } from '../../shared/data-model/table.ts';
import type { TableAccess } from '../../shared/wiring.ts';
import { physicalName } from './names.ts';

type KeyDef = { readonly name: string; readonly type: string };

const attribute = (key: KeyDef): dynamodb.Attribute => {
  const type = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER, B: dynamodb.AttributeType.BINARY }[key.type];
  if (!type) throw new Error(`Unsupported key type ${key.type} for ${key.name} in shared/data-model/table.ts`);
  return { name: key.name, type };
};

const projection = (p: string): dynamodb.ProjectionType => {
  const type = { ALL: dynamodb.ProjectionType.ALL, KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY, INCLUDE: dynamodb.ProjectionType.INCLUDE }[p];
  if (!type) throw new Error(`Unsupported projection ${p} in shared/data-model/table.ts`);
  return type;
};

export type CustomerTableProps = {
  /**
   * DESTROY (dev stacks) or RETAIN_ON_UPDATE_OR_DELETE: kept when replaced,
   * removed from the template or its stack deleted, but deleted when the
   * deploy that created it rolls back (`DeletionPolicy: RetainExceptOnCreate`),
   * so a failed first deploy leaves no table behind to block the retry.
   */
  removalPolicy: RemovalPolicy;
  /** DynamoDB deletion protection (refuses DeleteTable, CloudFormation's rollback included). */
  deletionProtection: boolean;
};

export class CustomerTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: CustomerTableProps) {
    super(scope, id);
    const def = tableDefinition;

    this.table = new dynamodb.Table(this, 'Table', {
      // `${stackName}-clm`: a second copy of the stack gets its own table.
      tableName: physicalName(this, def.baseName, 255),
      partitionKey: attribute(def.partitionKey),
      sortKey: def.sortKey ? attribute(def.sortKey) : undefined,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      stream: dynamodb.StreamViewType[def.stream],
      timeToLiveAttribute: def.timeToLiveAttribute,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });

    for (const gsi of def.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.indexName,
        partitionKey: attribute(gsi.partitionKey),
        sortKey: gsi.sortKey ? attribute(gsi.sortKey) : undefined,
        projectionType: projection(gsi.projection),
        ...('nonKeyAttributes' in gsi && { nonKeyAttributes: [...gsi.nonKeyAttributes] }),
      });
    }
  }

  /**
   * Exactly `access`: its item actions on the table ARN, and `dynamodb:Query`
   * on the ARN of each index it queries. Not `Table.grant*`, which adds every
   * action on `index/*` as well, nor Scan or batch writes nobody asked for.
   */
  grantItemActions(grantee: iam.IGrantable, access: TableAccess): void {
    if (access.actions.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'TableItems',
          actions: [...new Set(access.actions)].map((a) => `dynamodb:${a}`),
          resources: [this.table.tableArn],
        }),
      );
    }
    const indexes = [...new Set(access.queryIndexes ?? [])];
    for (const name of indexes) {
      if (!tableDefinition.globalSecondaryIndexes.some((g) => g.indexName === name)) {
        throw new Error(`Unknown index ${name}: shared/data-model/table.ts defines ${tableDefinition.globalSecondaryIndexes.map((g) => g.indexName).join(', ')}`);
      }
    }
    if (indexes.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'QueryIndexes',
          actions: ['dynamodb:Query'],
          resources: indexes.map((name) => `${this.table.tableArn}/index/${name}`),
        }),
      );
    }
  }
}
