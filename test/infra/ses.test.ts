/**
 * Sending in the SES sandbox and in production (sesSandbox,
 * sesSandboxRecipients), and the campaigns function sized to the SES maximum
 * send rate (sesMaxSendRate).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CONCURRENCY, MIN_CONCURRENCY, planSendRate } from '../../infra/send-rate.ts';
import { ENV, functionSpecs, type RuleSubscription, subscriptions } from '../../shared/wiring.ts';
import { actionsOf, arnOf, logicalId, resourcesOf, statementsOfRole, synth, type TestApp } from './helpers.ts';

const sender = subscriptions.find((s): s is RuleSubscription => s.kind === 'rule' && functionSpecs[s.function].access.sendEmail === true)!;
const senderSpec = functionSpecs[sender.function];

const sendStatement = (built: TestApp) => {
  const statements = statementsOfRole(built.template, logicalId(built.stack, built.stack.functions[sender.function].role)).filter((s) => actionsOf(s).includes('ses:SendEmail'));
  expect(statements).toHaveLength(1);
  return statements[0];
};
const identity = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ses:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:identity/${name}`]],
});
const eventSource = (built: TestApp) => {
  const queue = logicalId(built.stack, built.stack.workQueues[sender.id]!);
  const [, esm] = resourcesOf(built.template, 'AWS::Lambda::EventSourceMapping').find(([, r]) => JSON.stringify(r.Properties.EventSourceArn) === JSON.stringify(arnOf(queue)))!;
  return esm.Properties;
};
const sendRateEnv = (built: TestApp) => {
  const fnId = logicalId(built.stack, built.stack.functions[sender.function].function);
  const [, fn] = resourcesOf(built.template, 'AWS::Lambda::Function').find(([k]) => k === fnId)!;
  return fn.Properties.Environment.Variables[ENV.sesSendsPerSecond];
};

describe('SES sandbox and production', () => {
  it('production (default): the grant covers the sender identity and configuration set only, from the sender address', () => {
    const built = synth({ senderAddress: 'news@mail.acme.test' }, { bundle: false });
    const s = sendStatement(built);
    expect(s.Resource).toHaveLength(2);
    expect(s.Resource[0]).toEqual(identity('mail.acme.test'));
    expect(JSON.stringify(s.Resource)).not.toContain('identity/*');
    expect(s.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'news@mail.acme.test' } });
  });

  it('sesSandbox=true: the grant also covers the verified recipient identities (identity/*), still from the sender address only', () => {
    const built = synth({ senderAddress: 'news@mail.acme.test', sesSandbox: 'true' }, { bundle: false });
    const s = sendStatement(built);
    expect(s.Resource).toEqual([identity('mail.acme.test'), expect.anything(), identity('*')]);
    expect(s.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'news@mail.acme.test' } });
  });

  it('sesSandbox=true with sesSandboxRecipients: exactly those recipient identities', () => {
    const built = synth({ senderAddress: 'news@mail.acme.test', sesSandbox: 'true', sesSandboxRecipients: 'Me@Example.org, test.example' }, { bundle: false });
    const s = sendStatement(built);
    expect(s.Resource).toEqual([identity('mail.acme.test'), expect.anything(), identity('me@example.org'), identity('test.example')]);
    expect(s.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'news@mail.acme.test' } });
  });

  it('sesSandboxRecipients without sesSandbox is an error', () => {
    expect(() => synth({ sesSandboxRecipients: 'me@example.org' }, { bundle: false })).toThrow(/only applies with sesSandbox=true/);
  });
});

describe('campaign concurrency from the SES send rate', () => {
  it.each([
    [{}, 14, 7, 10],
    [{ sesSandbox: 'true' }, 1, 2, 10],
    [{ sesMaxSendRate: '50' }, 50, 10, 10],
    [{ sesSandbox: 'true', sesMaxSendRate: '2' }, 2, 2, 10],
  ])('%j: sesMaxSendRate %d → at most %d invocations of %d triggers, each paced to rate ÷ invocations', (ctx, rate, concurrency, batch) => {
    const built = synth(ctx, { bundle: false });
    expect(built.settings.sesMaxSendRate).toBe(rate);
    expect(eventSource(built)).toMatchObject({ ScalingConfig: { MaximumConcurrency: concurrency }, BatchSize: batch, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(Number(sendRateEnv(built))).toBeCloseTo(rate / concurrency, 10);
    // Together the concurrent invocations never exceed the rate.
    expect(concurrency * Number(sendRateEnv(built))).toBeLessThanOrEqual(rate + 1e-9);
  });

  it('the wiring leaves the sending subscription\'s concurrency to the send rate', () => {
    expect(sender.maxConcurrency).toBeUndefined();
    expect(sender.function).toBe('campaigns');
  });
});

describe('planSendRate', () => {
  it('keeps all invocations together within the rate, a paced batch within half the timeout, and the event source limits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 3, max: 900 }), (rate, batchSize, timeoutSeconds) => {
        const plan = planSendRate(rate, { batchSize, timeoutSeconds });
        expect(plan.maxConcurrency).toBeGreaterThanOrEqual(MIN_CONCURRENCY);
        expect(plan.maxConcurrency).toBeLessThanOrEqual(MAX_CONCURRENCY);
        expect(Number.isInteger(plan.maxConcurrency)).toBe(true);
        expect(plan.maxConcurrency * plan.sendsPerSecondPerInvocation).toBeLessThanOrEqual(rate * (1 + 1e-12));
        expect(plan.batchSize).toBeGreaterThanOrEqual(1);
        expect(plan.batchSize).toBeLessThanOrEqual(batchSize);
        if (plan.batchSize > 1) expect(plan.batchSize / plan.sendsPerSecondPerInvocation).toBeLessThanOrEqual(timeoutSeconds / 2);
        // A whole rate of 2/s or more is split into whole per-invocation rates (exact in every second).
        if (rate >= MIN_CONCURRENCY && rate <= MAX_CONCURRENCY) expect(Number.isInteger(plan.sendsPerSecondPerInvocation)).toBe(true);
      }),
    );
  });

  it('splits a whole rate into whole per-invocation rates: 14/s → 7 × 2/s, 500/s → 100 × 5/s, 13/s → 13 × 1/s', () => {
    const of = (rate: number) => {
      const p = planSendRate(rate, { batchSize: 10, timeoutSeconds: 60 });
      return [p.maxConcurrency, p.sendsPerSecondPerInvocation];
    };
    expect([of(14), of(500), of(13), of(50), of(2), of(1)]).toEqual([[7, 2], [100, 5], [13, 1], [10, 5], [2, 1], [2, 0.5]]);
  });

  it('cuts the batch when a paced batch would not send within half the timeout', () => {
    expect(planSendRate(1, { batchSize: 10, timeoutSeconds: 10 })).toEqual({ maxConcurrency: 2, batchSize: 2, sendsPerSecondPerInvocation: 0.5 });
    expect(planSendRate(1, { batchSize: senderSpec.timeoutSeconds, timeoutSeconds: senderSpec.timeoutSeconds }).batchSize).toBe(15);
  });
});
