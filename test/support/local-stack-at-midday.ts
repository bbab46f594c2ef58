/**
 * A local stack for a test file whose clock starts at MIDDAY_UTC (test/support/clock.ts): the
 * process clock is started there before the stack starts (every send and sweep at about midday
 * UTC, outside the customers' quiet hours at any real hour), the stack batches quickly, and both
 * are given back after the file (the stack stopped, the real `Date` restored).
 *
 *   const local = localStackAtMidday('clm-timers-');
 *   ... local.stack, local.startedAt, local.customerOutside(['retention-save'], 'c')
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startClockAt } from '../../local/clock.ts';
import { startLocalStack, type LocalStack } from '../../local/local-stack.ts';
import { inControlGroup } from '../../shared/campaigns/guardrails.ts';
import { MIDDAY_UTC } from './clock.ts';

export type LocalStackAtMidday = {
  readonly stack: LocalStack;
  /** The clock's time when the stack was up (ms): tests move the clock relative to it. */
  readonly startedAt: number;
  /** The first id `<prefix>-<n>` outside the control group of every campaign named (so no email is held back). */
  customerOutside(campaigns: readonly string[], prefix: string): string;
};

export function localStackAtMidday(stateDirPrefix: string, options: { afterStop?: () => void } = {}): LocalStackAtMidday {
  const RealDate = Date;
  let stack: LocalStack | undefined;
  let startedAt = 0;
  beforeAll(async () => {
    startClockAt(MIDDAY_UTC);
    stack = await startLocalStack({ stateDir: mkdtempSync(path.join(os.tmpdir(), stateDirPrefix)), maxBatchingWindowMs: 50, redeliveryDelayMs: 5 });
    startedAt = Date.now();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    globalThis.Date = RealDate;
    options.afterStop?.();
  });
  const started = (): LocalStack => {
    if (!stack) throw new Error('the local stack is not up yet (use it inside tests or hooks)');
    return stack;
  };
  return {
    get stack() {
      return started();
    },
    get startedAt() {
      return startedAt;
    },
    customerOutside(campaigns, prefix) {
      const s = started();
      for (let i = 0; ; i++) {
        const id = `${prefix}-${i}`;
        if (campaigns.every((c) => !inControlGroup(id, c, s.controlGroupPercent, s.controlGroupExperiment))) return id;
      }
    },
  };
}
