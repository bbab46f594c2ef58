/**
 * The churn triggers as data: the schema of config/triggers.json (the file a marketer edits;
 * docs/triggers.md lists each trigger and shows how to add one), validated with zod. The file
 * is bundled with the functions, so a change is deployed with the stack and needs no code
 * change; the stream filter is derived from it (shared/wiring.ts). A bad definition fails
 * `cdk synth`, `npm start` and the tests with a message naming the trigger and the field.
 * `CLM_TRIGGERS_FILE` points all of them at another file (`triggerConfigFile`); the stack then
 * ships that file beside every function's bundle, where the functions read it.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { inboundDetailTypes, nextActions, supportReasons, orderStatuses, type InboundDetailType } from '../events/catalog.ts';
import rawConfig from '../../config/triggers.json' with { type: 'json' };

const days = z.number().int().min(1).max(366);
const ratio = z.number().gt(0).lt(1);

/** Parameters of each trigger type (docs/triggers.md, "Trigger types"). */
export const triggerParams = {
  /** Support calls with one of `reasons` logged within `windowDays` (inclusive) up to the call: at least `minCount`. */
  'support-calls': z.strictObject({
    reasons: z.array(z.enum(supportReasons)).min(1),
    minCount: z.number().int().min(1).max(100),
    windowDays: days,
  }),
  /** A support call resolved after more than `maxResolutionMinutes`, or closed unresolved (if `unresolved`). */
  'slow-resolution': z.strictObject({
    maxResolutionMinutes: z.number().int().min(1),
    unresolved: z.boolean(),
    /** As a signal of a collective trigger: resolutions within this many days count. */
    windowDays: days.default(30),
  }),
  /** A product's last complete month of usage below `ratio` × the mean of the `baselineMonths` months before it, the mean at least `minBaseline`. */
  'usage-decline': z.strictObject({
    ratio,
    baselineMonths: z.number().int().min(1).max(12),
    /** The baseline's mean per month must be above zero and at least this (light users do not fire). */
    minBaseline: z.number().nonnegative(),
  }),
  /** No usage of a product for `days` days where there was usage in at least `minActiveMonths` months before (a timer). */
  'usage-stopped': z.strictObject({
    days,
    minActiveMonths: z.number().int().min(1).max(12),
  }),
  /** Returns within `windowDays` (with a reason in `reasons`, if given; compared without case): at least `minCount` and worth at least `minValue`. */
  returns: z.strictObject({
    windowDays: days,
    minCount: z.number().int().min(1),
    minValue: z.number().nonnegative(),
    reasons: z.array(z.string().trim().min(1).max(200)).min(1).optional(),
  }),
  /** Failed payments within `windowDays` (inclusive): at least `minCount`. */
  'payment-failures': z.strictObject({ minCount: z.number().int().min(1).max(20), windowDays: days }),
  /** A subscription downgraded (as a signal: within `windowDays`). */
  downgrade: z.strictObject({ windowDays: days.default(30) }),
  /** A subscription cancelled (with permission to contact about coming back, if `requireWinbackPermission`; as a signal: within `windowDays`). */
  cancellation: z.strictObject({ requireWinbackPermission: z.boolean(), windowDays: days.default(30) }),
  /** The customer asked to cancel (a CancellationRequested; as a signal: within `windowDays`): a save offer before she goes. */
  'cancellation-request': z.strictObject({ windowDays: days.default(30) }),
  /** Spend in the last `recentDays` below `ratio` × the spend of the `baselineDays` before them scaled to `recentDays`; that baseline at least `minBaselineSpend`. */
  'spend-drop': z.strictObject({
    recentDays: days,
    baselineDays: z.number().int().min(1).max(1095),
    ratio,
    minBaselineSpend: z.number().nonnegative(),
  }),
  /** An order in one of `statuses` for longer than `days` days (a timer). */
  'order-stuck': z.strictObject({ statuses: z.array(z.enum(orderStatuses)).min(1), days }),
} as const;

export type SignalType = keyof typeof triggerParams;
export const signalTypes = Object.keys(triggerParams) as SignalType[];
export type TriggerType = SignalType | 'collective';

/** Types that fire from a timer (the absence of an event), not from an arriving event. */
export const timerTypes: readonly SignalType[] = ['usage-stopped', 'order-stuck'];

/** The events each type can read (the first are its defaults); a type about one event reads that one only. */
export const typeEvents: Record<SignalType, readonly InboundDetailType[]> = {
  'support-calls': ['SupportCallLogged'],
  'slow-resolution': ['SupportCallResolved'],
  'usage-decline': ['UsageRecorded'],
  'usage-stopped': ['UsageRecorded'],
  returns: ['OrderReturned'],
  'payment-failures': ['PaymentFailed'],
  downgrade: ['SubscriptionChanged'],
  cancellation: ['SubscriptionCancelled'],
  'cancellation-request': ['CancellationRequested'],
  'spend-drop': ['OrderPlaced', 'OrderReturned'],
  'order-stuck': ['OrderPlaced', 'OrderStatusChanged'],
};

const signal = z.discriminatedUnion(
  'type',
  signalTypes.map((t) =>
    z.strictObject({
      type: z.literal(t),
      params: triggerParams[t],
      /** This signal's weight in the collective sum. */
      weight: z.number().positive().max(10),
    }),
  ) as never as [z.ZodObject<{ type: z.ZodLiteral<SignalType>; params: z.ZodType; weight: z.ZodNumber }>],
);
export type Signal = { type: SignalType; params: Record<string, unknown>; weight: number };

/**
 * How often a trigger may fire for one customer: once per event (for a timer trigger: once per occurrence of the state — an
 * order's stay in a status, a product's last use), once per calendar month (UTC), or once per period of N days (from the epoch).
 */
const cooldown = z.union([z.literal('per-event'), z.literal('per-month'), z.strictObject({ days })]);
export type Cooldown = z.infer<typeof cooldown>;

const triggerBase = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and hyphens, at most 63, starting with a letter or digit'),
  description: z.string().trim().min(1).max(500),
  enabled: z.boolean(),
  /** Detail-types this trigger reads (default: its type's); the stream filter is the union over the enabled triggers. */
  events: z.array(z.enum(inboundDetailTypes as [InboundDetailType, ...InboundDetailType[]])).min(1).optional(),
  /** Added to the customer's churn risk while the trigger is active (decaying; docs/triggers.md), and its weight as a signal. */
  weight: z.number().min(0).max(1),
  cooldown,
  /** The action it recommends (the campaign or the outreach task follows from it). */
  action: z.enum(nextActions),
};

const trigger = z.discriminatedUnion('type', [
  ...signalTypes.map((t) => z.strictObject({ ...triggerBase, type: z.literal(t), params: triggerParams[t] })),
  z.strictObject({
    ...triggerBase,
    type: z.literal('collective'),
    params: z.strictObject({
      /** Fires when the weights of the active signals add up to at least this. */
      threshold: z.number().positive(),
      signals: z.array(signal).min(2).max(10),
    }),
  }),
] as never as [z.ZodObject<typeof triggerBase & { type: z.ZodLiteral<TriggerType>; params: z.ZodType }>]);

export type TriggerDefinition = {
  id: string;
  description: string;
  enabled: boolean;
  type: TriggerType;
  /** Always set after parsing (the type's defaults when the file leaves it out). */
  events: InboundDetailType[];
  params: Record<string, unknown>;
  weight: number;
  cooldown: Cooldown;
  action: (typeof nextActions)[number];
};

const configSchema = z.strictObject({
  /** Events that happened longer ago than this (relative to now) fire nothing: triggers are for what is happening, not history being loaded. */
  maxEventAgeDays: days,
  /** Who gets a personal-outreach task instead of the automated email (docs/triggers.md, "Routing by value"). */
  routing: z.strictObject({
    /** Value tiers (the nightly score's `valueTier`) routed to people, e.g. ["high"]. */
    outreachTiers: z.array(z.string().min(1)).default([]),
    /** A CLV at or above this routes to people too (absent: the tier alone decides). */
    outreachMinClv: z.number().nonnegative().optional(),
    /** Outreach tasks the team takes per day (UTC); beyond it, the customer gets the email. */
    outreachTasksPerDay: z.number().int().min(0).max(100_000),
  }),
  triggers: z.array(trigger).min(1),
});

export type TriggerConfig = {
  maxEventAgeDays: number;
  routing: { outreachTiers: string[]; outreachMinClv?: number; outreachTasksPerDay: number };
  triggers: TriggerDefinition[];
};

export class TriggerConfigError extends Error {
  override name = 'TriggerConfigError';
}

/** The first issues of a failed parse, each naming the trigger (by id, else its position) and the field. */
function describeIssues(input: unknown, issues: readonly z.core.$ZodIssue[], source: string): string {
  const list = (input as { triggers?: unknown })?.triggers;
  const lines = issues.slice(0, 5).map((issue) => {
    const path = [...issue.path];
    if (path[0] === 'triggers' && typeof path[1] === 'number') {
      const id = Array.isArray(list) ? (list[path[1]] as { id?: unknown })?.id : undefined;
      const who = typeof id === 'string' ? `trigger "${id}" (triggers[${path[1]}])` : `triggers[${path[1]}]`;
      const field = path.slice(2).join('.') || '(the trigger)';
      return `${who}, field ${field}: ${issue.message}`;
    }
    return `field ${path.join('.') || '(the file)'}: ${issue.message}`;
  });
  return `invalid trigger configuration in ${source}:\n  ${lines.join('\n  ')}`;
}

/** Validates a trigger configuration; throws a TriggerConfigError naming the trigger and the field. */
export function parseTriggerConfig(input: unknown, source = 'config/triggers.json'): TriggerConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new TriggerConfigError(describeIssues(input, parsed.error.issues, source));
  const config = parsed.data as unknown as { maxEventAgeDays: number; routing: TriggerConfig['routing']; triggers: (Omit<TriggerDefinition, 'events'> & { events?: InboundDetailType[] })[] };
  const problems: string[] = [];
  const seen = new Set<string>();
  const triggers = config.triggers.map((t, i): TriggerDefinition => {
    const who = `trigger "${t.id}" (triggers[${i}])`;
    if (seen.has(t.id)) problems.push(`${who}, field id: another trigger has the id "${t.id}"`);
    seen.add(t.id);
    const signals = t.type === 'collective' ? (t.params.signals as Signal[]) : [];
    const allowed = new Set(t.type === 'collective' ? signals.flatMap((s) => typeEvents[s.type]) : typeEvents[t.type]);
    const events = t.events ?? [...allowed];
    for (const e of events) if (!allowed.has(e)) problems.push(`${who}, field events: a ${t.type} trigger reads ${[...allowed].join(', ')}, not ${e}`);
    if (t.type === 'collective') {
      const total = signals.reduce((s, x) => s + x.weight, 0);
      if ((t.params.threshold as number) > total) problems.push(`${who}, field params.threshold: ${t.params.threshold} is more than the signals' weights add up to (${total}), so it could never fire`);
    }
    if (t.type === 'spend-drop' && (t.params.baselineDays as number) < (t.params.recentDays as number)) {
      problems.push(`${who}, field params.baselineDays: must be at least recentDays (${t.params.recentDays})`);
    }
    return { ...t, events };
  });
  if (problems.length) throw new TriggerConfigError(`invalid trigger configuration in ${source}:\n  ${problems.slice(0, 5).join('\n  ')}`);
  return { maxEventAgeDays: config.maxEventAgeDays, routing: config.routing, triggers };
}

/** The environment variable that points `cdk synth`, `npm start`, the tests and `clm` at another trigger configuration file. */
export const TRIGGERS_FILE_ENV = 'CLM_TRIGGERS_FILE';
/** The name of the copy beside a Lambda function's bundle (infra/stack.ts ships it when CLM_TRIGGERS_FILE is set). */
export const BUNDLED_TRIGGERS_FILE = 'triggers.json';

/** Reads and validates a trigger configuration file; a file that cannot be read or is not JSON is a TriggerConfigError too. */
export function loadTriggerConfig(file: string): TriggerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TriggerConfigError(`cannot read the trigger configuration ${file}: ${(e as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (e) {
    throw new TriggerConfigError(`invalid trigger configuration in ${file}: not JSON (${(e as Error).message})`);
  }
  return parseTriggerConfig(input, file);
}

/**
 * The trigger configuration file in use when it is not the repository's config/triggers.json (which
 * is bundled into the code): `CLM_TRIGGERS_FILE` (a path, relative to the working directory), else
 * a copy beside the Lambda bundle. Undefined: the repository's.
 */
export function triggerConfigFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env[TRIGGERS_FILE_ENV]?.trim();
  if (file) return path.resolve(file);
  const bundled = path.join(path.dirname(fileURLToPath(import.meta.url)), BUNDLED_TRIGGERS_FILE);
  return existsSync(bundled) ? bundled : undefined;
}

/** The file `triggerConfig` was read from when it is not the repository's (undefined: config/triggers.json, bundled into the code). */
export const triggerConfigSource: string | undefined = triggerConfigFile();
/** The configuration in use (config/triggers.json, or the file `triggerConfigFile` names), validated when this module loads. */
export const triggerConfig: TriggerConfig = triggerConfigSource ? loadTriggerConfig(triggerConfigSource) : parseTriggerConfig(rawConfig);

/** Detail-types the enabled triggers read, in catalog order: the stream subscription's filter is built from this. */
export function eventTypesOf(config: TriggerConfig): InboundDetailType[] {
  const read = new Set(config.triggers.filter((t) => t.enabled).flatMap((t) => t.events));
  return inboundDetailTypes.filter((t) => read.has(t));
}
