/**
 * What each kind of DynamoDB Local request the backfill makes costs, on the real table
 * definition (its two GSIs, its stream): wall time per call and the JVM's CPU per call
 * (/proc/<pid>/stat), each kind run with 16 calls in flight, on a table that already holds
 * `--fill` event items of other customers (a table's size may change a request's cost).
 * With --other the items fill another table of the same DynamoDB Local first, as a benchmark
 * or a test file that creates a second table does: DynamoDB Local's stream bookkeeping then makes
 * every write of the new table pay for the other table's stream records (docs/benchmarks.md).
 *   npm run bench:dynamodb-local -- [--fill N] [--other] [--calls N]
 */
import os from 'node:os';
import { DynamoDBDocumentClient, BatchGetCommand, BatchWriteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createTable, localDynamoDbClient, startDynamoDbLocal } from '../local/services.ts';
import { customerPk, scoringShard, SK } from '../shared/data-model/keys.ts';
import { cpuSeconds } from './dynamodb-meter.ts';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const FILL = arg('--fill', 20_000);
/** Fill another table instead (as the backfill bench's raw phase does before the backfill phase). */
const OTHER = process.argv.includes('--other');
const CALLS = arg('--calls', 400);
const INFLIGHT = 16;

const ddb = await startDynamoDbLocal();
const client = localDynamoDbClient(ddb.endpoint);
const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const jvmCpuS = () => cpuSeconds(ddb.pid);

const table = 'ops';
await createTable(client, table);
const detail = { eventId: 'x', customerId: 'c', occurredAt: '2026-01-01T00:00:00.000Z', amount: 12.5, currency: 'EUR', orderId: 'o-1', items: [{ sku: 'a', qty: 1, price: 12.5 }] };
const eventItem = (c: string, e: string) => ({ pk: customerPk(c), sk: SK.event(e), entity: 'event', type: 'OrderPlaced', source: 'com.example.shop', customerId: c, eventId: e, occurredAt: detail.occurredAt, receivedAt: detail.occurredAt, detail: { ...detail, eventId: e, customerId: c }, expiresAt: 2_000_000_000 });
const profileItem = (c: string, v = 1) => ({
  pk: customerPk(c),
  sk: SK.profile,
  entity: 'profile',
  scoringShard: scoringShard(c),
  scoringView: JSON.stringify({ a: 'x'.repeat(300) }),
  version: v,
  blob: 'y'.repeat(2000),
  updatedAt: detail.occurredAt,
});
const consentItem = (c: string, r: string) => ({ pk: customerPk(c), sk: SK.consent('2026-01-01T00:00:00.000Z', r), entity: 'consent', customerId: c, recordId: r, channel: 'email', purpose: 'marketing', granted: true, at: detail.occurredAt, source: 'import' });
const timerItem = (c: string, k: string) => ({ pk: customerPk(c), sk: SK.timer('order-stuck', k), entity: 'timer', customerId: c, kind: 'order-stuck', key: k, dueAt: '2026-12-10T00:00:00.000Z', setAt: detail.occurredAt, attempts: 0, timerBucket: `TIMER#2026-12-10T00#${k.length % 4}`, timerDue: '2026-12-10T00:00:00.000Z', expiresAt: 2_000_000_000 });

const chunks = <T>(xs: T[], n: number) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));
async function inFlight<T>(items: T[], work: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: INFLIGHT }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

// Fill
{
  const fillTable = OTHER ? 'other' : table;
  if (OTHER) await createTable(client, fillTable);
  const items = Array.from({ length: FILL }, (_, i) => eventItem(`fill-${i % Math.max(1, Math.floor(FILL / 17))}`, `f${i}`));
  const t = performance.now();
  await inFlight(chunks(items, 25), (c) => doc.send(new BatchWriteCommand({ RequestItems: { [fillTable]: c.map((Item) => ({ PutRequest: { Item } })) } })));
  process.stderr.write(`filled ${fillTable} with ${FILL} event items in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
}

type Row = { op: string; calls: number; items: number; s: number; perCall: number; perItem: number; jvmMsPerCall: number };
const rows: Row[] = [];
let run = 0;
async function measure(op: string, calls: number, itemsPerCall: number, make: (i: number) => Promise<unknown>) {
  const ids = Array.from({ length: calls }, (_, i) => i);
  const cpu0 = jvmCpuS();
  const t = performance.now();
  await inFlight(ids, make);
  const s = (performance.now() - t) / 1000;
  const cpu = jvmCpuS() - cpu0;
  rows.push({ op, calls, items: calls * itemsPerCall, s, perCall: (1000 * s) / calls, perItem: (1000 * s) / (calls * itemsPerCall), jvmMsPerCall: (1000 * cpu) / calls });
  process.stderr.write(`${op}: ${calls} calls in ${s.toFixed(1)} s (load ${os.loadavg()[0]!.toFixed(1)})\n`);
}
const R = () => `r${++run}`;

{
  const p = R();
  await measure('BatchWriteItem 25 event items', CALLS / 4, 25, (i) => doc.send(new BatchWriteCommand({ RequestItems: { [table]: Array.from({ length: 25 }, (_, k) => ({ PutRequest: { Item: eventItem(`${p}-${i}`, `e${k}`) } })) } })));
}
{
  const p = R();
  await measure('BatchWriteItem 25 profile items (byScoringShard)', CALLS / 4, 25, (i) => doc.send(new BatchWriteCommand({ RequestItems: { [table]: Array.from({ length: 25 }, (_, k) => ({ PutRequest: { Item: profileItem(`${p}-${i}-${k}`) } })) } })));
}
{
  const p = R();
  await measure('BatchWriteItem 25 consent items', CALLS / 4, 25, (i) => doc.send(new BatchWriteCommand({ RequestItems: { [table]: Array.from({ length: 25 }, (_, k) => ({ PutRequest: { Item: consentItem(`${p}-${i}`, `k${k}`) } })) } })));
}
{
  const p = R();
  await measure('BatchWriteItem 25 timer items (byTimerDue)', CALLS / 4, 25, (i) => doc.send(new BatchWriteCommand({ RequestItems: { [table]: Array.from({ length: 25 }, (_, k) => ({ PutRequest: { Item: timerItem(`${p}-${i}`, `k${k}`) } })) } })));
}
{
  const p = R();
  await measure('TransactWriteItems 25 profile puts attribute_not_exists', CALLS / 4, 25, (i) =>
    doc.send(new TransactWriteCommand({ TransactItems: Array.from({ length: 25 }, (_, k) => ({ Put: { TableName: table, Item: profileItem(`${p}-${i}-${k}`), ConditionExpression: 'attribute_not_exists(pk)' } })) })),
  );
}
{
  const p = R();
  await measure('PutItem event (no condition)', CALLS, 1, (i) => doc.send(new PutCommand({ TableName: table, Item: eventItem(`${p}-${i}`, 'e') })));
}
{
  const p = R();
  await measure('PutItem profile attribute_not_exists', CALLS, 1, (i) => doc.send(new PutCommand({ TableName: table, Item: profileItem(`${p}-${i}`), ConditionExpression: 'attribute_not_exists(pk)' })));
}
{
  const p = R();
  await measure('PutItem consent attribute_not_exists', CALLS, 1, (i) => doc.send(new PutCommand({ TableName: table, Item: consentItem(`${p}-${i}`, 'k'), ConditionExpression: 'attribute_not_exists(pk)' })));
}
{
  const p = R();
  await measure('GetItem absent (consistent)', CALLS, 1, (i) => doc.send(new GetCommand({ TableName: table, Key: { pk: customerPk(`${p}-${i}`), sk: SK.profile }, ConsistentRead: true })));
}
{
  const p = R();
  await measure('Query absent partition EVT# (consistent)', CALLS, 1, (i) => doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)', ExpressionAttributeValues: { ':pk': customerPk(`${p}-${i}`), ':e': 'EVT#' }, ConsistentRead: true })));
}
await measure('Query filled partition EVT# (17 items)', CALLS, 1, (i) => doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)', ExpressionAttributeValues: { ':pk': customerPk(`fill-${i % 100}`), ':e': 'EVT#' }, ProjectionExpression: 'pk, sk', ConsistentRead: true })));
{
  const p = R();
  await measure('BatchGetItem 100 absent keys (consistent)', CALLS / 4, 100, (i) => doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: Array.from({ length: 100 }, (_, k) => ({ pk: customerPk(`${p}-${i}-${k}`), sk: SK.profile })), ConsistentRead: true } } })));
}
await measure('BatchGetItem 100 present event keys (consistent)', CALLS / 4, 100, (i) => doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: Array.from({ length: 100 }, (_, k) => ({ pk: customerPk(`fill-${(i * 100 + k) % Math.floor(FILL / 17)}`), sk: SK.event(`f${(i * 100 + k) % Math.floor(FILL / 17)}`) })), ConsistentRead: true } } })).catch(() => undefined));

client.destroy();
await ddb.stop();

console.log(`\nDynamoDB Local per request kind: table with ${FILL} event items, ${INFLIGHT} in flight; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
console.log('| request | calls | items | s | ms/call | ms/item | JVM CPU ms/call |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.op} | ${r.calls} | ${r.items} | ${r.s.toFixed(2)} | ${r.perCall.toFixed(1)} | ${r.perItem.toFixed(2)} | ${r.jvmMsPerCall.toFixed(1)} |`);
