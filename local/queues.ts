/**
 * In-memory SQS-like queues for the local stack: the rule subscriptions' queues
 * (bus rule → queue → function), their dead-letter queues, the stream
 * subscription's on-failure queue and `rejected-events`. Persistent queues
 * (dead letters, rejections) also append every message to `.local/<queue>.jsonl`;
 * the file is emptied when the queue is created (at stack start), so it holds
 * this run's messages only, like the in-memory queue.
 *
 * `QueueConsumer` is the local version of Lambda's SQS event source mapping:
 * batches of up to `batchSize` (waiting at most the batching window for a full
 * batch), partial batch responses, redelivery up to `maxReceiveCount`, then the
 * dead-letter queue.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const LOCAL_ACCOUNT_ID = '000000000000';

export type QueueMessage = {
  messageId: string;
  body: string;
  md5OfBody: string;
  sentTimestamp: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  messageAttributes: Record<string, unknown>;
  /** Set while the message is received and not yet deleted or released. */
  receiptHandle?: string;
};

export const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

type Waiter = () => void;

export class LocalQueue {
  readonly name: string;
  readonly persistFile?: string;
  private visible: QueueMessage[] = [];
  private inflight = new Map<string, QueueMessage>();
  /** Every message ever sent (persistent queues only), for inspection. */
  readonly history: QueueMessage[] = [];
  private waiters = new Set<Waiter>();
  sentCount = 0;
  deletedCount = 0;

  constructor(name: string, options: { persistDir?: string } = {}) {
    this.name = name;
    if (options.persistDir) {
      mkdirSync(options.persistDir, { recursive: true });
      this.persistFile = path.join(options.persistDir, `${name}.jsonl`);
      // This run's messages only: a file left by an earlier run is truncated.
      writeFileSync(this.persistFile, '');
    }
  }

  send(body: string, messageAttributes: Record<string, unknown> = {}): QueueMessage {
    const message: QueueMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      sentTimestamp: Date.now(),
      receiveCount: 0,
      messageAttributes,
    };
    this.visible.push(message);
    this.sentCount++;
    if (this.persistFile) {
      this.history.push(message);
      appendFileSync(
        this.persistFile,
        JSON.stringify({ messageId: message.messageId, sentAt: new Date(message.sentTimestamp).toISOString(), body, messageAttributes }) + '\n',
      );
    }
    this.wake();
    return message;
  }

  /** Takes up to `max` visible messages; they stay in flight until deleted or released. */
  receive(max: number): QueueMessage[] {
    const taken = this.visible.splice(0, Math.max(0, max));
    const now = Date.now();
    for (const m of taken) {
      m.receiveCount++;
      m.firstReceiveTimestamp ??= now;
      m.receiptHandle = randomUUID();
      this.inflight.set(m.receiptHandle, m);
    }
    return taken;
  }

  delete(receiptHandle: string): boolean {
    const m = this.inflight.get(receiptHandle);
    if (!m) return false;
    this.inflight.delete(receiptHandle);
    this.deletedCount++;
    this.wake();
    return true;
  }

  /** Makes an in-flight message visible again (the visibility timeout ran out). */
  release(receiptHandle: string): QueueMessage | undefined {
    const m = this.inflight.get(receiptHandle);
    if (!m) return undefined;
    this.inflight.delete(receiptHandle);
    m.receiptHandle = undefined;
    this.visible.push(m);
    this.wake();
    return m;
  }

  /** Removes an in-flight message without counting it as processed (moved to a dead-letter queue). */
  drop(receiptHandle: string): QueueMessage | undefined {
    const m = this.inflight.get(receiptHandle);
    if (m) this.inflight.delete(receiptHandle);
    this.wake();
    return m;
  }

  get visibleCount(): number {
    return this.visible.length;
  }
  get inflightCount(): number {
    return this.inflight.size;
  }
  get oldestVisibleTimestamp(): number | undefined {
    return this.visible[0]?.sentTimestamp;
  }
  /** Messages currently in the queue (visible first), for inspection. */
  peek(): QueueMessage[] {
    return [...this.visible, ...this.inflight.values()];
  }

  /** Resolves on the next change (send, delete, release), or after `timeoutMs`. */
  waitForChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

export class QueueRegistry {
  private queues = new Map<string, LocalQueue>();
  baseUrl = 'http://127.0.0.1';
  constructor(private readonly options: { persistDir?: string; region: string }) {}

  /** Creates the queue if needed. `persist` queues truncate `<persistDir>/<name>.jsonl`, then append to it. */
  ensure(name: string, options: { persist?: boolean } = {}): LocalQueue {
    let q = this.queues.get(name);
    if (!q) {
      q = new LocalQueue(name, { persistDir: options.persist ? this.options.persistDir : undefined });
      this.queues.set(name, q);
    }
    return q;
  }
  get(name: string): LocalQueue | undefined {
    return this.queues.get(name);
  }
  all(): LocalQueue[] {
    return [...this.queues.values()];
  }
  url(name: string): string {
    return `${this.baseUrl}/${LOCAL_ACCOUNT_ID}/${name}`;
  }
  arn(name: string): string {
    return `arn:aws:sqs:${this.options.region}:${LOCAL_ACCOUNT_ID}:${name}`;
  }
  /** Resolves a QueueUrl (any host; the last path segment is the name) or a bare name. */
  fromUrl(queueUrl: string): LocalQueue | undefined {
    const name = queueUrl.replace(/\/+$/, '').split('/').pop() ?? '';
    return this.queues.get(name);
  }
}

/** What a batch handler returns (Lambda's partial batch response); void means every message succeeded. */
export type SqsBatchResult = { batchItemFailures?: { itemIdentifier: string }[] } | void | undefined | null;

export type ConsumerOptions = {
  queue: LocalQueue;
  deadLetterQueue: LocalQueue;
  batchSize: number;
  /** Longest wait for a full batch once a message is waiting. */
  maxBatchingWindowMs: number;
  maxReceiveCount: number;
  /** Batches handled at the same time (Lambda runs several pollers per queue). */
  concurrency?: number;
  /** Delay before a failed message becomes visible again (the visibility timeout, shortened locally). */
  redeliveryDelayMs?: number;
  invoke: (messages: QueueMessage[]) => Promise<SqsBatchResult>;
  onError?: (error: unknown) => void;
};

/** The local SQS → Lambda event source mapping. */
export class QueueConsumer {
  private running = false;
  private loops: Promise<void>[] = [];
  private pendingRedeliveries = new Set<NodeJS.Timeout>();
  busyBatches = 0;
  invocations = 0;
  succeeded = 0;
  failedReceives = 0;
  deadLettered = 0;
  /** Increments on every change; used by the idle detection. */
  activity = 0;

  constructor(private readonly o: ConsumerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    const n = Math.max(1, this.o.concurrency ?? 1);
    for (let i = 0; i < n; i++) this.loops.push(this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.pendingRedeliveries) clearTimeout(t);
    this.pendingRedeliveries.clear();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Nothing waiting, nothing in flight, nothing about to be redelivered. */
  get idle(): boolean {
    return (
      this.busyBatches === 0 &&
      this.o.queue.visibleCount === 0 &&
      this.o.queue.inflightCount === 0 &&
      this.pendingRedeliveries.size === 0
    );
  }

  private async loop(): Promise<void> {
    const q = this.o.queue;
    while (this.running) {
      if (q.visibleCount === 0) {
        await q.waitForChange(200);
        continue;
      }
      if (q.visibleCount < this.o.batchSize) {
        const oldest = q.oldestVisibleTimestamp ?? Date.now();
        const remaining = oldest + this.o.maxBatchingWindowMs - Date.now();
        if (remaining > 0) {
          await q.waitForChange(Math.min(remaining, 50));
          continue;
        }
      }
      const batch = q.receive(this.o.batchSize);
      if (batch.length === 0) continue;
      this.busyBatches++;
      this.activity++;
      try {
        await this.handle(batch);
      } finally {
        this.busyBatches--;
        this.activity++;
      }
    }
  }

  private async handle(batch: QueueMessage[]): Promise<void> {
    const q = this.o.queue;
    this.invocations++;
    let failedIds: Set<string>;
    let error: string | undefined;
    try {
      const result = await this.o.invoke(batch);
      const failures = result && Array.isArray(result.batchItemFailures) ? result.batchItemFailures : [];
      const known = new Set(batch.map((m) => m.messageId));
      // As in Lambda: an identifier that is not in the batch fails the whole batch.
      if (failures.some((f) => !f || typeof f.itemIdentifier !== 'string' || !known.has(f.itemIdentifier))) {
        failedIds = known;
        error = 'partial batch response named an unknown itemIdentifier; the whole batch failed';
      } else {
        failedIds = new Set(failures.map((f) => f.itemIdentifier));
        if (failedIds.size) error = 'reported in batchItemFailures';
      }
    } catch (e) {
      this.o.onError?.(e);
      failedIds = new Set(batch.map((m) => m.messageId));
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    for (const m of batch) {
      const handle = m.receiptHandle!;
      if (!failedIds.has(m.messageId)) {
        q.delete(handle);
        this.succeeded++;
        continue;
      }
      this.failedReceives++;
      if (m.receiveCount >= this.o.maxReceiveCount) {
        q.drop(handle);
        this.deadLettered++;
        this.o.deadLetterQueue.send(m.body, {
          sourceQueue: q.name,
          originalMessageId: m.messageId,
          receiveCount: m.receiveCount,
          error,
        });
      } else {
        const delay = (this.o.redeliveryDelayMs ?? 50) * m.receiveCount;
        const timer = setTimeout(() => {
          this.pendingRedeliveries.delete(timer);
          this.activity++;
          q.release(handle);
        }, delay);
        this.pendingRedeliveries.add(timer);
      }
    }
  }
}
