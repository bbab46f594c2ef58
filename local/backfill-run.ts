/**
 * The backfill, locally: the state machine's definition as CDK synthesizes it
 * (infra/constructs/backfill.ts), executed by the ASL interpreter aws-local-stepfunctions, every
 * Lambda task overridden by the local backfill handler (the same module Lambda runs).
 *
 * The interpreter validates a Distributed Map's ItemReader, ItemBatcher and ResultWriter but
 * does not execute them, so the local stack does their part, as the definition says: it reads
 * the file's rows (CSV rows as objects keyed by the header, or one JSON value a line), applies
 * the Map's ItemSelector to each row ($$.Map.Item.Index and .Value), cuts the rows into batches
 * of the ItemBatcher's MaxItemsPerBatch (and MaxInputBytesPerBatch) with its BatchInput, and
 * gives the batches to the Map as its items. Everything else — the Choice, the Map's
 * MaxConcurrency, the retries and the catch of a failing batch, the summary — is the
 * interpreter running the definition. The Map results stay in memory (no ResultWriter locally).
 */
import { Duration } from 'aws-cdk-lib';
import { StateMachine } from 'aws-local-stepfunctions';
import { LOCAL_BACKFILL_BUCKET, synthesizedBackfillDefinition } from '../infra/constructs/backfill.ts';
import type { BackfillFormat, BackfillSummary } from '../shared/backfill/backfill.ts';
import { backfillRun, functionSpecs } from '../shared/wiring.ts';
import { type Handler, invokeWithTimeout, loadHandler } from './invoke.ts';

const LOCAL_FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:000000000000:function:clm-local-backfill';

type Json = Record<string, unknown>;

/**
 * A file as the Map's item reader would read it: its key, format and rows, and each row's index
 * in the file (`$$.Map.Item.Index`; default: its position) when the local reader left some out.
 */
export type LocalBackfillFile = { key: string; format: BackfillFormat; rows: unknown[]; indexes?: number[] };

/** The value of a JSONPath of the forms the definition uses: `$`, `$.a.b`, `$$.Map.Item.Index`, `$$.Map.Item.Value`. */
function pathValue(path: string, input: unknown, item: { index: number; value: unknown }): unknown {
  if (path === '$$.Map.Item.Index') return item.index;
  if (path === '$$.Map.Item.Value') return item.value;
  if (path === '$') return input;
  if (!/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) throw new Error(`the local backfill run does not evaluate the path ${path}`);
  return path
    .slice(2)
    .split('.')
    .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), input);
}

/** A payload template (keys ending in `.$` take a path's value), as Step Functions evaluates it. */
function evaluate(template: Json, input: unknown, item: { index: number; value: unknown }): Json {
  return Object.fromEntries(
    Object.entries(template).map(([k, v]) =>
      k.endsWith('.$') ? [k.slice(0, -2), pathValue(String(v), input, item)] : [k, v && typeof v === 'object' && !Array.isArray(v) ? evaluate(v as Json, input, item) : v],
    ),
  );
}

/** The batches the Map's ItemReader + ItemSelector + ItemBatcher would make of the file's rows. */
export function localBatches(map: Json, input: Json, rows: readonly unknown[], indexes?: readonly number[]): Json[] {
  const batcher = map.ItemBatcher as { MaxItemsPerBatch?: number; MaxInputBytesPerBatch?: number; BatchInput?: Json } | undefined;
  const selector = map.ItemSelector as Json | undefined;
  const batchInput = batcher?.BatchInput ? evaluate(batcher.BatchInput, input, { index: 0, value: undefined }) : undefined;
  const items = rows.map((value, k) => (selector ? evaluate(selector, input, { index: indexes?.[k] ?? k, value }) : value));
  if (!batcher) return items as Json[];
  const maxItems = batcher.MaxItemsPerBatch ?? Number.POSITIVE_INFINITY;
  const maxBytes = batcher.MaxInputBytesPerBatch ?? Number.POSITIVE_INFINITY;
  const batches: Json[] = [];
  let current: unknown[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item));
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) {
      batches.push({ Items: current, ...(batchInput && { BatchInput: batchInput }) });
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length) batches.push({ Items: current, ...(batchInput && { BatchInput: batchInput }) });
  return batches;
}

/** Names of the Task states of a definition, in Map item processors too. */
function taskStates(states: Record<string, Json>): string[] {
  return Object.entries(states).flatMap(([name, s]) => [...(s.Type === 'Task' ? [name] : []), ...(s.ItemProcessor ? taskStates((s.ItemProcessor as { States: Record<string, Json> }).States) : [])]);
}

/** The synthesized definition, once per process (synthesis takes seconds); each run gets its own copy. */
let synthesized: Record<string, unknown> | undefined;
function definitionCopy(): Record<string, unknown> {
  synthesized ??= synthesizedBackfillDefinition(LOCAL_FUNCTION_ARN, backfillRun, Duration.seconds(functionSpecs[backfillRun.function].timeoutSeconds));
  return structuredClone(synthesized);
}

/**
 * Synthesizes the definition ahead of the first run (seconds of CPU: `npm start` does it while
 * the local services start). Not the handler: its modules read the local stack's environment
 * (Powertools settings) when they load.
 */
export async function prepareBackfillRun(): Promise<void> {
  definitionCopy();
}

/**
 * Backfills one file through the synthesized state machine, as `clm backfill upload` starts one
 * execution per file in AWS. Returns the execution's output: the file's summary.
 */
export async function runBackfillStateMachine(options: { runId: string; file: LocalBackfillFile; region: string; handler?: Handler; retryWaitMs?: number }): Promise<BackfillSummary> {
  const definition = definitionCopy();
  const states = definition.States as Record<string, Json>;
  const input: Json = { runId: options.runId, bucket: LOCAL_BACKFILL_BUCKET, key: options.file.key, format: options.file.format };
  // The Maps that read a file: their reading and batching is done here, their items given as input.
  const readers = Object.entries(states).filter(([, s]) => s.ItemReader);
  if (readers.length === 0) throw new Error('the backfill definition has no Map with an ItemReader');
  const batches: Record<string, Json[]> = {};
  for (const [name, map] of readers) {
    batches[name] = localBatches(map, input, options.file.rows, options.file.indexes);
    const { ItemReader: _r, ItemSelector: _s, ItemBatcher: _b, ResultWriter: _w, ToleratedFailurePercentage: _t, ...rest } = map;
    states[name] = { ...rest, ItemsPath: `$.localBatches.${name}` };
  }
  const handler = options.handler ?? (await loadHandler(backfillRun.function));
  const tasks = taskStates(states);
  // Through JSON, as Lambda returns a result.
  const invoke = async (event: unknown) => JSON.parse(JSON.stringify(await invokeWithTimeout(handler, backfillRun.function, event, options.region))) as never;
  const execution = new StateMachine(definition as never).run(
    { ...input, localBatches: batches } as never,
    {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(tasks.map((t) => [t, invoke])),
        retryIntervalOverrides: Object.fromEntries(tasks.map((t) => [t, options.retryWaitMs ?? 1000])),
      },
    },
  );
  return (await execution.result) as BackfillSummary;
}
