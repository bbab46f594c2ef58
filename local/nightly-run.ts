/**
 * The nightly run, locally: the state machine's definition as CDK synthesizes it
 * (infra/constructs/nightly-run.ts), executed by the ASL interpreter aws-local-stepfunctions,
 * every Lambda task overridden by the local nightly-rescore handler (the same module Lambda
 * runs, invoked with a Lambda-like context and its timeout). Segments run concurrently up to
 * the Map's MaxConcurrency, against whatever the handler's environment points at (DynamoDB
 * Local in the local stack). The retry waits are shortened to a second.
 */
import { Duration } from 'aws-cdk-lib';
import { StateMachine } from 'aws-local-stepfunctions';
import { synthesizedNightlyRunDefinition } from '../infra/constructs/nightly-run.ts';
import { functionSpecs, nightlyRun, subscriptions, type ScheduleSubscription } from '../shared/wiring.ts';
import { type Handler, invokeWithTimeout, loadHandler } from './invoke.ts';

const LOCAL_FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:000000000000:function:clm-local-nightly-rescore';

/** Names of the Task states of a definition, in Map item processors too. */
function taskStates(states: Record<string, { Type: string; ItemProcessor?: { States: Record<string, never> } }>): string[] {
  return Object.entries(states).flatMap(([name, s]) => [...(s.Type === 'Task' ? [name] : []), ...(s.ItemProcessor ? taskStates(s.ItemProcessor.States) : [])]);
}

/** Definitions the interpreter has validated (asl-validator: JSON schema, paths, ARNs; a fraction of a second each time). */
const validated = new WeakSet<object>();

/** A state machine of `definition`, validated the first time this definition object is run. */
function stateMachineOf(definition: Record<string, unknown>): StateMachine {
  const machine = new StateMachine(definition as never, validated.has(definition) ? { validationOptions: { noValidate: true } } : undefined);
  validated.add(definition);
  return machine;
}

/**
 * The definition the local run executes: the state machine CDK synthesizes, validated by the
 * interpreter (a CDK synth and the validation: seconds; synthesize once for several runs).
 */
export const localNightlyRunDefinition = (): Record<string, unknown> => {
  const definition = synthesizedNightlyRunDefinition(LOCAL_FUNCTION_ARN, nightlyRun, Duration.seconds(functionSpecs[nightlyRun.function].timeoutSeconds));
  stateMachineOf(definition);
  return definition;
};

export async function runNightlyStateMachine(options: { region: string; scheduledTime?: Date; handler?: Handler; retryWaitMs?: number; definition?: Record<string, unknown> }): Promise<unknown> {
  const definition = options.definition ?? localNightlyRunDefinition();
  const schedule = subscriptions.find((s): s is ScheduleSubscription => s.kind === 'schedule' && s.function === nightlyRun.function);
  if (!schedule) throw new Error('no schedule subscription starts the nightly run in shared/wiring.ts');
  const handler = options.handler ?? (await loadHandler(nightlyRun.function));
  const tasks = taskStates(definition.States as never);
  // Through JSON, as Lambda returns a result.
  const invoke = async (input: unknown) => JSON.parse(JSON.stringify(await invokeWithTimeout(handler, nightlyRun.function, input, options.region))) as never;
  const execution = stateMachineOf(definition).run(
    schedule.input((options.scheduledTime ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z')),
    {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(tasks.map((t) => [t, invoke])),
        retryIntervalOverrides: Object.fromEntries(tasks.map((t) => [t, options.retryWaitMs ?? 1000])),
      },
    },
  );
  return execution.result;
}
