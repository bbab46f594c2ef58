/**
 * What a cancelled transaction costs DynamoDB Local as its table grows (docs/benchmarks.md, "The local
 * run at 100,000 customers"): a fresh DynamoDB Local and table (the stack's definition), filled with
 * event-sized items (~300 bytes, BatchWriteItem, 16 calls in flight) up to each size, then at each size
 * 30 `TransactWriteItems` in a row of two puts whose second is conditioned on an item that exists
 * (cancelled: rolled back), and 30 in a row that succeed, each row closed by a GetItem. Prints the
 * mean time of each kind (DynamoDB Local answers a cancelled transaction before its rollback has run:
 * the requests after it wait for it).
 *   npm run bench:dynamodb-local-rollback -- [sizes, comma-separated; default 1,100000,300000,600000]
 */
import os from 'node:os';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createTable, localDynamoDbClient, startDynamoDbLocal } from '../local/services.ts';

const sizes = (process.argv[2] ?? '1,100000,300000,600000').split(',').map(Number);
const TABLE = 'bench-rollback';
const REPEAT = 30;
const detail = { note: 'x'.repeat(250) };

const ddb = await startDynamoDbLocal();
const client = localDynamoDbClient(ddb.endpoint);
const doc = DynamoDBDocumentClient.from(client);
try {
  await createTable(client, TABLE);
  const rows: string[] = [];
  let items = 0;
  let n = 0;
  for (const target of sizes) {
    while (items < target) {
      const calls = [];
      for (let c = 0; c < 16 && items < target; c++) {
        const batch = [];
        for (let i = 0; i < 25 && items < target; i++, items++) batch.push({ PutRequest: { Item: { pk: `CUST#${items}`, sk: `EVT#${items}`, detail } } });
        calls.push(doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: batch } })));
      }
      await Promise.all(calls);
    }
    // Each kind 30 times in a row, then one GetItem: DynamoDB Local answers a cancelled transaction before
    // its ROLLBACK has run on its SQLite thread, so the rollback is paid by the requests after it (here,
    // the next one of the row and the closing GetItem). The mean over the row, the GetItem included, is
    // what each one costs the table.
    const row = async (one: (k: number) => Promise<void>) => {
      const t = performance.now();
      for (let k = 0; k < REPEAT; k++, n++) await one(n);
      await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'CUST#0', sk: 'EVT#0' } }));
      return (performance.now() - t) / REPEAT;
    };
    const cancelled = await row(async (k) => {
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: TABLE, Item: { pk: 'CUST#bench', sk: `EVT#new${k}`, detail } } },
              { Put: { TableName: TABLE, Item: { pk: 'CUST#0', sk: 'EVT#0', detail }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        );
        throw new Error('the conditioned put went through: CUST#0 should exist');
      } catch (e) {
        if ((e as Error).name !== 'TransactionCanceledException') throw e;
      }
    });
    const committed = await row(async (k) => {
      await doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: TABLE, Item: { pk: `CUST#ok${k}`, sk: 'EVT#1', detail } } }] }));
    });
    rows.push(`| ${items.toLocaleString('en')} | ${cancelled.toFixed(1)} | ${committed.toFixed(1)} |`);
    process.stderr.write(`  ${items.toLocaleString('en')} items done (load ${os.loadavg()[0]!.toFixed(1)})\n`);
  }
  console.log(`\nDynamoDB Local, a cancelled transaction against the table's size: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, load ${os.loadavg()[0]!.toFixed(1)}, ${new Date().toISOString().slice(0, 16)}Z\n`);
  console.log(`| items in the table | cancelled (condition failed), ms each (mean of ${REPEAT} in a row) | committed, ms each (mean of ${REPEAT} in a row) |`);
  console.log('|---:|---:|---:|');
  for (const r of rows) console.log(r);
} finally {
  client.destroy();
  await ddb.stop();
}
