/**
 * cdk-nag (v3, AwsSolutions pack) on the whole app: no unacknowledged errors
 * or warnings, and every acknowledgement carries a reason.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { synth, type TestApp } from './helpers.ts';

type Ack = { path: string; id: string; reason: unknown };

function acknowledgements(root: IConstruct): Ack[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, unknown>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
  );
}

const violationsOf = (app: App) => {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app);
  return report.violations.map((v) => ({ rule: v.ruleName, severity: v.severity, resources: v.violatingResources.map((r) => r.constructPath) }));
};

describe('cdk-nag AwsSolutions', () => {
  let defaults: TestApp;
  let variant: TestApp;

  beforeAll(() => {
    defaults = synth({}, { bundle: false, nag: true });
    variant = synth(
      { alarmEmail: 'ops@example.com', producerAccountIds: '123456789012', createSenderIdentity: 'false', removalPolicy: 'destroy', sesSandbox: 'true', region: 'eu-west-1' },
      { bundle: false, nag: true },
    );
  }, 240_000);

  it('reports no unacknowledged errors or warnings (default settings)', () => {
    expect(violationsOf(defaults.app)).toEqual([]);
  });

  it('reports no unacknowledged errors or warnings (alarm e-mail, producer accounts, existing identity, destroy, SES sandbox, a region set as `cdk synth` sets it)', () => {
    expect(violationsOf(variant.app)).toEqual([]);
  });

  it('synthesizes with the pack registered as a validation plugin (as infra/app.ts does)', () => {
    const assembly = defaults.app.synth();
    const resources = Object.values(assembly.getStackByName(defaults.stack.stackName).template.Resources as Record<string, { Type: string; Properties?: { Description?: string } }>);
    // The synthesized template holds the stack itself: the table and the four functions of the wiring.
    expect(resources.filter((r) => r.Type === 'AWS::DynamoDB::Table')).toHaveLength(1);
    const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function').map((r) => r.Properties?.Description);
    for (const d of ['Validates business events', 'Reads new events from the table stream', 'Turns churn triggers into emails', 'Nightly run that rescores']) {
      expect(functions.filter((f) => f?.startsWith(d)), d).toHaveLength(1);
    }
  });

  it('every acknowledgement is a specific AwsSolutions rule with a reason', () => {
    const acks = acknowledgements(defaults.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id, ack.path).toMatch(/^(Annotation::)?AwsSolutions-[A-Z]+\d+/);
      expect(typeof ack.reason, `${ack.path} ${ack.id}`).toBe('string');
      expect((ack.reason as string).trim().length, `${ack.path} ${ack.id}`).toBeGreaterThan(30);
      // IAM5 (wildcards) is only ever acknowledged for a named finding, never wholesale.
      if (ack.id.includes('AwsSolutions-IAM5')) expect(ack.id, ack.path).toMatch(/IAM5\[.+\]/);
    }
    // Nothing is acknowledged for the whole stack or app.
    expect(acks.filter((a) => a.path === defaults.stack.node.path || a.path === '')).toEqual([]);
  });

  it('does find problems when there are some (the pack really runs)', () => {
    const app = new App();
    const stack = new Stack(app, 'Bad');
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const rules = violationsOf(app).map((v) => v.rule);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
    // Registered as a plugin (as in infra/app.ts), a finding fails synthesis.
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions/);
  });
});
