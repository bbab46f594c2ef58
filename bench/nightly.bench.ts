/**
 * Benchmark of the nightly run end to end against DynamoDB Local (docs/benchmarks.md):
 *   npm run bench:nightly -- [--customers 100000] [--seed 42] [--chunk 5000]
 *
 * In one run, on one table:
 *  1. load: the synthetic base (local/synthetic/generate.ts, generated `--chunk` customers at a
 *     time to bound memory, each chunk with its own seed and id prefix), every event validated
 *     as ingest validates it and folded into the customer's profile by the same pure fold
 *     (`applyEvent`), de-duplicated by event id; the profile items built as ingest builds them
 *     (`profileItemOf`, with the scoring view) and written with BatchWriteItem, stamped `updatedAt`
 *     = the customer's last event; the next chunk generated while this one is written;
 *  2. night 1 and a quiet night 2 (no new event), each through the state machine CDK synthesizes,
 *     in the ASL interpreter with the real handler (local/nightly-run.ts, as `npm start` runs it),
 *     the bus a sink that accepts PutEvents;
 *  3. DynamoDB Local's own rates on the same table, by the same process: parallel BatchGetItem of
 *     every customer's PROFILE and SCORE items (the raw read rate), BatchWriteItem of as
 *     many score-sized items outside the index, with the state machine's concurrency (its Map's
 *     MaxConcurrency), a Query of the whole scoring index (what a night reads now), and BatchWriteItem
 *     of as many score items as the night writes them, in the index (the raw write rate a first
 *     night is held to), under other customer ids; the CPU time of this process and of DynamoDB
 *     Local's JVM during each night and raw write; the index is also read whole before night 1 (as
 *     night 1 finds it), and from that read and the raw write the bound no first night can beat on
 *     DynamoDB Local: reading every customer once (or twice) and writing every score, at its raw rates;
 *  4. units per customer: as DynamoDB Local reports them (ReturnConsumedCapacity, in the run
 *     summary) and as DynamoDB bills them, computed from the stored items' sizes;
 *  5. what the scoring view costs ingest per event, on a sample of 2,000 customers;
 *  6. what scoring the quiet night with night 1's model (one pass) instead of its own changes
 *     (bench/model-drift.ts), and the same on the CDNOW sample with new purchases between nights.
 * It prints a table; it asserts nothing (performance is measured here, never in timed tests).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { generate } from '../local/synthetic/generate.ts';
import { loadHandler } from '../local/invoke.ts';
import { localNightlyRunDefinition, runNightlyStateMachine } from '../local/nightly-run.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, createTable, localDynamoDbClient, startDynamoDbLocal } from '../local/services.ts';
import { type CustomerProfile, applyEvent, emptyProfile } from '../shared/customers/profile.ts';
import { SK, customerPk, scoringShard } from '../shared/data-model/keys.ts';
import { profileItemOf } from '../shared/adapters/dynamodb-customer-store.ts';
import { SCORING_SHARDS } from '../shared/data-model/table.ts';
import { validateInbound } from '../shared/events/validate.ts';
import { runDateOf } from '../shared/scoring/nightly-run.ts';
import { busEnvelope } from '../shared/pipeline/run-pipeline.ts';
import { ENV, nightlyRun } from '../shared/wiring.ts';
import { modelDriftTable, storedScores } from './model-drift.ts';

const { values: args } = parseArgs({
  options: { customers: { type: 'string', default: '100000' }, seed: { type: 'string', default: '42' }, chunk: { type: 'string', default: '5000' } },
});
const CUSTOMERS = Number(args.customers);
const SEED = Number(args.seed);
const CHUNK = Number(args.chunk);
const NOW = new Date('2026-11-23T00:00:00Z');
const CONCURRENCY = nightlyRun.maxConcurrency;
const TABLE = 'bench-clm';

const log = (line: string) => process.stdout.write(`${line}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Runs `work` over `items` with at most `n` at once. */
async function pool<T>(items: readonly T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/** BatchWriteItem of `items`, 25 a call, `n` calls at once, unprocessed items retried. Returns the write units reported. */
async function batchWrite(doc: DynamoDBDocumentClient, items: Record<string, unknown>[], n: number): Promise<number> {
  const calls: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) calls.push(items.slice(i, i + 25));
  let units = 0;
  await pool(calls, n, async (call) => {
    let requests = call.map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: requests }, ReturnConsumedCapacity: 'TOTAL' }));
      units += (out.ConsumedCapacity ?? []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
      requests = (out.UnprocessedItems?.[TABLE] ?? []) as typeof requests;
    }
  });
  return units;
}

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (utime and stime, in
 * USER_HZ = 100 ticks a second on Linux); NaN where there is no /proc.
 */
function cpuMsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}
/** This process's CPU time so far (user + system), in ms. */
const nodeCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// ------------------------------------------------------------------ item sizes as DynamoDB bills them

/** Bytes of a number as DynamoDB counts them: about one byte per two significant digits, plus one. */
function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** An attribute value's size (docs: "Item sizes and formats"): strings and binary by length, lists and maps 3 bytes + 1 per element. */
function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((s, x) => s + Buffer.byteLength(x), 0);
  if (v.NS) return v.NS.reduce((s, x) => s + numberSize(x), 0);
  if (v.L) return 3 + v.L.reduce((s, x) => s + 1 + valueSize(x), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + valueSize(x), 0);
  return 0;
}
const itemSize = (item: Record<string, AttributeValue>): number => Object.entries(item).reduce((s, [k, v]) => s + Buffer.byteLength(k) + valueSize(v), 0);

/** Sizes of the PROFILE and SCORE items the raw read phase got back. */
type Sizes = { profile: number[]; score: number[] };
function addSizes(sizes: Sizes, items: Record<string, unknown>[]): void {
  for (const item of items) {
    const size = itemSize(marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false }));
    if (item.sk === SK.profile) sizes.profile.push(size);
    else if (item.sk === SK.score) sizes.score.push(size);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
/** Read units of eventually consistent reads (BatchGetItem: each item on its own, in 4 KB steps, half a unit each). */
const readUnits = (sizes: number[]) => sizes.reduce((s, b) => s + 0.5 * Math.ceil(b / 4096), 0);
/** Write units (each item in 1 KB steps). */
const writeUnits = (sizes: number[]) => sizes.reduce((s, b) => s + Math.ceil(b / 1024), 0);

// ------------------------------------------------------------------ the run

/** A PutEvents sink standing in for the bus: accepts every entry and counts them by detail type. */
async function startSink(): Promise<{ endpoint: string; counts: Map<string, number>; stop: () => Promise<void> }> {
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const entries = ((JSON.parse(raw || '{}') as { Entries?: { DetailType?: string }[] }).Entries ?? []);
      for (const e of entries) counts.set(String(e.DetailType), (counts.get(String(e.DetailType)) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `e-${i}` })) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts, stop: () => new Promise((r) => server.close(() => r())) };
}

/** Generates, validates and folds one chunk of customers into profile items (ids prefixed by the chunk). */
async function chunkProfiles(k: number, customers: number): Promise<Record<string, unknown>[]> {
  const data = await generate({ customers, seed: SEED * 1000 + k, now: NOW, malformed: false });
  const profiles = new Map<string, { profile: CustomerProfile; seen: Set<string>; last: string }>();
  data.entries.forEach((entry, i) => {
    const raw = busEnvelope(entry, `b${k}-${i}`);
    const v = raw === undefined ? undefined : validateInbound(raw, NOW);
    if (!v?.ok) return;
    const event = v.event;
    const customerId = `B${k}-${event.detail.customerId}`;
    (event.detail as { customerId: string }).customerId = customerId;
    let p = profiles.get(customerId);
    if (!p) profiles.set(customerId, (p = { profile: emptyProfile(customerId), seen: new Set(), last: '' }));
    if (p.seen.has(event.detail.eventId)) return;
    p.seen.add(event.detail.eventId);
    p.profile = applyEvent(p.profile, event);
    if (event.detail.occurredAt > p.last) p.last = event.detail.occurredAt;
  });
  return [...profiles.values()].map(({ profile, last }) => profileItemOf(profile.customerId, profile, 1, new Date(last)));
}

/**
 * What the scoring view costs ingest, on a sample of customers: each of their events folded one
 * by one as ingest does, and for each write of the profile item whether its scoring view changed
 * (then the index entry is rewritten: its write units) and the profile item's write units with
 * and without the view (ingest writes it in a transaction: twice the units).
 */
type IngestCost = { events: number; viewChanged: number; indexWru: number; profileWruWith: number; profileWruWithout: number; viewBytes: number[] };
async function ingestCost(customers: number): Promise<IngestCost> {
  const data = await generate({ customers, seed: SEED * 1000, now: NOW, malformed: false });
  const cost: IngestCost = { events: 0, viewChanged: 0, indexWru: 0, profileWruWith: 0, profileWruWithout: 0, viewBytes: [] };
  const held = new Map<string, { profile: CustomerProfile; view: string; seen: Set<string> }>();
  data.entries.forEach((entry, i) => {
    const raw = busEnvelope(entry, `c-${i}`);
    const v = raw === undefined ? undefined : validateInbound(raw, NOW);
    if (!v?.ok) return;
    const id = v.event.detail.customerId;
    let h = held.get(id);
    if (!h) held.set(id, (h = { profile: emptyProfile(id), view: '', seen: new Set() }));
    if (h.seen.has(v.event.detail.eventId)) return;
    h.seen.add(v.event.detail.eventId);
    h.profile = applyEvent(h.profile, v.event);
    const item = profileItemOf(id, h.profile, 1, new Date(v.event.detail.occurredAt));
    const size = itemSize(marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false }));
    const viewSize = Buffer.byteLength('scoringView') + Buffer.byteLength(item.scoringView);
    cost.events++;
    cost.profileWruWith += 2 * Math.ceil(size / 1024);
    cost.profileWruWithout += 2 * Math.ceil((size - viewSize) / 1024);
    if (item.scoringView !== h.view) {
      cost.viewChanged++;
      // the index entry: its keys (scoringShard, pk, sk) and the view
      cost.indexWru += Math.ceil((viewSize + Buffer.byteLength('scoringShard') + item.scoringShard.length + 2 + item.pk.length + 2 + item.sk.length) / 1024);
      h.view = item.scoringView;
    }
  });
  for (const h of held.values()) cost.viewBytes.push(Buffer.byteLength(h.view));
  return cost;
}

/** The scoring index read whole, shard by shard, `CONCURRENCY` shards at once, pages of 500 entries, as a night's Query pages read it. */
async function readWholeIndex(doc: DynamoDBDocumentClient): Promise<{ ms: number; units: number; entries: number; pages: number; pagesRead: Record<string, unknown>[][] }> {
  const shards = Array.from({ length: SCORING_SHARDS }, (_, i) => `SHARD#${String(i).padStart(2, '0')}`);
  const read = { units: 0, entries: 0, pages: 0, pagesRead: [] as Record<string, unknown>[][] };
  const t = performance.now();
  await pool(shards, CONCURRENCY, async (shard) => {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(new QueryCommand({ TableName: TABLE, IndexName: 'byScoringShard', KeyConditionExpression: 'scoringShard = :s', ExpressionAttributeValues: { ':s': shard }, Limit: 500, ExclusiveStartKey, ReturnConsumedCapacity: 'TOTAL' }));
      read.units += out.ConsumedCapacity?.CapacityUnits ?? 0;
      read.entries += out.Items?.length ?? 0;
      read.pages++;
      read.pagesRead.push(out.Items ?? []);
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  });
  return { ms: performance.now() - t, ...read };
}

type NightSummary = { customersRead: number; written: number; emitted: number; skipped: number; failed: number; consumedReadUnits: number; consumedWriteUnits: number; durations: Record<string, { totalMs: number; maxMs: number; count: number }> };

async function main(): Promise<void> {
  log(`nightly bench: ${CUSTOMERS.toLocaleString('en')} customers, seed ${SEED}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, load average ${os.loadavg()[0]!.toFixed(1)}, ${new Date().toISOString().slice(0, 10)}`);
  const [dynamodb, sink] = await Promise.all([startDynamoDbLocal(), startSink()]);
  const client = localDynamoDbClient(dynamodb.endpoint);
  const jvmCpuMs = () => cpuMsOf(dynamodb.pid);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
  try {
    await createTable(client, TABLE);
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: sink.endpoint,
      [ENV.tableName]: TABLE,
      [ENV.busName]: 'bench-bus',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
      // as the local stack runs the handlers (local/local-stack.ts): no tracing, the X-Ray SDK hooking no promise
      POWERTOOLS_TRACE_ENABLED: 'false',
      AWS_XRAY_MANUAL_MODE: 'true',
    });

    // 1. load: the next chunk generated while this one is written
    const sizesOfChunks: number[] = [];
    for (let left = CUSTOMERS; left > 0; left -= CHUNK) sizesOfChunks.push(Math.min(CHUNK, left));
    const loadStart = performance.now();
    let loaded = 0;
    let generating = chunkProfiles(0, sizesOfChunks[0]!);
    for (let k = 0; k < sizesOfChunks.length; k++) {
      const items = await generating;
      if (k + 1 < sizesOfChunks.length) generating = chunkProfiles(k + 1, sizesOfChunks[k + 1]!);
      await batchWrite(doc, items, CONCURRENCY);
      loaded += sizesOfChunks[k]!;
      log(`  loaded ${loaded.toLocaleString('en')} profiles (${secs(performance.now() - loadStart)})`);
    }
    const loadMs = performance.now() - loadStart;

    // the scoring index read whole as night 1 finds it (profile entries only): DynamoDB Local's own rate for a night's read
    // (twice, the faster counted: the first Query paths DynamoDB Local runs are not yet compiled, and a low read time only raises the bound)
    const firstRead = await readWholeIndex(doc);
    firstRead.pagesRead.length = 0;
    const secondRead = await readWholeIndex(doc);
    secondRead.pagesRead.length = 0;
    const beforeNight1 = secondRead.ms < firstRead.ms ? secondRead : firstRead;
    log(`  the scoring index read whole before night 1: ${beforeNight1.entries.toLocaleString('en')} entries in ${secs(beforeNight1.ms)}`);

    // 2. the nights; each step's span (first invocation's start to last one's end) by wrapping the handler
    const handler = await loadHandler(nightlyRun.function);
    // the definition synthesized once, before the clock starts (a CDK synth is no part of a night)
    const definition = localNightlyRunDefinition();
    const nights: { name: string; ms: number; s: NightSummary; status: string; spans: Map<string, { from: number; to: number }>; nodeCpuMs: number; jvmCpuMs: number }[] = [];
    let beforeNight2: Awaited<ReturnType<typeof storedScores>> | undefined;
    for (const [name, day] of [['night 1', 0], ['night 2 (quiet)', 1]] as const) {
      // the stored scores night 2 compares with (for the table of 6.; read before its clock starts)
      if (day === 1) beforeNight2 = await storedScores(client, TABLE, runDateOf(new Date(NOW.getTime() + 86_400_000 + 2 * 3_600_000).toISOString()), CONCURRENCY);
      const spans = new Map<string, { from: number; to: number }>();
      const timed = async (e: unknown, c: Parameters<typeof handler>[1]) => {
        const step = String((e as { step?: string }).step ?? 'start');
        const from = performance.now();
        const out = await handler(e, c);
        const span = spans.get(step);
        spans.set(step, { from: Math.min(span?.from ?? from, from), to: performance.now() });
        return out;
      };
      const t = performance.now();
      const [node, jvm] = [nodeCpuMs(), jvmCpuMs()];
      const result = (await runNightlyStateMachine({ region: LOCAL_REGION, handler: timed, definition, scheduledTime: new Date(NOW.getTime() + day * 86_400_000 + 2 * 3_600_000) })) as { summary: NightSummary; fit: { status: string }; passes?: number };
      nights.push({ name: `${name}, ${result.passes ?? 2} pass${result.passes === 1 ? '' : 'es'}`, ms: performance.now() - t, s: result.summary, status: result.fit.status, spans, nodeCpuMs: nodeCpuMs() - node, jvmCpuMs: jvmCpuMs() - jvm });
      log(`  ${name}: ${secs(performance.now() - t)}, ${JSON.stringify({ ...result.summary, durations: undefined })}`);
    }

    // 3. raw rates on the same table
    const ids = Array.from({ length: CUSTOMERS }, (_, i) => i);
    const keys: { pk: string }[] = [];
    for (let k = 0, done = 0; done < CUSTOMERS; k++) {
      const n = Math.min(CHUNK, CUSTOMERS - done);
      for (let i = 1; i <= n; i++) keys.push({ pk: customerPk(`B${k}-C${String(i).padStart(6, '0')}`) });
      done += n;
    }
    const calls: { pk: string }[][] = [];
    for (let i = 0; i < keys.length; i += 50) calls.push(keys.slice(i, i + 50));
    let rawReadUnits = 0;
    let itemsRead = 0;
    const sizes: Sizes = { profile: [], score: [] };
    const got: Record<string, unknown>[][] = [];
    let t = performance.now();
    await pool(calls, CONCURRENCY, async (call) => {
      let Keys: Record<string, unknown>[] = call.flatMap(({ pk }) => [{ pk, sk: SK.profile }, { pk, sk: SK.score }]);
      while (Keys.length > 0) {
        const out = await doc.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys } }, ReturnConsumedCapacity: 'TOTAL' }));
        rawReadUnits += (out.ConsumedCapacity ?? []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
        itemsRead += out.Responses?.[TABLE]?.length ?? 0;
        // the sizes from the first 20,000 customers' items (all of them would not fit in memory at 100,000)
        if (got.length < 400) got.push(out.Responses?.[TABLE] ?? []);
        Keys = (out.UnprocessedKeys?.[TABLE]?.Keys ?? []) as Record<string, unknown>[];
      }
    });
    const rawReadMs = performance.now() - t;
    for (const items of got) addSizes(sizes, items);
    // the scoring index read whole, shard by shard, `CONCURRENCY` shards at once, pages of 500 entries (what a night's Query pages read)
    const afterNights = await readWholeIndex(doc);
    const { units: rawIndexUnits, entries: indexEntries, pages: indexPages, pagesRead: indexPagesRead, ms: rawIndexMs } = afterNights;
    let indexBilled = 0;
    // as DynamoDB bills a Query: the page's entries summed, in 4 KB steps, half a unit each (eventually consistent)
    for (const items of indexPagesRead) indexBilled += 0.5 * Math.ceil(items.reduce((b, item) => b + itemSize(marshall(item, { removeUndefinedValues: true })), 0) / 4096);
    indexPagesRead.length = 0;
    const sample = (await doc.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: [{ pk: keys[0]!.pk, sk: SK.score }] } } }))).Responses?.[TABLE]?.[0] ?? {};
    // the raw write is plain items, as before the scores were in the index (no scoringShard: no index write)
    const { scoringShard: _inIndex, ...plain } = sample;
    const scoreLike = ids.map((i) => ({ ...plain, pk: `BENCH#${i}`, sk: SK.score }));
    t = performance.now();
    let jvm = jvmCpuMs();
    const rawWriteUnits = await batchWrite(doc, scoreLike, CONCURRENCY);
    const rawWriteMs = performance.now() - t;
    const rawWriteJvmMs = jvmCpuMs() - jvm;
    // the raw write as the night writes it: the score items night 2 left (the first 20,000 customers'), as many as
    // there are customers, each under another customer's id (`R<i>-` before it: keys and shard of that id), with
    // its `scoringShard`, so in the index as well; after the Query above, and under ids no night reads
    const scores = got.flat().filter((item) => item.sk === SK.score);
    const asTheNight = scores.length === 0 ? [] : ids.map((i) => {
      const s = scores[i % scores.length]!;
      const customerId = `R${i}-${String(s.customerId)}`;
      return { ...s, customerId, pk: customerPk(customerId), scoringShard: scoringShard(customerId) };
    });
    t = performance.now();
    jvm = jvmCpuMs();
    const rawIndexWriteUnits = await batchWrite(doc, asTheNight, CONCURRENCY);
    const rawIndexWriteMs = performance.now() - t;
    const rawIndexWriteJvmMs = jvmCpuMs() - jvm;

    // 4. the table
    const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en');
    const billedReadScore = readUnits(sizes.profile) / Math.max(1, sizes.profile.length) + readUnits(sizes.score) / Math.max(1, sizes.score.length);
    const billedReadProfile = readUnits(sizes.profile) / Math.max(1, sizes.profile.length);
    const billedWrite = writeUnits(sizes.score) / Math.max(1, sizes.score.length);
    log('');
    log(`| phase | customers or items | time | per second |`);
    log(`|---|---:|---:|---:|`);
    log(`| load: generate + fold, overlapped with the BatchWriteItem of the profiles | ${CUSTOMERS.toLocaleString('en')} | ${secs(loadMs)} | ${rate(CUSTOMERS, loadMs)} |`);
    for (const n of nights) {
      log(`| ${n.name}, end to end (${n.s.written.toLocaleString('en')} written) | ${n.s.customersRead.toLocaleString('en')} | ${secs(n.ms)} | ${rate(n.s.customersRead, n.ms)} |`);
      for (const [step, { from, to }] of n.spans) {
        if (step === 'gather' || step === 'score') log(`| ${n.name}: the ${step} steps (first start to last end) | ${n.s.customersRead.toLocaleString('en')} | ${secs(to - from)} | ${rate(n.s.customersRead, to - from)} |`);
        else log(`| ${n.name}: ${step} | — | ${secs(to - from)} | |`);
      }
    }
    log(`| raw: BatchGetItem of PROFILE + SCORE, ${CONCURRENCY} at once | ${CUSTOMERS.toLocaleString('en')} (${itemsRead.toLocaleString('en')} items) | ${secs(rawReadMs)} | ${rate(CUSTOMERS, rawReadMs)} |`);
    log(`| raw: BatchWriteItem of score-sized items outside the index, ${CONCURRENCY} at once | ${CUSTOMERS.toLocaleString('en')} | ${secs(rawWriteMs)} | ${rate(CUSTOMERS, rawWriteMs)} |`);
    log(`| raw: BatchWriteItem of score items as the night writes them (in the index), ${CONCURRENCY} at once | ${asTheNight.length.toLocaleString('en')} | ${secs(rawIndexWriteMs)} | ${rate(asTheNight.length, rawIndexWriteMs)} |`);
    log(`| raw: Query of the whole scoring index before night 1 (profile entries only), ${CONCURRENCY} shards at once, pages of 500 | ${CUSTOMERS.toLocaleString('en')} (${beforeNight1.entries.toLocaleString('en')} entries, ${beforeNight1.pages} pages) | ${secs(beforeNight1.ms)} | ${rate(CUSTOMERS, beforeNight1.ms)} |`);
    log(`| raw: Query of the whole scoring index after the nights, ${CONCURRENCY} shards at once, pages of 500 | ${CUSTOMERS.toLocaleString('en')} (${indexEntries.toLocaleString('en')} entries, ${indexPages} pages) | ${secs(rawIndexMs)} | ${rate(CUSTOMERS, rawIndexMs)} |`);
    // What no first night can beat on DynamoDB Local: it must read every customer at least once and write every score,
    // and DynamoDB Local does both on its one SQLite thread, so their times add up.
    if (asTheNight.length > 0) {
      const writeMs = (rawIndexWriteMs * CUSTOMERS) / asTheNight.length;
      for (const [reads, what] of [[1, 'reads the index once'], [2, 'reads it twice (gather, then score)']] as const) {
        const ms = writeMs + reads * beforeNight1.ms;
        log(`| bound: a first night that ${what} and writes every score, at DynamoDB Local's raw rates above, nothing else | ${CUSTOMERS.toLocaleString('en')} | ${secs(ms)} | ${rate(CUSTOMERS, ms)} (${Math.round((100 * writeMs) / ms)} % of the raw write in the index) |`);
      }
    }
    for (const n of nights) {
      log(`| ${n.name}: share of the raw BatchWriteItem rate outside / in the index, of the BatchGetItem rate | | | ${Math.round((100 * rawWriteMs) / n.ms)} % / ${Math.round((100 * rawIndexWriteMs) / n.ms)} % / ${Math.round((100 * rawReadMs) / n.ms)} % |`);
    }
    log('');
    log(`| CPU time (user + system) | this process (Node: the interpreter, the handler, the SDK) | DynamoDB Local (JVM) |`);
    log(`|---|---:|---:|`);
    for (const n of nights) log(`| ${n.name} | ${secs(n.nodeCpuMs)} | ${secs(n.jvmCpuMs)} |`);
    log(`| raw: BatchWriteItem outside / in the index | | ${secs(rawWriteJvmMs)} / ${secs(rawIndexWriteJvmMs)} |`);
    log('');
    log(`| night | status | read units / customer (reported) | write units / customer (reported) | steps: total ms (count, max ms) |`);
    log(`|---|---|---:|---:|---|`);
    for (const n of nights) {
      const steps = Object.entries(n.s.durations).map(([k, d]) => `${k} ${Math.round(d.totalMs)} (${d.count}, ${Math.round(d.maxMs)})`).join('; ');
      log(`| ${n.name} | ${n.status} | ${(n.s.consumedReadUnits / n.s.customersRead).toFixed(3)} | ${(n.s.consumedWriteUnits / n.s.customersRead).toFixed(3)} | ${steps} |`);
    }
    log('');
    log(`| item sizes (as DynamoDB bills them) | mean bytes | p50 | p99 | max |`);
    log(`|---|---:|---:|---:|---:|`);
    for (const [name, xs] of [['profile', sizes.profile], ['score', sizes.score]] as const) log(`| ${name} (${xs.length.toLocaleString('en')}) | ${Math.round(mean(xs))} | ${percentile(xs, 0.5)} | ${percentile(xs, 0.99)} | ${Math.max(...xs)} |`);
    log('');
    log(`billed units computed from the sizes: reading PROFILE + SCORE ${billedReadScore.toFixed(3)} RRU/customer (PROFILE alone ${billedReadProfile.toFixed(3)}); writing a score ${billedWrite.toFixed(3)} WRU`);
    log(`raw phase as DynamoDB Local reported it: ${(rawReadUnits / CUSTOMERS).toFixed(3)} RRU/customer read, ${(rawWriteUnits / CUSTOMERS).toFixed(3)} WRU/item written outside the index, ${(rawIndexWriteUnits / Math.max(1, asTheNight.length)).toFixed(3)} in it`);
    log(`the scoring index read whole (after night 2): ${(rawIndexUnits / CUSTOMERS).toFixed(4)} RRU/customer reported by DynamoDB Local, ${(indexBilled / CUSTOMERS).toFixed(4)} as DynamoDB bills it (${(indexEntries / CUSTOMERS).toFixed(2)} entries a customer)`);
    const ic = await ingestCost(Math.min(CUSTOMERS, 2000));
    log(`ingest, ${ic.events.toLocaleString('en')} events of ${Math.min(CUSTOMERS, 2000).toLocaleString('en')} customers folded one by one: the scoring view changed on ${((100 * ic.viewChanged) / ic.events).toFixed(1)} % of the profile writes (index entry write: ${(ic.indexWru / ic.events).toFixed(3)} WRU/event); the profile item's transactional write ${(ic.profileWruWith / ic.events).toFixed(3)} WRU/event with the view, ${(ic.profileWruWithout / ic.events).toFixed(3)} without; view ${Math.round(mean(ic.viewBytes))} bytes mean, p99 ${percentile(ic.viewBytes, 0.99)}, max ${Math.max(...ic.viewBytes)}`);
    log(`events sent to the bus: ${JSON.stringify(Object.fromEntries(sink.counts))}`);
    log('');
    const [night1Date, night2Date] = [0, 1].map((day) => runDateOf(new Date(NOW.getTime() + day * 86_400_000 + 2 * 3_600_000).toISOString()));
    for (const line of await modelDriftTable(client, TABLE, { previous: night1Date!, runDate: night2Date! }, beforeNight2!, CONCURRENCY)) log(line);
  } finally {
    client.destroy();
    await Promise.all([dynamodb.stop(), sink.stop()]);
  }
}

await main();
