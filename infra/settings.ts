/**
 * Deployment settings, read from CDK context (`cdk.json` → "context", or
 * `cdk deploy -c key=value`). Every setting has a default so that
 * `cdk synth` works offline; each value is validated with a clear error.
 * docs/deploy.md documents every setting.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from 'constructs';
import { defaults } from '../shared/defaults.ts';
import { parseScoringConfig } from '../shared/scoring/config.ts';
import { parseReportSettings } from '../shared/report/settings.ts';
import { parseBreakerPolicy } from '../shared/campaigns/circuit-breaker.ts';

export type RemovalPolicySetting = 'retain' | 'destroy';
export type LogLevelSetting = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export type Settings = {
  /** Stack name, so several copies (e.g. dev and prod) can live in one account. */
  stackName: string;
  /** AWS account and region; undefined = environment-agnostic (CDK_DEFAULT_ACCOUNT/REGION when set). */
  account?: string;
  region?: string;
  /** From address of every campaign email. */
  senderAddress: string;
  /** Domain of the SES identity the stack sends from; defaults to the sender address's domain. */
  senderDomain: string;
  /** Create the SES domain identity (false when it already exists in the account/region). */
  createSenderIdentity: boolean;
  /**
   * DynamoDB deletion protection on the table. Off by default: a first deploy
   * that fails must be able to delete the table it created (the table is
   * retained on update and delete, not on a failed create). Turn it on with a
   * second deploy once the stack exists.
   */
  tableDeletionProtection: boolean;
  /**
   * The SES account is in the sandbox: SES then also authorises SendEmail
   * against each recipient's (verified) identity, so the send grant covers
   * those identities too (`sesSandboxRecipients`, or every identity).
   */
  sesSandbox: boolean;
  /** With `sesSandbox`: the verified recipient addresses or domains the grant covers (empty = `identity/*`). */
  sesSandboxRecipients: string[];
  /** SES maximum send rate of the account (emails per second); sizes the campaigns function's concurrency. */
  sesMaxSendRate: number;
  /** EventBridge Scheduler cron expression of the nightly rescoring run. */
  nightlySchedule: string;
  /** IANA time zone the nightly schedule is evaluated in. */
  nightlyTimeZone: string;
  /** EventBridge Scheduler rate expression of the timer sweep (shared/timers/): the worst-case delay of a timer. */
  timerSweepSchedule: string;
  /** E-mail address subscribed to the alarm topic (none when unset). */
  alarmEmail?: string;
  /** Days the bus archive keeps events (0 = forever). */
  eventArchiveDays: number;
  /** Days stored business events are kept in the table before they expire (TTL). */
  eventRetentionDays: number;
  /** Percentage of customers held out of campaigns as a control group. */
  controlGroupPercent: number;
  /** Names the control-group experiment; with the campaign it salts the assignment, so a new name draws a new group. */
  controlGroupExperiment: string;
  /** Maximum marketing emails per customer per week. */
  frequencyCapPerWeek: number;
  /**
   * The deliverability circuit breaker's policy fields that differ from the defaults
   * (shared/campaigns/circuit-breaker.ts: windowHours, minSends, bounceRate, complaintRate,
   * pauseMinutes). The campaigns function gets them as CLM_CIRCUIT_BREAKER (JSON). `{}`: the defaults.
   */
  circuitBreaker: Record<string, unknown>;
  /**
   * Base URL of the unsubscribe page linked from every email (and its
   * List-Unsubscribe header). The campaigns function appends `?token=…`: an
   * opaque base64url encoding of the customer id and send id, NOT signed —
   * anyone can decode it or build one for another customer. Whatever serves
   * this URL must handle the token and must not take it as proof of who is
   * asking. The stack's own unsubscribe page with signed tokens is the pages
   * function's `/u/TOKEN` (docs/pages.md, `pagesBaseUrl`), which replaces this
   * once the campaigns link to it.
   */
  unsubscribeBaseUrl: string;
  /** Base URL of the help / preference centre linked from emails. */
  helpBaseUrl: string;
  /**
   * https base URL the public pages are reached at in emails (`<base>/u/TOKEN`, …), when a
   * domain of yours (e.g. a CloudFront distribution) forwards to the pages function's URL.
   * Unset: the function URL itself (stack output `PagesUrl`).
   */
  pagesBaseUrl?: string;
  /** Extra AWS account ids allowed to put events on the bus. */
  producerAccountIds: string[];
  /** Days the function log groups keep logs. */
  logRetentionDays: number;
  /** 'retain' keeps the table and logs on stack deletion; 'destroy' removes them (dev stacks). */
  removalPolicy: RemovalPolicySetting;
  /** Powertools log level of the functions. */
  logLevel: LogLevelSetting;
  /**
   * The nightly scoring settings (shared/scoring/config.ts) that differ from the defaults, as
   * given and validated with the handler's own `parseScoringConfig`; the nightly function gets
   * them as CLM_SCORING_CONFIG (JSON). `{}`: the defaults.
   */
  scoringConfig: Record<string, unknown>;
  /** EventBridge Scheduler cron expression of the report (in `nightlyTimeZone`): after the nightly run has finished. */
  reportSchedule: string;
  /**
   * The report's settings (shared/report/settings.ts) that differ from the defaults: outreach cost
   * per contact, currency, the churn reduction to detect, confidence, power. The report function
   * gets them as CLM_REPORT_SETTINGS (JSON). `{}`: the defaults.
   */
  reportSettings: Record<string, unknown>;
  /** Months a winback permission lasts unless its record says otherwise (docs/consent.md). */
  winbackPermissionMonths: number;
  /** Days after leaving at which the winback sequence's counter-offers go out, ascending. */
  winbackDelaysDays: number[];
  /** CLV from which a former customer is high-value (personal outreach). */
  winbackHighValueMinClv: number;
  /** What a high-value former customer gets: a personal-outreach task `instead` of the winback email, `before` it (both), or `off`. */
  winbackPersonalOutreach: 'instead' | 'before' | 'off';
};

/** Context keys and their defaults, as documented; cdk.json repeats them. */
export const settingDefaults = {
  stackName: 'ServerlessClm',
  senderAddress: 'no-reply@example.com',
  createSenderIdentity: true,
  tableDeletionProtection: false,
  sesSandbox: false,
  sesSandboxRecipients: [] as string[],
  nightlySchedule: 'cron(0 2 * * ? *)',
  nightlyTimeZone: 'UTC',
  timerSweepSchedule: 'rate(5 minutes)',
  eventArchiveDays: 30,
  eventRetentionDays: defaults.eventRetentionDays,
  controlGroupPercent: defaults.controlGroupPercent,
  controlGroupExperiment: defaults.controlGroupExperiment,
  frequencyCapPerWeek: defaults.frequencyCapPerWeek,
  circuitBreaker: {} as Record<string, unknown>,
  unsubscribeBaseUrl: 'https://example.com/unsubscribe',
  helpBaseUrl: 'https://example.com/help',
  producerAccountIds: [] as string[],
  logRetentionDays: 30,
  removalPolicy: 'retain' as RemovalPolicySetting,
  logLevel: 'INFO' as LogLevelSetting,
  scoringConfig: {} as Record<string, unknown>,
  reportSchedule: 'cron(0 6 * * ? *)',
  reportSettings: {} as Record<string, unknown>,
  winbackPermissionMonths: defaults.winbackPermissionMonths,
  winbackDelaysDays: [...defaults.winbackDelaysDays] as number[],
  winbackHighValueMinClv: defaults.winbackHighValueMinClv,
  winbackPersonalOutreach: 'instead' as 'instead' | 'before' | 'off',
} as const;

/** SES's maximum send rate in the sandbox, and the rate new production accounts usually get. */
export const SES_SANDBOX_SEND_RATE = 1;
export const SES_PRODUCTION_SEND_RATE = 14;

/** Settings that no longer exist, with what replaced them. */
const REMOVED_SETTINGS: Record<string, string> = {
  tablePrefix: 'the table is now named after the stack (`${stackName}-clm`); set a different stackName for a second copy',
};

/** Retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export class SettingsError extends Error {
  constructor(key: string, message: string) {
    super(`Invalid CDK context setting "${key}": ${message}. Set it in cdk.json ("context") or with -c ${key}=VALUE (see docs/deploy.md).`);
    this.name = 'SettingsError';
  }
}

const EMAIL = /^[^\s@]+@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)$/;
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** EventBridge Scheduler cron: six fields (minutes hours day-of-month month day-of-week year). */
const CRON = /^cron\(\s*\S+(\s+\S+){5}\s*\)$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const EXPERIMENT = /^[A-Za-z0-9._-]{1,64}$/;

type Raw = unknown;

const isUnset = (v: Raw): boolean => v === undefined || v === null || v === '';

function str(key: string, v: Raw): string {
  if (typeof v !== 'string') throw new SettingsError(key, `expected a string, got ${JSON.stringify(v)}`);
  return v.trim();
}

function bool(key: string, v: Raw): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new SettingsError(key, `expected true or false, got ${JSON.stringify(v)}`);
}

function int(key: string, v: Raw, min: number, max: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SettingsError(key, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function list(key: string, v: Raw): string[] {
  if (Array.isArray(v)) return v.map((x) => str(key, x)).filter((x) => x !== '');
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.startsWith('[')) {
      try {
        return list(key, JSON.parse(t));
      } catch {
        throw new SettingsError(key, `expected a JSON array or a comma-separated list, got ${JSON.stringify(v)}`);
      }
    }
    return t.split(',').map((x) => x.trim()).filter((x) => x !== '');
  }
  throw new SettingsError(key, `expected a list, got ${JSON.stringify(v)}`);
}

function url(key: string, v: Raw): string {
  const s = str(key, v);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new SettingsError(key, `expected an absolute https URL, got ${JSON.stringify(v)}`);
  }
  if (u.protocol !== 'https:') throw new SettingsError(key, `expected an https URL, got ${JSON.stringify(v)}`);
  return s;
}

/** The repository root: a `scoringConfig` file path is relative to it (where cdk.json is). */
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * Longest CLM_SCORING_CONFIG: Lambda allows 4 KB for all of a function's environment variables
 * together, and the nightly function's others (names, settings, Powertools) take under 1 KB.
 */
export const MAX_SCORING_CONFIG_BYTES = 3000;

/**
 * `scoringConfig`: a JSON object (in cdk.json), its JSON text (`-c scoringConfig='{…}'`) or the
 * path of a JSON file relative to the repository root (`-c scoringConfig=config/scoring.json`),
 * validated as the function validates CLM_SCORING_CONFIG.
 */
function scoringConfigSetting(v: Raw): Record<string, unknown> {
  const key = 'scoringConfig';
  let input: unknown = v;
  if (typeof v === 'string') {
    const t = v.trim();
    let text = t;
    let from = 'the value';
    if (!t.startsWith('{')) {
      if (!t.endsWith('.json')) throw new SettingsError(key, `expected a JSON object or the path of a .json file in the repository, got ${JSON.stringify(v)}`);
      try {
        text = readFileSync(resolve(REPO_ROOT, t), 'utf8');
      } catch (e) {
        throw new SettingsError(key, `cannot read ${t} (relative to the repository root): ${(e as Error).message}`);
      }
      from = t;
    }
    try {
      input = JSON.parse(text);
    } catch {
      throw new SettingsError(key, `${from} is not valid JSON`);
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new SettingsError(key, `expected a JSON object, got ${JSON.stringify(input)}`);
  const parsed = parseScoringConfig(input);
  if (!parsed.ok) throw new SettingsError(key, parsed.issues.join('; '));
  const bytes = Buffer.byteLength(JSON.stringify(input), 'utf8');
  if (bytes > MAX_SCORING_CONFIG_BYTES) {
    throw new SettingsError(key, `is ${bytes} bytes as JSON, more than the ${MAX_SCORING_CONFIG_BYTES} a Lambda environment variable can take beside the others; set only what differs from the defaults`);
  }
  return input as Record<string, unknown>;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Validates raw context values (as found in cdk.json or passed with -c, where
 * everything arrives as a string) and fills in the defaults.
 */
export function parseSettings(get: (key: string) => Raw, env: NodeJS.ProcessEnv = process.env): Settings {
  const val = <T>(key: string, parse: (v: Raw) => T, fallback: T): T => {
    const v = get(key);
    return isUnset(v) ? fallback : parse(v);
  };

  for (const [key, replacement] of Object.entries(REMOVED_SETTINGS)) {
    if (!isUnset(get(key))) throw new SettingsError(key, `this setting was removed: ${replacement}`);
  }

  const stackName = val('stackName', (v) => {
    const s = str('stackName', v);
    if (!STACK_NAME.test(s)) throw new SettingsError('stackName', `expected letters, digits and hyphens starting with a letter, got ${JSON.stringify(v)}`);
    return s;
  }, settingDefaults.stackName);

  const senderAddress = val('senderAddress', (v) => {
    const s = str('senderAddress', v);
    if (!EMAIL.test(s)) throw new SettingsError('senderAddress', `expected an email address such as news@mail.example.com, got ${JSON.stringify(v)}`);
    return s;
  }, settingDefaults.senderAddress);
  const addressDomain = senderAddress.slice(senderAddress.lastIndexOf('@') + 1).toLowerCase();

  const senderDomain = val('senderDomain', (v) => {
    const s = str('senderDomain', v).toLowerCase();
    if (!DOMAIN.test(s)) throw new SettingsError('senderDomain', `expected a domain name such as mail.example.com, got ${JSON.stringify(v)}`);
    if (addressDomain !== s && !addressDomain.endsWith(`.${s}`)) {
      throw new SettingsError('senderDomain', `the sender address ${senderAddress} is not in the domain ${s}`);
    }
    return s;
  }, addressDomain);

  const nightlySchedule = val('nightlySchedule', (v) => {
    const s = str('nightlySchedule', v);
    if (!CRON.test(s)) {
      throw new SettingsError('nightlySchedule', `expected an EventBridge Scheduler cron expression with six fields such as "cron(0 2 * * ? *)", got ${JSON.stringify(v)}`);
    }
    return s;
  }, settingDefaults.nightlySchedule);

  const nightlyTimeZone = val('nightlyTimeZone', (v) => {
    const s = str('nightlyTimeZone', v);
    if (!isValidTimeZone(s)) throw new SettingsError('nightlyTimeZone', `expected an IANA time zone such as Europe/Amsterdam or UTC, got ${JSON.stringify(v)}`);
    return s;
  }, settingDefaults.nightlyTimeZone);

  const timerSweepSchedule = val('timerSweepSchedule', (v) => {
    const s = str('timerSweepSchedule', v).trim();
    const m = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(s);
    const n = Number(m?.[1]);
    const unit = m?.[2] ?? '';
    // Scheduler's own form: a singular unit for 1, the plural otherwise.
    const wellFormed = m !== null && n >= 1 && (n === 1) === !unit.endsWith('s');
    const minutes = n * (unit.startsWith('hour') ? 60 : 1);
    if (!wellFormed || minutes > 60) {
      throw new SettingsError('timerSweepSchedule', `expected an EventBridge Scheduler rate expression of 1 to 60 minutes such as "rate(5 minutes)" or "rate(1 minute)", got ${JSON.stringify(v)}`);
    }
    return s;
  }, settingDefaults.timerSweepSchedule);

  const alarmEmail = val<string | undefined>('alarmEmail', (v) => {
    const s = str('alarmEmail', v);
    if (!EMAIL.test(s)) throw new SettingsError('alarmEmail', `expected an email address, got ${JSON.stringify(v)}`);
    return s;
  }, undefined);

  const account = val<string | undefined>('account', (v) => {
    const s = str('account', String(v));
    if (!ACCOUNT.test(s)) throw new SettingsError('account', `expected a 12-digit AWS account id, got ${JSON.stringify(v)}`);
    return s;
  }, env.CDK_DEFAULT_ACCOUNT || undefined);

  const region = val<string | undefined>('region', (v) => {
    const s = str('region', v);
    if (!REGION.test(s)) throw new SettingsError('region', `expected an AWS region such as eu-west-1, got ${JSON.stringify(v)}`);
    return s;
  }, env.CDK_DEFAULT_REGION || undefined);

  const tableDeletionProtection = val('tableDeletionProtection', (v) => bool('tableDeletionProtection', v), settingDefaults.tableDeletionProtection);

  const sesSandbox = val('sesSandbox', (v) => bool('sesSandbox', v), settingDefaults.sesSandbox);
  const sesSandboxRecipients = val('sesSandboxRecipients', (v) => {
    const ids = list('sesSandboxRecipients', v).map((x) => x.toLowerCase());
    for (const id of ids) {
      if (!EMAIL.test(id) && !DOMAIN.test(id)) throw new SettingsError('sesSandboxRecipients', `expected verified e-mail addresses or domains, got ${JSON.stringify(id)}`);
    }
    return [...new Set(ids)];
  }, [...settingDefaults.sesSandboxRecipients]);
  if (sesSandboxRecipients.length > 0 && !sesSandbox) {
    throw new SettingsError('sesSandboxRecipients', 'only applies with sesSandbox=true (outside the sandbox SES does not check recipients)');
  }
  const sesMaxSendRate = val('sesMaxSendRate', (v) => int('sesMaxSendRate', v, 1, 10000), sesSandbox ? SES_SANDBOX_SEND_RATE : SES_PRODUCTION_SEND_RATE);

  const producerAccountIds = val('producerAccountIds', (v) => {
    const ids = list('producerAccountIds', v);
    for (const id of ids) {
      if (!ACCOUNT.test(id)) throw new SettingsError('producerAccountIds', `expected 12-digit AWS account ids, got ${JSON.stringify(id)}`);
    }
    return [...new Set(ids)];
  }, [...settingDefaults.producerAccountIds]);

  const logRetentionDays = val('logRetentionDays', (v) => {
    const n = int('logRetentionDays', v, 1, 3653);
    if (!(LOG_RETENTION_DAYS as readonly number[]).includes(n)) {
      throw new SettingsError('logRetentionDays', `CloudWatch Logs accepts ${LOG_RETENTION_DAYS.join(', ')}; got ${n}`);
    }
    return n;
  }, settingDefaults.logRetentionDays);

  const removalPolicy = val('removalPolicy', (v) => {
    const s = str('removalPolicy', v).toLowerCase();
    if (s !== 'retain' && s !== 'destroy') throw new SettingsError('removalPolicy', `expected "retain" or "destroy", got ${JSON.stringify(v)}`);
    return s as RemovalPolicySetting;
  }, settingDefaults.removalPolicy);
  if (tableDeletionProtection && removalPolicy === 'destroy') {
    throw new SettingsError('tableDeletionProtection', 'deletion protection would make the stack fail to delete the table that removalPolicy=destroy deletes; use one or the other');
  }

  const logLevel = val('logLevel', (v) => {
    const s = str('logLevel', v).toUpperCase();
    if (!['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(s)) throw new SettingsError('logLevel', `expected DEBUG, INFO, WARN or ERROR, got ${JSON.stringify(v)}`);
    return s as LogLevelSetting;
  }, settingDefaults.logLevel);

  return {
    stackName,
    account,
    region,
    senderAddress,
    senderDomain,
    createSenderIdentity: val('createSenderIdentity', (v) => bool('createSenderIdentity', v), settingDefaults.createSenderIdentity),
    tableDeletionProtection,
    sesSandbox,
    sesSandboxRecipients,
    sesMaxSendRate,
    nightlySchedule,
    nightlyTimeZone,
    timerSweepSchedule,
    alarmEmail,
    eventArchiveDays: val('eventArchiveDays', (v) => int('eventArchiveDays', v, 0, 36500), settingDefaults.eventArchiveDays),
    eventRetentionDays: val('eventRetentionDays', (v) => int('eventRetentionDays', v, 1, 36500), settingDefaults.eventRetentionDays),
    controlGroupPercent: val('controlGroupPercent', (v) => int('controlGroupPercent', v, 0, 100), settingDefaults.controlGroupPercent),
    controlGroupExperiment: val('controlGroupExperiment', (v) => {
      const s = str('controlGroupExperiment', v);
      if (!EXPERIMENT.test(s)) throw new SettingsError('controlGroupExperiment', `expected 1 to 64 letters, digits, dots, hyphens or underscores such as v2, got ${JSON.stringify(v)}`);
      return s;
    }, settingDefaults.controlGroupExperiment),
    frequencyCapPerWeek: val('frequencyCapPerWeek', (v) => int('frequencyCapPerWeek', v, 0, 100), settingDefaults.frequencyCapPerWeek),
    circuitBreaker: val('circuitBreaker', (v) => jsonObjectSetting('circuitBreaker', v, (input) => parseBreakerPolicy(input, defaults.circuitBreaker)), { ...settingDefaults.circuitBreaker }),
    unsubscribeBaseUrl: val('unsubscribeBaseUrl', (v) => url('unsubscribeBaseUrl', v), settingDefaults.unsubscribeBaseUrl),
    helpBaseUrl: val('helpBaseUrl', (v) => url('helpBaseUrl', v), settingDefaults.helpBaseUrl),
    pagesBaseUrl: val<string | undefined>('pagesBaseUrl', (v) => url('pagesBaseUrl', v), undefined),
    producerAccountIds,
    logRetentionDays,
    removalPolicy,
    logLevel,
    scoringConfig: val('scoringConfig', (v) => scoringConfigSetting(v), { ...settingDefaults.scoringConfig }),
    reportSchedule: val('reportSchedule', (v) => {
      const s = str('reportSchedule', v);
      if (!CRON.test(s)) throw new SettingsError('reportSchedule', `expected an EventBridge Scheduler cron expression with six fields such as "cron(0 6 * * ? *)", got ${JSON.stringify(v)}`);
      return s;
    }, settingDefaults.reportSchedule),
    reportSettings: val('reportSettings', (v) => reportSettingsSetting(v), { ...settingDefaults.reportSettings }),
    winbackPermissionMonths: val('winbackPermissionMonths', (v) => int('winbackPermissionMonths', v, 1, 120), settingDefaults.winbackPermissionMonths),
    winbackDelaysDays: val('winbackDelaysDays', (v) => {
      const days = (Array.isArray(v) ? v : list('winbackDelaysDays', v)).map((d) => int('winbackDelaysDays', d as Raw, 1, 3650));
      if (days.length === 0 || days.length > 10 || days.some((d, i) => i > 0 && d <= days[i - 1]!)) {
        throw new SettingsError('winbackDelaysDays', `expected 1 to 10 whole numbers of days in increasing order such as [14, 60, 180], got ${JSON.stringify(v)}`);
      }
      return days;
    }, [...settingDefaults.winbackDelaysDays]),
    winbackHighValueMinClv: val('winbackHighValueMinClv', (v) => int('winbackHighValueMinClv', v, 0, 1_000_000_000), settingDefaults.winbackHighValueMinClv),
    winbackPersonalOutreach: val('winbackPersonalOutreach', (v) => {
      if (v === 'instead' || v === 'before' || v === 'off') return v;
      throw new SettingsError('winbackPersonalOutreach', `expected instead, before or off, got ${JSON.stringify(v)}`);
    }, settingDefaults.winbackPersonalOutreach),
  };
}

/** `reportSettings`: a JSON object (in cdk.json) or its JSON text (`-c reportSettings='{"costPerContact": 20}'`), validated as the function validates CLM_REPORT_SETTINGS. */
function reportSettingsSetting(v: Raw): Record<string, unknown> {
  return jsonObjectSetting('reportSettings', v, parseReportSettings);
}

/** A setting that is a JSON object (in cdk.json) or its JSON text (`-c key='{…}'`), validated with the function's own parser. */
function jsonObjectSetting(key: string, v: Raw, parse: (input: unknown) => { ok: true } | { ok: false; issues: string[] }): Record<string, unknown> {
  let input: unknown = v;
  if (typeof v === 'string') {
    try {
      input = JSON.parse(v);
    } catch {
      throw new SettingsError(key, 'is not valid JSON');
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new SettingsError(key, `expected a JSON object, got ${JSON.stringify(input)}`);
  const parsed = parse(input);
  if (!parsed.ok) throw new SettingsError(key, parsed.issues.join('; '));
  return input as Record<string, unknown>;
}

/** Reads the settings from a construct node's context (the App's, in infra/app.ts). */
export function settingsFromContext(node: Node, env: NodeJS.ProcessEnv = process.env): Settings {
  return parseSettings((key) => node.tryGetContext(key), env);
}
