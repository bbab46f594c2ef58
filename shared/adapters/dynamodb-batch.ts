/**
 * BatchGetItem and BatchWriteItem of any number of items on one table: split into calls of
 * the service's limits (100 keys, 25 writes), a bounded number in flight, unprocessed keys and
 * items retried with full-jitter exponential backoff, consumed capacity added up.
 */
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export class UnprocessedBatchError extends Error {
  override name = 'UnprocessedBatchError';
}

export type BatchOptions = {
  /** Calls in flight at once. */
  concurrency?: number;
  /** Attempts of a call whose unprocessed items keep coming back. */
  maxAttempts?: number;
  /** Backoff base in ms (full jitter, doubling, capped at 2 s). */
  backoffBaseMs?: number;
};

type Capacity = { CapacityUnits?: number }[] | undefined;
const units = (c: Capacity): number => (c ?? []).reduce((s, x) => s + (x.CapacityUnits ?? 0), 0);

const backoff = (attempt: number, baseMs: number): Promise<void> =>
  new Promise((r) => setTimeout(r, Math.random() * Math.min(2000, baseMs * 2 ** attempt)));

/** Runs `work` on every chunk with at most `concurrency` at once. */
async function eachChunk<T>(items: readonly T[], size: number, concurrency: number, work: (chunk: T[]) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const start = next;
      next += size;
      await work(items.slice(start, start + size));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, Math.ceil(items.length / size))) }, worker));
}

/** Every item of `keys` that exists (any order), and the read units consumed. */
export async function batchGetAll(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: readonly Record<string, unknown>[],
  request: { ConsistentRead?: boolean; ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> },
  options: BatchOptions = {},
): Promise<{ items: Record<string, unknown>[]; consumedReadUnits: number }> {
  const items: Record<string, unknown>[] = [];
  let consumed = 0;
  const maxAttempts = options.maxAttempts ?? 10;
  await eachChunk(keys, 100, options.concurrency ?? 8, async (chunk) => {
    let pending: Record<string, unknown>[] = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= maxAttempts) throw new UnprocessedBatchError(`BatchGetItem left ${pending.length} keys unprocessed after ${maxAttempts} attempts`);
      if (attempt > 0) await backoff(attempt, options.backoffBaseMs ?? 50);
      const out = await doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ...request } }, ReturnConsumedCapacity: 'TOTAL' }));
      consumed += units(out.ConsumedCapacity);
      items.push(...(out.Responses?.[table] ?? []));
      pending = (out.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
  });
  return { items, consumedReadUnits: consumed };
}

/** Puts every item (25 a call; no two of a call may have the same key), and the write units consumed. */
export async function batchPutAll(doc: DynamoDBDocumentClient, table: string, items: readonly Record<string, unknown>[], options: BatchOptions = {}): Promise<{ consumedWriteUnits: number }> {
  let consumed = 0;
  const maxAttempts = options.maxAttempts ?? 10;
  await eachChunk(items, 25, options.concurrency ?? 8, async (chunk) => {
    let pending: Record<string, unknown>[] = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= maxAttempts) throw new UnprocessedBatchError(`BatchWriteItem left ${pending.length} items unprocessed after ${maxAttempts} attempts`);
      if (attempt > 0) await backoff(attempt, options.backoffBaseMs ?? 50);
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never }, ReturnConsumedCapacity: 'TOTAL' }));
      consumed += units(out.ConsumedCapacity);
      pending = (out.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined) ?? [];
    }
  });
  return { consumedWriteUnits: consumed };
}
