/**
 * Benchmark of the backfill against DynamoDB Local: rows per second through the backfill path
 * beside DynamoDB Local's raw BatchWriteItem rate, measured by this same script on the same
 * machine and the same number of items.
 *   npm run bench:backfill -- [customers] [--state-machine]   (default 5,000 customers, seed 42)
 *
 * History: the local run's generated history (local/synthetic/generate.ts) before the live
 * window, as JSON Lines rows in the generator's order (customer by customer), about 17.5 events
 * a customer. Each measurement gets its own DynamoDB Local and a fresh table.
 *   raw         BatchWriteItem of the same number of EVT# items (ingest's item shape), 25 a call,
 *               16 calls in flight: the table's own write rate
 *   backfill    backfillBatch (shared/backfill) with DynamoBackfillStore, DynamoTimerStore and
 *               DynamoConsentLedger, as the handler runs it, batches of 500 rows, 16 batches at
 *               once (the state machine's MaxConcurrency): validation, the reads of profiles and
 *               event keys, the consent records, the event batch writes, the conditional profile
 *               writes, the timers of absence and the batch results
 *   state machine (with --state-machine) the same through the synthesized state machine in the
 *               ASL interpreter with the real handler, as npm start runs it
 * Also printed: the CPU seconds of the DynamoDB Local JVM and of Node during each phase, the write
 * and read units consumed per row (ReturnConsumedCapacity), and the DynamoDB requests per batch by
 * kind (bench/dynamodb-meter.ts).
 */
import os from 'node:os';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchPutAll } from '../shared/adapters/dynamodb-batch.ts';
import { DynamoBackfillStore } from '../shared/adapters/dynamodb-backfill-store.ts';
import { DynamoConsentLedger } from '../shared/adapters/dynamodb-consent-ledger.ts';
import { DynamoTimerStore } from '../shared/adapters/dynamodb-timer-store.ts';
import { eventItem } from '../shared/adapters/dynamodb-customer-store.ts';
import { backfillBatch, type BackfillBatch } from '../shared/backfill/backfill.ts';
import { applyEvent, emptyProfile } from '../shared/customers/profile.ts';
import { validateInbound } from '../shared/events/validate.ts';
import { backfillRun, ENV } from '../shared/wiring.ts';
import { startAwsJsonServer } from '../local/aws-json-server.ts';
import { type Handler, loadHandler } from '../local/invoke.ts';
import { LocalBus } from '../local/bus.ts';
import { QueueRegistry } from '../local/queues.ts';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION, localDynamoDbClient, startDynamoDbLocal } from '../local/services.ts';
import { generate, splitHistory } from '../local/synthetic/generate.ts';
import { countRequests, cpuSeconds, formatCounts, type RequestCounts } from './dynamodb-meter.ts';

const args = process.argv.slice(2);
const customers = Number(args.find((a) => /^\d+$/.test(a)) ?? 5000);
const viaStateMachine = args.includes('--state-machine');
const CONCURRENCY = backfillRun.maxConcurrency;
const ROWS_PER_BATCH = backfillRun.rowsPerBatch;
const fold = { empty: emptyProfile, apply: applyEvent };

const data = await generate({ customers, seed: 42, now: new Date('2026-11-23T00:00:00Z') });
const rows = splitHistory(data).history.map((e) => ({ source: e.Source, 'detail-type': e.DetailType, detail: JSON.parse(e.Detail) as unknown }));
const now = new Date('2026-11-23T12:00:00Z');

/** Progress on stderr (the table goes to stdout at the end). */
const progress = (line: string) => process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${line} (load ${os.loadavg()[0]!.toFixed(1)})\n`);

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
type Row = { path: string; rows: number; seconds: number; perSecond: number; jvmCpuS: number; nodeCpuS: number; writeUnitsPerRow?: number; readUnitsPerRow?: number };
const results: Row[] = [];

/**
 * Each measurement runs on its own DynamoDB Local with one fresh table. DynamoDB Local's stream
 * bookkeeping of a write (SQLiteDBAccessJob.getStreamDescription, on its one SQLite thread) costs in
 * proportion to the stream records other tables wrote before this table's first write: after the
 * raw phase's 89,000 writes on another table, every write of the next table was 30 to 100 times
 * slower (docs/benchmarks.md), so two phases in one DynamoDB Local are no fair comparison.
 */
type Meter = { client: DynamoDBClient; doc: DynamoDBDocumentClient; endpoint: string; table: string; counts: RequestCounts };
async function onFreshDynamoDbLocal(name: string, work: (m: Meter) => Promise<number>): Promise<Omit<Row, 'path' | 'writeUnitsPerRow' | 'readUnitsPerRow'> & { counts: RequestCounts }> {
  const ddb = await startDynamoDbLocal();
  const client = localDynamoDbClient(ddb.endpoint);
  const counts = countRequests(client);
  try {
    const table = `bench-${name}`;
    await createTable(client, table);
    counts.clear();
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const jvm0 = cpuSeconds(ddb.pid);
    const node0 = process.cpuUsage();
    const t = performance.now();
    const n = await work({ client, doc, endpoint: ddb.endpoint, table, counts });
    const seconds = (performance.now() - t) / 1000;
    const node = process.cpuUsage(node0);
    const out = { rows: n, seconds, perSecond: n / seconds, jvmCpuS: cpuSeconds(ddb.pid) - jvm0, nodeCpuS: (node.user + node.system) / 1e6, counts };
    progress(`${name}: ${n} rows in ${seconds.toFixed(1)} s, DynamoDB Local CPU ${out.jvmCpuS.toFixed(1)} s, Node CPU ${out.nodeCpuS.toFixed(1)} s`);
    return out;
  } finally {
    client.destroy();
    await ddb.stop();
  }
}

const batches: BackfillBatch[] = [];
for (let i = 0; i < rows.length; i += ROWS_PER_BATCH) {
  batches.push({ Items: rows.slice(i, i + ROWS_PER_BATCH).map((row, k) => ({ index: i + k, row })), BatchInput: { runId: 'bench', file: 'history.jsonl', format: 'jsonl' } });
}
const requestLines: string[] = [];
const perBatch = (counts: RequestCounts) => formatCounts(counts, batches.length);

// Raw: the same number of event items, batch-written.
{
  const items = rows.map((r) => {
    const v = validateInbound(r, now);
    if (!v.ok) throw new Error(v.reason);
    return eventItem(v.event, now, 400 * 86_400);
  });
  // One item per key: the history holds duplicates (the same event twice), which one BatchWriteItem call refuses.
  const unique = [...new Map(items.map((i) => [`${i.pk}\n${i.sk}`, i])).values()];
  let writeUnits = 0;
  const m = await onFreshDynamoDbLocal('raw', async ({ doc, table }) => {
    writeUnits = (await batchPutAll(doc, table, unique, { concurrency: CONCURRENCY })).consumedWriteUnits;
    return unique.length;
  });
  results.push({ path: 'raw BatchWriteItem (25 a call, 16 in flight)', ...m, writeUnitsPerRow: writeUnits / unique.length });
  requestLines.push(`raw: ${perBatch(m.counts)}`);
}

// The backfill path: the domain with the DynamoDB adapter, 16 batches at once.
{
  let consumed = { writeUnits: 0, readUnits: 0 };
  const figures = { stored: 0, customers: 0, consent: 0, timersSet: 0, conflicts: 0 };
  const m = await onFreshDynamoDbLocal('backfill', async ({ client, table }) => {
    const store = new DynamoBackfillStore(client, { tableName: table, profiles: fold });
    const extra = { timers: new DynamoTimerStore(client, { tableName: table }), consent: new DynamoConsentLedger(client, { tableName: table }) };
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < batches.length) {
          const b = batches[next++]!;
          const r = await backfillBatch(b, { store, fold, now: () => now, ...extra });
          figures.stored += r.eventsStored;
          figures.customers += r.customersWritten;
          figures.consent += r.consentRecords;
          figures.timersSet += r.timersSet;
        }
      }),
    );
    if (figures.stored === 0) throw new Error('the backfill stored nothing');
    consumed = store.consumed;
    return rows.length;
  });
  results.push({ path: `backfill (batches of ${ROWS_PER_BATCH}, ${CONCURRENCY} at once)`, ...m, writeUnitsPerRow: consumed.writeUnits / rows.length, readUnitsPerRow: consumed.readUnits / rows.length });
  requestLines.push(
    `backfill: ${perBatch(m.counts)} (${fmt(figures.stored)} events stored, ${fmt(figures.customers)} profile writes, ${fmt(figures.consent)} consent records, ${fmt(figures.timersSet)} timers set)`,
  );
}

if (viaStateMachine) {
  // The local stack's AWS JSON server: the erasure salt (Secrets Manager, which the handler reads
  // for erased customers' tombstones) and a bus with no rules for BackfillCompleted.
  const queues = new QueueRegistry({ region: LOCAL_REGION });
  const server = await startAwsJsonServer({
    bus: new LocalBus({ name: 'bench-bus', region: LOCAL_REGION, queueFor: (sub) => queues.ensure(sub.id) }),
    queues,
    secrets: new Map([['bench-privacy-salt', () => 'benchsalt'.padEnd(64, '0')]]),
  });
  const m = await onFreshDynamoDbLocal('state-machine', async ({ endpoint, table }) => {
    Object.assign(process.env, {
      [ENV.tableName]: table,
      [ENV.busName]: 'bench-bus',
      [ENV.privacySaltSecret]: 'bench-privacy-salt',
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: server.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      // as the local stack runs its handlers (local/local-stack.ts): no metrics, no tracing, and the
      // X-Ray SDK in manual mode (its automatic mode hooks every promise of the process)
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      AWS_XRAY_MANUAL_MODE: 'true',
      AWS_MAX_ATTEMPTS: '1',
    });
    const { runBackfillStateMachine } = await import('../local/backfill-run.ts');
    // The real handler, watched: a failed batch would make the phase look fast, so it is refused.
    const real = await loadHandler(backfillRun.function);
    let batchRows = 0;
    const failures: string[] = [];
    const handler: Handler = async (event, context) => {
      const step = (event as { step?: string }).step;
      try {
        const out = await real(event, context);
        if (step !== 'summarise') {
          const r = out as { rowsRead?: number; result?: { rowsRead?: number } };
          batchRows += r.result?.rowsRead ?? r.rowsRead ?? 0;
        }
        return out;
      } catch (e) {
        if (step !== 'summarise') failures.push((e as Error).message);
        throw e;
      }
    };
    await runBackfillStateMachine({ runId: 'bench', file: { key: 'history.jsonl', format: 'jsonl', rows }, region: LOCAL_REGION, retryWaitMs: 0, handler }).catch((e: Error) => {
      // Only the summary's publish may fail here (the bench's bus takes no event from this source); the batches are in by then.
      if (!/Summarise|EventBridge|PutEvents|AccessDenied/i.test(`${e.name} ${e.message} ${String((e as { cause?: unknown }).cause)}`)) throw e;
    });
    if (failures.length > 0 || batchRows !== rows.length) throw new Error(`the state machine's backfill failed (${batchRows} of ${rows.length} rows): ${failures.slice(0, 3).join('; ')}`);
    return rows.length;
  });
  await server.close();
  results.push({ path: 'backfill through the state machine (ASL interpreter, real handler)', ...m });
}

const raw = results[0]!.perSecond;
console.log(`\nbackfill benchmark: ${fmt(customers)} customers, ${fmt(rows.length)} history rows, DynamoDB Local; ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| path | rows | s | rows/s | of raw | DynamoDB Local CPU s | Node CPU s | WCU/row | RCU/row |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(`| ${r.path} | ${fmt(r.rows)} | ${fmt(r.seconds, 1)} | ${fmt(r.perSecond)} | ${fmt((100 * r.perSecond) / raw)}% | ${fmt(r.jvmCpuS, 1)} | ${fmt(r.nodeCpuS, 1)} | ${r.writeUnitsPerRow === undefined ? '' : fmt(r.writeUnitsPerRow, 2)} | ${r.readUnitsPerRow === undefined ? '' : fmt(r.readUnitsPerRow, 2)} |`);
}
console.log(`\nDynamoDB requests per ${ROWS_PER_BATCH}-row batch (${batches.length} batches):\n${requestLines.map((l) => `- ${l}`).join('\n')}`);
