/** Settings from CDK context: defaults, validation errors, and how they reach the template. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseSettings, SettingsError, settingDefaults } from '../../infra/settings.ts';
import { defaultScoringConfig, parseScoringConfig } from '../../shared/scoring/config.ts';
import { ENV, nightlyRun } from '../../shared/wiring.ts';
import { synth } from './helpers.ts';

const parse = (ctx: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => parseSettings((k) => ctx[k], env);

describe('parseSettings', () => {
  it('has offline-friendly defaults', () => {
    const s = parse({});
    expect(s).toMatchObject({
      stackName: 'ServerlessClm',
      senderAddress: 'no-reply@example.com',
      senderDomain: 'example.com',
      createSenderIdentity: true,
      tableDeletionProtection: false,
      sesSandbox: false,
      sesSandboxRecipients: [],
      sesMaxSendRate: 14,
      nightlySchedule: 'cron(0 2 * * ? *)',
      nightlyTimeZone: 'UTC',
      timerSweepSchedule: 'rate(5 minutes)',
      eventArchiveDays: 30,
      eventRetentionDays: 400,
      controlGroupPercent: 10,
      controlGroupExperiment: 'v1',
      frequencyCapPerWeek: 2,
      producerAccountIds: [],
      logRetentionDays: 30,
      removalPolicy: 'retain',
      logLevel: 'INFO',
      winbackPermissionMonths: 24,
      winbackDelaysDays: [14, 60, 180],
      winbackHighValueMinClv: 1000,
      winbackPersonalOutreach: 'instead',
    });
    expect(s.alarmEmail).toBeUndefined();
    expect(s.account).toBeUndefined();
    expect(s.region).toBeUndefined();
  });

  it('reads the winback delays from a JSON list or -c text', () => {
    expect(parse({ winbackDelaysDays: [7, 30] }).winbackDelaysDays).toEqual([7, 30]);
    expect(parse({ winbackDelaysDays: '10, 40,100' }).winbackDelaysDays).toEqual([10, 40, 100]);
  });

  it('treats empty strings (as in cdk.json) as unset', () => {
    expect(parse({ alarmEmail: '', senderDomain: '', account: '', region: '' })).toMatchObject({ alarmEmail: undefined, senderDomain: 'example.com' });
  });

  it('takes account and region from CDK_DEFAULT_ACCOUNT/REGION unless set', () => {
    expect(parse({}, { CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' })).toMatchObject({ account: '123456789012', region: 'eu-west-1' });
    expect(parse({ region: 'eu-central-1' }, { CDK_DEFAULT_REGION: 'eu-west-1' }).region).toBe('eu-central-1');
  });

  it('parses strings given with -c key=value', () => {
    const s = parse({
      createSenderIdentity: 'false',
      eventArchiveDays: '0',
      controlGroupPercent: '20',
      controlGroupExperiment: ' 2027-q1 ',
      producerAccountIds: '111111111111, 222222222222',
      logRetentionDays: '365',
      removalPolicy: 'DESTROY',
      senderAddress: 'hello@news.shop.example',
      senderDomain: 'shop.example',
    });
    expect(s).toMatchObject({
      createSenderIdentity: false,
      eventArchiveDays: 0,
      controlGroupPercent: 20,
      controlGroupExperiment: '2027-q1',
      producerAccountIds: ['111111111111', '222222222222'],
      logRetentionDays: 365,
      removalPolicy: 'destroy',
      senderDomain: 'shop.example',
    });
    expect(parse({ producerAccountIds: '["333333333333"]' }).producerAccountIds).toEqual(['333333333333']);
    expect(parse({ producerAccountIds: ['444444444444'] }).producerAccountIds).toEqual(['444444444444']);
  });

  it.each([
    ['senderAddress', 'not-an-email', /senderAddress.*email address/],
    ['senderDomain', 'other.example', /not in the domain/],
    ['nightlySchedule', '0 2 * * *', /nightlySchedule.*cron\(/],
    ['nightlySchedule', 'cron(0 2 * *)', /six fields/],
    ['nightlySchedule', 'rate(1 day)', /nightlySchedule/],
    ['nightlyTimeZone', 'Mars/Olympus', /IANA time zone/],
    ['timerSweepSchedule', 'rate(5 minute)', /timerSweepSchedule.*rate expression/],
    ['timerSweepSchedule', 'rate(1 minutes)', /timerSweepSchedule/],
    ['timerSweepSchedule', 'rate(2 hours)', /1 to 60 minutes/],
    ['timerSweepSchedule', 'cron(0/5 * * * ? *)', /timerSweepSchedule/],
    ['alarmEmail', 'ops', /alarmEmail.*email address/],
    ['account', '1234', /12-digit/],
    ['region', 'europe', /region/],
    ['eventArchiveDays', '-1', /eventArchiveDays.*whole number/],
    ['eventRetentionDays', '1.5', /whole number/],
    ['controlGroupPercent', '101', /0 to 100/],
    ['controlGroupExperiment', 'new group', /controlGroupExperiment.*letters, digits/],
    ['controlGroupExperiment', 'x'.repeat(65), /1 to 64/],
    ['frequencyCapPerWeek', 'two', /whole number/],
    ['winbackPermissionMonths', '0', /winbackPermissionMonths.*1 to 120/],
    ['winbackDelaysDays', '60,14', /winbackDelaysDays.*increasing order/],
    ['winbackDelaysDays', '14,x', /winbackDelaysDays.*whole number/],
    ['winbackHighValueMinClv', '-5', /winbackHighValueMinClv.*whole number/],
    ['winbackPersonalOutreach', 'sometimes', /instead, before or off/],
    ['logRetentionDays', '31', /CloudWatch Logs accepts/],
    ['removalPolicy', 'snapshot', /"retain" or "destroy"/],
    ['createSenderIdentity', 'yes', /true or false/],
    ['producerAccountIds', '12345', /12-digit/],
    ['unsubscribeBaseUrl', 'http://example.com/u', /https/],
    ['helpBaseUrl', 'not a url', /absolute https URL/],
    ['pagesBaseUrl', 'http://pages.example.com', /https/],
    ['tablePrefix', 'dev-', /was removed.*\$\{stackName\}-clm/],
    ['tableDeletionProtection', 'on', /true or false/],
    ['sesSandbox', 'maybe', /true or false/],
    ['sesMaxSendRate', '0', /sesMaxSendRate.*1 to 10000/],
    ['sesMaxSendRate', '2.5', /whole number/],
    ['sesSandboxRecipients', 'not an address!', /verified e-mail addresses or domains/],
    ['logLevel', 'LOUD', /logLevel/],
  ])('rejects %s=%j with a clear error', (key, value, message) => {
    const run = () => parse({ [key]: value });
    expect(run).toThrow(SettingsError);
    expect(run).toThrow(message);
    expect(run).toThrow(new RegExp(`-c ${key}=`));
  });

  it('takes scoringConfig as an object, as JSON text or as a JSON file of the repository, validated as the function validates it', () => {
    expect(parse({}).scoringConfig).toEqual({});
    expect(parse({ scoringConfig: { outreach: { customersPerMonth: 50 } } }).scoringConfig).toEqual({ outreach: { customersPerMonth: 50 } });
    expect(parse({ scoringConfig: ' {"churn":{"horizonMonths":6}} ' }).scoringConfig).toEqual({ churn: { horizonMonths: 6 } });
    expect(parse({ scoringConfig: 'test/fixtures/settings/scoring-config.json' }).scoringConfig).toEqual({ outreach: { customersPerMonth: 400, rankBy: 'value-at-risk' }, clv: { months: 24 } });
  });

  it.each([
    [{ outreach: { customersPerMonth: -1 } }, /scoringConfig.*outreach\.customersPerMonth/],
    [{ outreach: { rankBy: 'age' } }, /scoringConfig.*outreach\.rankBy/],
    [{ noSuchSetting: 1 }, /scoringConfig/],
    ['{nope', /scoringConfig.*not valid JSON/],
    ['[1]', /scoringConfig.*not valid JSON|expected a JSON object/],
    ['scoring.yaml', /scoringConfig.*JSON object or the path of a \.json file/],
    ['test/fixtures/settings/missing.json', /scoringConfig.*cannot read test\/fixtures\/settings\/missing\.json/],
  ])('rejects scoringConfig=%j naming the field', (value, message) => {
    const run = () => parse({ scoringConfig: value });
    expect(run).toThrow(SettingsError);
    expect(run).toThrow(message);
  });

  it("takes circuitBreaker as an object or JSON text, validated as the function validates it (margins at most SES's thresholds)", () => {
    expect(parse({}).circuitBreaker).toEqual({});
    expect(parse({ circuitBreaker: { bounceRate: 0.03, minSends: 500 } }).circuitBreaker).toEqual({ bounceRate: 0.03, minSends: 500 });
    expect(parse({ circuitBreaker: '{"complaintRate": 0.0005}' }).circuitBreaker).toEqual({ complaintRate: 0.0005 });
    for (const [value, message] of [
      [{ bounceRate: 0.06 }, /circuitBreaker.*bounceRate.*at most 0.05/],
      [{ complaintRate: 0 }, /circuitBreaker.*complaintRate.*above 0/],
      [{ minSends: 1.5 }, /circuitBreaker.*minSends/],
      [{ windowHours: 200 }, /circuitBreaker.*windowHours/],
      [{ pauses: 60 }, /circuitBreaker/],
      ['{nope', /circuitBreaker.*not valid JSON/],
    ] as const) {
      expect(() => parse({ circuitBreaker: value })).toThrow(SettingsError);
      expect(() => parse({ circuitBreaker: value })).toThrow(message);
    }
  });

  it('rejects a valid scoringConfig too long for a Lambda environment variable', () => {
    const p = defaultScoringConfig.nextBestAction;
    // the default ad-hoc rules three times over (renamed), then the catch-all: valid, but over 3,000 bytes
    const adhoc = [...[1, 2, 3].flatMap((k) => p.adhoc.slice(0, -1).map((r) => ({ ...r, id: `${r.id}-${k}` }))), p.adhoc.at(-1)];
    const big = { nextBestAction: { subscription: p.subscription, adhoc } };
    expect(parseScoringConfig(big).ok).toBe(true);
    expect(() => parse({ scoringConfig: big })).toThrow(/scoringConfig.*bytes as JSON, more than the 3000/);
  });

  it('accepts rate expressions of the timer sweep from 1 minute to an hour', () => {
    for (const r of ['rate(1 minute)', 'rate(5 minutes)', 'rate(60 minutes)', 'rate(1 hour)']) expect(parse({ timerSweepSchedule: r }).timerSweepSchedule).toBe(r);
  });

  it('accepts valid IANA zones', () => {
    for (const tz of ['UTC', 'Europe/Amsterdam', 'America/Sao_Paulo', 'Asia/Kolkata']) expect(parse({ nightlyTimeZone: tz }).nightlyTimeZone).toBe(tz);
  });

  it('every setting is documented in the settings tables of docs/deploy.md and the README', async () => {
    const { readFile } = await import('node:fs/promises');
    const keys = Object.keys(parse({}));
    expect(keys.length).toBeGreaterThan(20);
    for (const doc of ['../../docs/deploy.md', '../../README.md']) {
      const rows = (await readFile(new URL(doc, import.meta.url), 'utf8')).split('\n').filter((l) => l.startsWith('| `'));
      for (const key of keys) expect(rows.some((r) => r.split('|')[1]!.includes(`\`${key}\``)), `${key} in ${doc}`).toBe(true);
    }
  });

  it('cdk.json repeats the documented defaults', async () => {
    const { readFile } = await import('node:fs/promises');
    const cdkJson = JSON.parse(await readFile(new URL('../../cdk.json', import.meta.url), 'utf8'));
    expect(cdkJson.app).toBe('npx tsx infra/app.ts');
    expect(parse(cdkJson.context)).toEqual(parse({}));
    for (const key of Object.keys(settingDefaults)) expect(cdkJson.context, key).toHaveProperty(key);
  });
});

describe('settings in the template', () => {
  it('default settings synthesize an env-agnostic stack with the default names and schedule', () => {
    const { template, stack } = synth({}, { bundle: false });
    expect(stack.stackName).toBe('ServerlessClm');
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'ServerlessClm-clm' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 2 * * ? *)', ScheduleExpressionTimezone: 'UTC' });
    template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 30 });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    // Deploying account allowed, and the Deny of clm.* sources to anyone but the stack's functions.
    template.resourceCountIs('AWS::Events::EventBusPolicy', 2);
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'example.com' });
  });

  it('createSenderIdentity=false uses the existing identity (no EmailIdentity, same scoped grant)', () => {
    const { template } = synth({ createSenderIdentity: 'false', senderAddress: 'a@b.example' }, { bundle: false });
    template.resourceCountIs('AWS::SES::EmailIdentity', 0);
    template.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: ['ses:SendEmail', 'ses:SendBulkEmail'], Condition: { StringEquals: { 'ses:FromAddress': 'a@b.example' } } })]),
      },
    });
    expect(JSON.stringify(template.toJSON())).toContain(':identity/b.example');
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('SenderDomainDkimRecord1');
  });

  it('removalPolicy=destroy lets dev stacks delete the table and logs', () => {
    const { template } = synth({ removalPolicy: 'destroy', stackName: 'ClmDev' }, { bundle: false });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ TableName: 'ClmDev-clm', DeletionProtectionEnabled: false }) });
    template.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'ClmDev-events' });
  });

  it('removalPolicy=retain (default) keeps the table and logs on update and delete, but not when their create rolls back', () => {
    const { template } = synth({}, { bundle: false });
    const retained = { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' };
    template.hasResource('AWS::DynamoDB::Table', { ...retained, Properties: Match.objectLike({ DeletionProtectionEnabled: false }) });
    template.allResources('AWS::Logs::LogGroup', retained);
  });

  it('tableDeletionProtection=true turns on deletion protection (a second deploy, once the table exists)', () => {
    const { template } = synth({ tableDeletionProtection: 'true' }, { bundle: false });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'RetainExceptOnCreate', Properties: Match.objectLike({ DeletionProtectionEnabled: true }) });
    expect(() => parse({ tableDeletionProtection: 'true', removalPolicy: 'destroy' })).toThrow(/use one or the other/);
  });

  it('account/region settings make an environment-specific stack', () => {
    const { stack } = synth({ account: '123456789012', region: 'eu-west-1' }, { bundle: false });
    expect(stack.account).toBe('123456789012');
    expect(stack.region).toBe('eu-west-1');
  });

  it('an invalid setting fails synthesis with the setting named', () => {
    expect(() => synth({ nightlyTimeZone: 'Nowhere/Special' }, { bundle: false })).toThrow(/nightlyTimeZone/);
    expect(() => synth({ scoringConfig: { outreach: { treatedPercent: 150 } } }, { bundle: false })).toThrow(/scoringConfig.*outreach\.treatedPercent/);
  });

  it('scoringConfig reaches the nightly function (only it) as CLM_SCORING_CONFIG, which the function reads back as set', () => {
    const { template } = synth({ scoringConfig: 'test/fixtures/settings/scoring-config.json' }, { bundle: false });
    const fns = Object.values(template.findResources('AWS::Lambda::Function')).map((r) => r.Properties.Environment?.Variables ?? {});
    const withConfig = fns.filter((v) => v[ENV.scoringConfig] !== undefined);
    expect(withConfig).toHaveLength(1);
    expect(withConfig[0]!.POWERTOOLS_SERVICE_NAME).toBe(nightlyRun.function);
    const read = parseScoringConfig(JSON.parse(withConfig[0]![ENV.scoringConfig]));
    expect(read.ok && read.config.outreach).toMatchObject({ customersPerMonth: 400, rankBy: 'value-at-risk' });
    expect(read.ok && read.config.clv.months).toBe(24);
    // unset: the defaults
    const byDefault = Object.values(synth({}, { bundle: false }).template.findResources('AWS::Lambda::Function')).find((r) => r.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === nightlyRun.function)!;
    expect(byDefault.Properties.Environment.Variables[ENV.scoringConfig]).toBe('{}');
  });
});
