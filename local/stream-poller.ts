/**
 * The local version of Lambda's DynamoDB Streams event source mapping. Reads
 * the table's stream through the real Streams API of DynamoDB Local
 * (DescribeStream, GetShardIterator, GetRecords), shard by shard (children
 * after their parents, new shards found by re-describing the stream), turns
 * the records into the shape Lambda delivers, applies the subscription's filter
 * criteria (records that do not match are skipped, as in Lambda), and calls the
 * handler with batches of up to `batchSize`.
 *
 * Partial batch responses are honoured: on failure the batch is retried from
 * the first failed sequence number (records before it are checkpointed); a
 * thrown error fails the whole batch. After `retryAttempts` retries, the
 * failed records' batch info goes to the on-failure destination and the poller
 * moves on, as Lambda does. Bisect-on-error is not emulated.
 */
import { realNow } from './clock.ts';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkRecord,
  type AttributeValue,
  type DynamoDBStreamsClient,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { matchesAny, type Pattern } from './event-pattern.ts';

export type LambdaStreamRecord = {
  eventID: string;
  eventName: string;
  eventVersion: string;
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  eventSourceARN: string;
  dynamodb: {
    ApproximateCreationDateTime?: number;
    Keys?: Record<string, unknown>;
    NewImage?: Record<string, unknown>;
    OldImage?: Record<string, unknown>;
    SequenceNumber: string;
    SizeBytes?: number;
    StreamViewType?: string;
  };
};
export type StreamBatchResult = { batchItemFailures?: { itemIdentifier: string }[] } | void | undefined | null;

export type OnFailureRecord = {
  requestContext: { requestId: string; functionArn: string; condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded'; approximateInvokeCount: number };
  responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord?: string;
    approximateArrivalOfLastRecord?: string;
    batchSize: number;
    streamArn: string;
  };
};

export type StreamPollerOptions = {
  client: DynamoDBStreamsClient;
  streamArn: string;
  region: string;
  filters: Pattern[];
  batchSize: number;
  retryAttempts: number;
  maxRecordAgeSeconds?: number;
  /** TRIM_HORIZON (default; the local table is new) or LATEST. */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  functionArn?: string;
  handler: (event: { Records: LambdaStreamRecord[] }) => Promise<StreamBatchResult>;
  onFailure?: (record: OnFailureRecord) => void | Promise<void>;
  onError?: (error: unknown) => void;
  /** Called with every record read, matching the filters or not (counters, tracing). */
  observe?: (record: LambdaStreamRecord) => void;
  pollIntervalMs?: number;
  describeIntervalMs?: number;
  retryDelayMs?: number;
};

type ShardState = {
  shardId: string;
  parentShardId?: string;
  iterator?: string;
  checkpoint?: string;
  finished: boolean;
};

/** SDK attribute values → the JSON Lambda delivers (binary as base64). */
export function toLambdaAttribute(v: AttributeValue): Record<string, unknown> {
  const a = v as unknown as Record<string, unknown>;
  if (a.B instanceof Uint8Array) return { B: Buffer.from(a.B).toString('base64') };
  if (Array.isArray(a.BS)) return { BS: (a.BS as Uint8Array[]).map((b) => Buffer.from(b).toString('base64')) };
  if (a.M && typeof a.M === 'object') return { M: toLambdaImage(a.M as Record<string, AttributeValue>) };
  if (Array.isArray(a.L)) return { L: (a.L as AttributeValue[]).map(toLambdaAttribute) };
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(a)) if (val !== undefined && k !== '$unknown') out[k] = val;
  return out;
}
function toLambdaImage(image: Record<string, AttributeValue> | undefined): Record<string, unknown> | undefined {
  if (!image) return undefined;
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toLambdaAttribute(v)]));
}

export function toLambdaRecord(r: SdkRecord, streamArn: string, region: string): LambdaStreamRecord {
  const d = r.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime as unknown;
  const dynamodb: LambdaStreamRecord['dynamodb'] = {
    ApproximateCreationDateTime:
      created instanceof Date ? Math.floor(created.getTime() / 1000) : typeof created === 'number' ? created : undefined,
    Keys: toLambdaImage(d.Keys),
    NewImage: toLambdaImage(d.NewImage),
    OldImage: toLambdaImage(d.OldImage),
    SequenceNumber: d.SequenceNumber ?? '',
    SizeBytes: d.SizeBytes,
    StreamViewType: d.StreamViewType,
  };
  for (const k of Object.keys(dynamodb) as (keyof typeof dynamodb)[]) if (dynamodb[k] === undefined) delete dynamodb[k];
  return {
    eventID: r.eventID ?? '',
    eventName: r.eventName ?? '',
    eventVersion: r.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN: streamArn,
    dynamodb,
  };
}

export class StreamPoller {
  private shards = new Map<string, ShardState>();
  private running = false;
  private loopPromise?: Promise<void>;
  private wakeSleep?: () => void;
  private lastDescribe = 0;
  /** Completed polling rounds over all shards, and how many in a row returned no records. */
  rounds = 0;
  emptyRounds = 0;
  busy = false;
  activity = 0;
  readonly stats = { recordsRead: 0, recordsMatched: 0, recordsSkipped: 0, invocations: 0, failedInvocations: 0, retries: 0, recordsSentToFailure: 0 };

  constructor(private readonly o: StreamPollerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopPromise = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeSleep?.();
    await this.loopPromise;
  }

  /** Resolves after `n` more complete polling rounds (each round reads every open shard once). */
  async waitRounds(n: number): Promise<void> {
    const target = this.rounds + n;
    while (this.running && this.rounds < target) await new Promise((r) => setTimeout(r, 10));
  }

  shardIds(): string[] {
    return [...this.shards.keys()];
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeSleep = done;
    });
  }

  private async refreshShards(): Promise<void> {
    let exclusiveStart: string | undefined;
    const found: Shard[] = [];
    do {
      const out = await this.o.client.send(new DescribeStreamCommand({ StreamArn: this.o.streamArn, ExclusiveStartShardId: exclusiveStart }));
      found.push(...(out.StreamDescription?.Shards ?? []));
      exclusiveStart = out.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStart);
    for (const s of found) {
      if (!s.ShardId || this.shards.has(s.ShardId)) continue;
      this.shards.set(s.ShardId, { shardId: s.ShardId, parentShardId: s.ParentShardId, finished: false });
    }
    this.lastDescribe = Date.now();
  }

  private ready(s: ShardState): boolean {
    if (s.finished) return false;
    const parent = s.parentShardId ? this.shards.get(s.parentShardId) : undefined;
    return !parent || parent.finished;
  }

  private async iteratorFor(s: ShardState): Promise<string | undefined> {
    const input = s.checkpoint
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: s.checkpoint }
      : { ShardIteratorType: this.o.startingPosition ?? ('TRIM_HORIZON' as const) };
    const out = await this.o.client.send(new GetShardIteratorCommand({ StreamArn: this.o.streamArn, ShardId: s.shardId, ...input }));
    return out.ShardIterator;
  }

  private async loop(): Promise<void> {
    const pollInterval = this.o.pollIntervalMs ?? 100;
    const describeInterval = this.o.describeIntervalMs ?? 1000;
    while (this.running) {
      let read = 0;
      try {
        if (this.shards.size === 0 || Date.now() - this.lastDescribe > describeInterval) await this.refreshShards();
        for (const s of this.shards.values()) {
          if (!this.running) break;
          if (!this.ready(s)) continue;
          read += await this.pollShard(s);
        }
      } catch (e) {
        this.o.onError?.(e);
        read = 0;
        await this.sleep(pollInterval * 5);
      }
      if (!this.running) break;
      this.rounds++;
      this.emptyRounds = read === 0 ? this.emptyRounds + 1 : 0;
      if (read === 0) await this.sleep(pollInterval);
    }
  }

  private async pollShard(s: ShardState): Promise<number> {
    let total = 0;
    // Keep reading this shard while it has records (GetRecords returns at most 1000).
    for (;;) {
      s.iterator ??= await this.iteratorFor(s);
      if (!s.iterator) {
        s.finished = true;
        return total;
      }
      let out;
      try {
        out = await this.o.client.send(new GetRecordsCommand({ ShardIterator: s.iterator, Limit: 1000 }));
      } catch (e) {
        const name = (e as Error).name;
        if (name === 'ExpiredIteratorException' || name === 'TrimmedDataAccessException') {
          s.iterator = undefined;
          continue;
        }
        throw e;
      }
      const records = out.Records ?? [];
      s.iterator = out.NextShardIterator;
      if (!out.NextShardIterator) s.finished = true; // closed shard, fully read
      if (records.length === 0) return total;
      total += records.length;
      this.activity++;
      this.busy = true;
      try {
        await this.process(s, records);
      } finally {
        this.busy = false;
        this.activity++;
      }
      if (s.finished || !this.running) return total;
    }
  }

  private async process(s: ShardState, sdkRecords: SdkRecord[]): Promise<void> {
    this.stats.recordsRead += sdkRecords.length;
    const records = sdkRecords.map((r) => toLambdaRecord(r, this.o.streamArn, this.o.region));
    const matched: LambdaStreamRecord[] = [];
    for (const r of records) {
      this.o.observe?.(r);
      if (matchesAny(this.o.filters, r)) matched.push(r);
      else this.stats.recordsSkipped++;
    }
    this.stats.recordsMatched += matched.length;
    for (let i = 0; i < matched.length && this.running; i += this.o.batchSize) {
      await this.deliver(s, matched.slice(i, i + this.o.batchSize));
    }
    const last = records[records.length - 1];
    if (last && this.running) s.checkpoint = last.dynamodb.SequenceNumber;
  }

  private async deliver(s: ShardState, batch: LambdaStreamRecord[]): Promise<void> {
    let pending = batch;
    const maxAge = this.o.maxRecordAgeSeconds;
    if (maxAge !== undefined && maxAge >= 0) {
      // DynamoDB Local stamps records with the real time, not the process clock a run may have moved (local/clock.ts).
      const now = realNow() / 1000;
      const tooOld = pending.filter((r) => r.dynamodb.ApproximateCreationDateTime !== undefined && now - r.dynamodb.ApproximateCreationDateTime > maxAge);
      if (tooOld.length) {
        await this.sendToFailure(s, tooOld, 'RecordAgeExceeded', 0);
        pending = pending.filter((r) => !tooOld.includes(r));
      }
    }
    let invokes = 0;
    while (pending.length && this.running) {
      invokes++;
      this.stats.invocations++;
      let failedFrom = -1;
      let functionError: string | undefined;
      try {
        const result = await this.o.handler({ Records: pending });
        const failures = result && Array.isArray(result.batchItemFailures) ? result.batchItemFailures : [];
        if (failures.length) {
          const indexes = failures.map((f) => pending.findIndex((r) => f && r.dynamodb.SequenceNumber === f.itemIdentifier));
          // An identifier that is not in the batch (or empty) fails the whole batch, as in Lambda.
          failedFrom = indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
          functionError = 'PartialBatchFailure';
        }
      } catch (e) {
        this.o.onError?.(e);
        failedFrom = 0;
        functionError = 'Unhandled';
      }
      if (failedFrom < 0) {
        s.checkpoint = pending[pending.length - 1].dynamodb.SequenceNumber;
        return;
      }
      this.stats.failedInvocations++;
      if (failedFrom > 0) s.checkpoint = pending[failedFrom - 1].dynamodb.SequenceNumber;
      pending = pending.slice(failedFrom);
      if (invokes > this.o.retryAttempts) {
        await this.sendToFailure(s, pending, 'RetryAttemptsExhausted', invokes, functionError);
        s.checkpoint = pending[pending.length - 1].dynamodb.SequenceNumber;
        return;
      }
      this.stats.retries++;
      await this.sleep(this.o.retryDelayMs ?? 20 * invokes);
    }
  }

  private async sendToFailure(
    s: ShardState,
    records: LambdaStreamRecord[],
    condition: OnFailureRecord['requestContext']['condition'],
    invokes: number,
    functionError?: string,
  ): Promise<void> {
    this.stats.recordsSentToFailure += records.length;
    const first = records[0];
    const last = records[records.length - 1];
    const iso = (t?: number) => (t === undefined ? undefined : new Date(t * 1000).toISOString());
    await this.o.onFailure?.({
      requestContext: {
        requestId: crypto.randomUUID(),
        functionArn: this.o.functionArn ?? 'local',
        condition,
        approximateInvokeCount: invokes,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: s.shardId,
        startSequenceNumber: first.dynamodb.SequenceNumber,
        endSequenceNumber: last.dynamodb.SequenceNumber,
        approximateArrivalOfFirstRecord: iso(first.dynamodb.ApproximateCreationDateTime),
        approximateArrivalOfLastRecord: iso(last.dynamodb.ApproximateCreationDateTime),
        batchSize: records.length,
        streamArn: this.o.streamArn,
      },
    });
  }
}
