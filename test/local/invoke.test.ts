/**
 * The local stack runs every handler in one process, several invocations at once, all logging
 * through the one Powertools logger (functions/commons/powertools.ts). Each invocation runs in an
 * InvokeStore scope of its own, as on Lambda Managed Instances, so a log line names the function
 * and request that wrote it, not the last invocation that started.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { describe, expect, it } from 'vitest';
import { logger } from '../../functions/commons/powertools.ts';
import { invokeWithTimeout, type Handler } from '../../local/invoke.ts';
import { capturePowertoolsOutput } from '../support/powertools-output.ts';

const output = capturePowertoolsOutput();

/** A handler as ours are built (middy, the shared logger's context injected) that logs before and after awaiting `gate`. */
const loggingHandler = (gate: Promise<void>): Handler =>
  middy(async (event: { label: string }) => {
    logger.appendKeys({ label: event.label });
    logger.error('before the wait');
    await gate;
    logger.error('after the wait');
    return event.label;
  }).use(injectLambdaContext(logger, { resetKeys: true })) as unknown as Handler;

describe('invokeWithTimeout', () => {
  it('keeps each concurrent invocation’s log context (function name, request id, appended keys) its own', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // Started in this order, each waits until all have started; then all log again.
    const runs = [
      invokeWithTimeout(loggingHandler(gate), 'ingest', { label: 'a' }, 'eu-west-1'),
      invokeWithTimeout(loggingHandler(gate), 'campaigns', { label: 'b' }, 'eu-west-1'),
      invokeWithTimeout(loggingHandler(gate), 'churn-triggers', { label: 'c' }, 'eu-west-1'),
    ];
    await new Promise((r) => setTimeout(r, 20));
    open();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c']);

    const lines = output.lines().filter((l) => /the wait/.test(l.message));
    expect(lines).toHaveLength(6);
    const byLabel: Record<string, Record<string, any>[]> = {};
    for (const l of lines) (byLabel[String(l.label)] ??= []).push(l);
    expect(Object.keys(byLabel).sort()).toEqual(['a', 'b', 'c']);
    const expected = { a: 'clm-local-ingest', b: 'clm-local-campaigns', c: 'clm-local-churn-triggers' } as const;
    for (const [label, fn] of Object.entries(expected)) {
      const own = byLabel[label]!;
      expect(own.map((l) => l.message)).toEqual(['before the wait', 'after the wait']);
      expect(own.map((l) => l.function_name)).toEqual([fn, fn]);
      // one request id per invocation, both lines the same
      expect(own[0]!.function_request_id).toBe(own[1]!.function_request_id);
    }
    expect(new Set(lines.map((l) => l.function_request_id)).size).toBe(3);
  });
});
