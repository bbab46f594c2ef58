/**
 * Two copies of the stack in one account and region (docs/deploy.md: a dev
 * stack beside production): no physical name or id may be the same in both.
 * Every resource type of the template is classified here, so a new one cannot
 * slip in with a fixed name unnoticed.
 */
import { describe, expect, it } from 'vitest';
import { nameFor } from '../../infra/constructs/names.ts';
import { synth } from './helpers.ts';

/** Properties CloudFormation takes as (or builds) a physical name or id, per resource type; [] = none. */
const PHYSICAL_NAME_PROPERTIES: Record<string, string[]> = {
  'AWS::DynamoDB::Table': ['TableName'],
  'AWS::Events::EventBus': ['Name'],
  'AWS::Events::EventBusPolicy': ['StatementId'],
  'AWS::Events::Archive': ['ArchiveName'],
  'AWS::Events::Rule': ['Name'],
  'AWS::SQS::Queue': ['QueueName'],
  'AWS::Scheduler::Schedule': ['Name'],
  'AWS::CloudWatch::Alarm': ['AlarmName'],
  'AWS::CloudWatch::Dashboard': ['DashboardName'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::IAM::Role': ['RoleName'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::StepFunctions::StateMachine': ['StateMachineName'],
  'AWS::SES::ConfigurationSet': ['Name'],
  'AWS::SES::EmailIdentity': ['EmailIdentity'],
  'AWS::SecretsManager::Secret': ['Name'],
  // Named by (or within) their parent, or not named at all.
  'AWS::IAM::Policy': [],
  'AWS::SQS::QueuePolicy': [],
  'AWS::SNS::TopicPolicy': [],
  'AWS::SNS::Subscription': [],
  'AWS::Lambda::EventSourceMapping': [],
  'AWS::Lambda::EventInvokeConfig': [],
  'AWS::Lambda::Permission': [],
  'AWS::Lambda::Url': [],
};

type Name = { type: string; property: string; value: string; logicalId: string };

function physicalNames(template: { toJSON(): any }): Name[] {
  const resources = Object.entries<any>(template.toJSON().Resources);
  return resources.flatMap(([logicalId, r]) => {
    const keys = PHYSICAL_NAME_PROPERTIES[r.Type];
    if (keys === undefined) throw new Error(`${logicalId}: resource type ${r.Type} is not classified in names.test.ts`);
    return keys
      .map((property) => ({ type: r.Type as string, property, value: r.Properties?.[property], logicalId }))
      .filter((n): n is Name => n.value !== undefined)
      .map((n) => {
        // A token (Ref, Fn::Join...) would hide a fixed name: every name the stack sets is a literal.
        expect(typeof n.value, `${n.logicalId}.${n.property}`).toBe('string');
        return n;
      });
  });
}

const clashes = (a: Name[], b: Name[]) => {
  const key = (n: Name) => `${n.type} ${n.value.toLowerCase()}`;
  const inB = new Set(b.map(key));
  return a.filter((n) => inB.has(key(n))).map((n) => `${n.logicalId}.${n.property}=${n.value}`);
};

describe('two copies of the stack in one account', () => {
  const prod = synth({ stackName: 'ServerlessClm', alarmEmail: 'ops@example.com' }, { bundle: false });
  // The documented dev stack: `-c stackName=ServerlessClmDev -c removalPolicy=destroy -c createSenderIdentity=false`.
  const dev = synth({ stackName: 'ServerlessClmDev', removalPolicy: 'destroy', createSenderIdentity: 'false', alarmEmail: 'ops@example.com' }, { bundle: false });

  it('share no physical name or id', () => {
    const names = physicalNames(prod.template);
    // The names the stack does set (table, bus, bus policy statements, alarms, dashboard) are there to compare.
    const types = new Set(names.map((n) => n.type));
    for (const t of ['AWS::DynamoDB::Table', 'AWS::Events::EventBus', 'AWS::Events::EventBusPolicy', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard']) {
      expect(types, t).toContain(t);
    }
    expect(clashes(names, physicalNames(dev.template))).toEqual([]);
  });

  it('derive every name they set from the stack name', () => {
    for (const [built, stackName] of [[prod, 'ServerlessClm'], [dev, 'ServerlessClmDev']] as const) {
      for (const n of physicalNames(built.template).filter((n) => n.type !== 'AWS::SES::EmailIdentity')) {
        expect(n.value, `${n.logicalId}.${n.property}`).toMatch(new RegExp(`^(cdk-)?${stackName}-`));
      }
    }
    expect(physicalNames(prod.template).find((n) => n.type === 'AWS::DynamoDB::Table')?.value).toBe('ServerlessClm-clm');
    expect(physicalNames(dev.template).find((n) => n.type === 'AWS::Events::EventBus')?.value).toBe('ServerlessClmDev-events');
  });

  it('only the SES domain identity is shared when both create it (hence createSenderIdentity=false for the second)', () => {
    const both = synth({ stackName: 'ServerlessClmDev' }, { bundle: false });
    expect(clashes(physicalNames(prod.template), physicalNames(both.template))).toEqual(['EmailSendingSenderIdentity893668B5.EmailIdentity=example.com']);
  });
});

describe('nameFor', () => {
  it('is `${stackName}-${suffix}` when it fits', () => {
    expect(nameFor('ServerlessClm', 'events', 256)).toBe('ServerlessClm-events');
  });

  it('stays within the limit and unique for long stack names that share a prefix', () => {
    const a = nameFor(`${'A'.repeat(100)}-one`, 'OnlyStackFunctionsPutReservedSources', 60);
    const b = nameFor(`${'A'.repeat(100)}-two`, 'OnlyStackFunctionsPutReservedSources', 60);
    expect(a.length).toBeLessThanOrEqual(60);
    expect(b.length).toBeLessThanOrEqual(60);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^A+-[0-9a-f]{8}-OnlyStackFunctionsPutReservedSources$/);
  });

  it('refuses a suffix that leaves no room', () => {
    expect(() => nameFor('Stack', 'x'.repeat(60), 60)).toThrow(/at most 60/);
  });
});
