/**
 * ReportStore on the single table: one item per night under `REPORT`, sort key
 * `RUN#<runDate>#<runId>`, the merged part kept gzipped (it is bounded, a few kB to tens of
 * kB, well under the 400 KB item limit). A rerun of a night puts the item again (its last
 * finish wins); the latest is the last key of the partition.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { REPORT_PK, reportSk } from '../data-model/keys.ts';
import type { ReportStore, StoredReportPart } from '../ports.ts';
import type { ReportPart } from '../report/aggregate.ts';

export class DynamoReportStore implements ReportStore {
  private readonly doc: DynamoDBDocumentClient;
  constructor(
    client: DynamoDBClient,
    private readonly options: { tableName: string },
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async putReportPart(stored: StoredReportPart): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: { pk: REPORT_PK, sk: reportSk(stored.runDate, stored.runId), entity: 'report', runId: stored.runId, runDate: stored.runDate, storedAt: stored.storedAt, part: gzipSync(JSON.stringify(stored.part)) },
      }),
    );
  }

  async latestReportPart(): Promise<StoredReportPart | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({ TableName: this.options.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': REPORT_PK }, ScanIndexForward: false, Limit: 1, ConsistentRead: true }),
    );
    const item = Items?.[0];
    if (!item) return undefined;
    const part = JSON.parse(gunzipSync(item.part as Uint8Array).toString('utf8')) as ReportPart;
    return { runId: String(item.runId), runDate: String(item.runDate), storedAt: String(item.storedAt), part };
  }
}
