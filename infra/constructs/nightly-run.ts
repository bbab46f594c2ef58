/**
 * The nightly run: a Step Functions state machine over the steps of the nightly-rescore
 * function (shared/scoring/nightly-steps.ts), built from `nightlyRun` in shared/wiring.ts.
 *
 *   Start → Passes? ─ two passes: GatherSegments (Map: per segment, Gather until done) → Fit → KeepFit
 *                   │              → ScoreSegments (Map: per segment, Score until done) → Finish
 *                   └ one pass:    ScoreAndGatherSegments (Map: per segment, ScoreAndGather until done)
 *                                  → FitAfterScoring → Finish
 *
 * The start step says which (`passes`, shared/scoring/nightly-steps.ts): one pass scores with
 * an earlier night's recent model while gathering tonight's fit sample, and fits after.
 *
 * A segment step's output is its own next input plus `done`, so each segment loop passes it
 * back to the same task until `done`. Every task retries with exponential backoff and jitter;
 * a segment that still fails is caught and becomes `{segment, failed: true}`, the other
 * segments go on, and finish names the failed ones (a rerun of the night resumes them: it
 * is the same run id). Logging of every state (without the execution data: the states carry
 * customer ids), X-Ray, a run timeout; alarms on a failed or timed-out run and on no
 * successful run in 26 hours.
 */
import { App, type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { nightlyRun } from '../../shared/wiring.ts';
import { aslOf } from '../asl.ts';
import { failedExecutions, loggedStateMachine } from './logged-state-machine.ts';

/** Hours without a successful run after which the stale-run alarm fires. */
export const STALE_RUN_HOURS = 26;

export type NightlyRunProps = {
  spec: typeof nightlyRun;
  fn: lambda.IFunction;
  /** The function's own timeout: one step invocation never takes longer. */
  stepTimeout: Duration;
  /** Of the run's log group (as the functions' log groups). */
  removalPolicy: RemovalPolicy;
};

export class NightlyRun extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: NightlyRunProps) {
    super(scope, id);
    const { spec, fn } = props;
    const at = sfn.JsonPath.stringAt;

    /** A task invoking the function with `payload`, or with the state's input when there is none. */
    const step = (name: string, payload?: sfn.TaskInput, extra: Partial<tasks.LambdaInvokeProps> = {}) => {
      const task = new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fn,
        ...(payload && { payload }),
        // The function's result is the state's output, and the task's resource is the function's ARN
        // (the local ASL run overrides exactly that resource with the local handler).
        payloadResponseOnly: true,
        // Our own retry below covers every error, with backoff; no second, default retry.
        retryOnServiceExceptions: false,
        taskTimeout: sfn.Timeout.duration(props.stepTimeout.plus(Duration.minutes(1))),
        ...extra,
      });
      task.addRetry({
        errors: ['States.ALL'],
        maxAttempts: spec.retry.maxAttempts,
        interval: Duration.seconds(spec.retry.intervalSeconds),
        backoffRate: spec.retry.backoffRate,
        maxDelay: Duration.seconds(spec.retry.maxDelaySeconds),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };

    /** A Map over the segments, each one a loop of `stepName` invocations until its output says done. */
    const segmentMap = (name: 'Gather' | 'Score' | 'ScoreAndGather', itemSelector: Record<string, unknown>, resultPath: string) => {
      const task = step(name);
      const failed = new sfn.Pass(this, `${name}SegmentFailed`, { parameters: { 'segment.$': '$.segment', failed: true } });
      task.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
      const loop = task.next(
        new sfn.Choice(this, `${name}SegmentDone`).when(sfn.Condition.booleanEquals('$.done', true), new sfn.Succeed(this, `${name}SegmentSucceeded`)).otherwise(task),
      );
      const map = new sfn.Map(this, `${name}Segments`, {
        itemsPath: '$.segments',
        maxConcurrency: spec.maxConcurrency,
        itemSelector: { ...itemSelector, 'segment.$': '$$.Map.Item.Value' },
        resultPath,
      });
      map.itemProcessor(loop);
      return map;
    };

    const start = step('Start');
    const gather = segmentMap('Gather', { step: 'gather', 'night.$': '$.night', 'sampleShare.$': '$.sampleShare' }, '$.gathered');
    const fit = step('Fit', sfn.TaskInput.fromObject({ step: 'fit', night: at('$.night'), sampleShare: at('$.sampleShare'), results: at('$.gathered') }), { resultPath: '$.fit' });
    // Drop the gather parts from the state: the fit has merged them.
    const keepFit = new sfn.Pass(this, 'KeepFit', { parameters: { 'night.$': '$.night', 'segments.$': '$.segments', 'fit.$': '$.fit' } });
    const score = segmentMap('Score', { step: 'score', 'night.$': '$.night', 'keep.$': '$.fit.keep' }, '$.scored');
    const finish = step(
      'Finish',
      sfn.TaskInput.fromObject({
        step: 'finish',
        night: at('$.night'),
        keep: at('$.fit.keep'),
        fit: at('$.fit.fit'),
        gather: at('$.fit.gather'),
        failedSegments: at('$.fit.failedSegments'),
        results: at('$.scored'),
        scoredWith: at('$.fit.scoredWith'),
        passes: at('$.fit.passes'),
      }),
    );
    // One pass: score with the earlier night's model and gather tonight's sample, then fit.
    const scoreAndGather = segmentMap(
      'ScoreAndGather',
      { step: 'score', 'night.$': '$.night', 'keep.$': '$.keep', 'scoreWith.$': '$.scoreWith', 'sampleShare.$': '$.sampleShare' },
      '$.scored',
    );
    const fitAfter = step(
      'FitAfterScoring',
      sfn.TaskInput.fromObject({ step: 'fit', night: at('$.night'), sampleShare: at('$.sampleShare'), scoreWith: at('$.scoreWith'), results: at('$.scored') }),
      { resultPath: '$.fit' },
    );
    const passes = new sfn.Choice(this, 'Passes')
      .when(sfn.Condition.numberEquals('$.passes', 1), scoreAndGather.next(fitAfter).next(finish))
      .otherwise(gather.next(fit).next(keepFit).next(score).next(finish));

    ({ stateMachine: this.stateMachine, logGroup: this.logGroup } = loggedStateMachine(this, {
      comment: 'serverless-clm nightly run: gather, fit, score every segment, finish; or score with a recent model while gathering, then fit, finish (docs/scoring.md)',
      definition: start.next(passes),
      timeout: Duration.hours(spec.timeoutHours),
      removalPolicy: props.removalPolicy,
      fn,
      fnDescription: 'nightly function',
    }));
  }

  /** A run that failed, timed out or was aborted. */
  metricFailedRuns(): cloudwatch.IMetric {
    return failedExecutions(this.stateMachine, 'Failed, timed-out or aborted nightly runs');
  }
}

/**
 * The state machine's definition (ASL) as CDK synthesizes this construct, for a function with
 * the given ARN: the local stack runs exactly this with an ASL interpreter, its tasks mapped to
 * the local handler. A test checks it equals the deployed stack's definition but for the ARN.
 */
export function synthesizedNightlyRunDefinition(functionArn: string, spec: typeof nightlyRun, stepTimeout: Duration): Record<string, unknown> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'NightlyRunDefinition', { env: { account: '000000000000', region: 'eu-west-1' } });
  const fn = lambda.Function.fromFunctionArn(stack, 'NightlyFunction', functionArn);
  const run = new NightlyRun(stack, 'NightlyRun', { spec, fn, stepTimeout, removalPolicy: RemovalPolicy.DESTROY });
  const resource = app.synth().getStackByName(stack.stackName).template.Resources[stack.getLogicalId(run.stateMachine.node.defaultChild as CfnElement)];
  return aslOf(resource.Properties.DefinitionString, (token) => {
    throw new Error(`unexpected token in the nightly run's definition: ${JSON.stringify(token)}`);
  });
}
