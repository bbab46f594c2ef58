/** Builds the CDK app for template tests. */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type BuiltApp } from '../../infra/app.ts';

export type TestApp = BuiltApp & { template: Template };

/**
 * Synthesizes the app with the given CDK context (settings). `bundle: false`
 * skips esbuild (CDK's `aws:cdk:bundling-stacks` context) for tests that only
 * look at settings-driven properties, which keeps the test folder fast.
 */
export function synth(context: Record<string, unknown> = {}, options: { bundle?: boolean; nag?: boolean } = {}): TestApp {
  const app = new App({
    context: {
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
      ...context,
    },
  });
  const built = buildApp(app, { nag: options.nag ?? false });
  return { ...built, template: Template.fromStack(built.stack) };
}

/** Resources of one type, as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string): [string, { Properties: Record<string, any> }][] {
  return Object.entries(template.findResources(type)) as [string, { Properties: Record<string, any> }][];
}

/** The logical id of a construct's default CFN resource. */
export function logicalId(stack: { getLogicalId(e: any): string }, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild);
}

/** `{ 'Fn::GetAtt': [id, 'Arn'] }` */
export const arnOf = (id: string, attr = 'Arn') => ({ 'Fn::GetAtt': [id, attr] });

/** Every IAM policy statement attached to a role (by role logical id). */
export function statementsOfRole(template: Template, roleId: string): any[] {
  return resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, r]) => (r.Properties.Roles as any[]).some((ref) => ref.Ref === roleId))
    .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as any[]);
}

export const actionsOf = (statement: any): string[] => [statement.Action].flat();
