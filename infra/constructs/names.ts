/**
 * Physical names (and ids CloudFormation treats as physical ids, such as bus
 * policy statement ids) derived from the stack name, so that two copies of the
 * stack (e.g. `ServerlessClm` and `ServerlessClmDev`) can live in one account
 * and region without a clash. Resources the stack does not name (queues, log
 * groups, roles, the schedule, the topic) get names CloudFormation generates
 * from the stack name and logical id, which are unique per stack already.
 */
import { createHash } from 'node:crypto';
import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * `${stackName}-${suffix}`, at most `maxLength` characters. A stack name too
 * long for that is shortened and followed by a hash of the whole name, so
 * different stack names never give the same result.
 */
export function nameFor(stackName: string, suffix: string, maxLength: number): string {
  const plain = `${stackName}-${suffix}`;
  if (plain.length <= maxLength) return plain;
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 8);
  const room = maxLength - suffix.length - hash.length - 2;
  if (room < 1) throw new Error(`Cannot derive a name of at most ${maxLength} characters for ${suffix} from stack ${stackName}`);
  return `${stackName.slice(0, room)}-${hash}-${suffix}`;
}

/** `nameFor` with the stack name of the construct's stack. */
export const physicalName = (scope: IConstruct, suffix: string, maxLength: number): string =>
  nameFor(Stack.of(scope).stackName, suffix, maxLength);

/**
 * The region and account of `scope`'s stack as cdk-nag writes them in a finding's resource: the
 * pseudo parameters of an environment-agnostic stack, or the literal values when the environment
 * is set (`cdk synth` sets the region from CDK_DEFAULT_REGION).
 */
export function nagEnv(scope: IConstruct): { region: string; account: string } {
  const stack = Stack.of(scope);
  return {
    region: Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region,
    account: Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account,
  };
}
