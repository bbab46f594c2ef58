/**
 * The trigger configuration's validation, field by field: every field of a trigger, every
 * parameter of every trigger type, a collective trigger's threshold and signals, and the top
 * level (freshness window, routing). Each bad value is refused with a message naming the
 * trigger (its id and position) and the field. (The files, `cdk synth` and `npm start`:
 * test/infra/trigger-config-file.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { parseTriggerConfig, signalTypes, triggerParams, TriggerConfigError, type SignalType } from '../../../shared/triggers/config.ts';

/** A valid definition of each type, with every parameter given. */
const paramsOf: Record<SignalType, Record<string, unknown>> = {
  'support-calls': { reasons: ['billing'], minCount: 1, windowDays: 30 },
  'slow-resolution': { maxResolutionMinutes: 2880, unresolved: true, windowDays: 30 },
  'usage-decline': { ratio: 0.5, baselineMonths: 3, minBaseline: 0 },
  'usage-stopped': { days: 30, minActiveMonths: 2 },
  returns: { windowDays: 90, minCount: 2, minValue: 0, reasons: ['damaged'] },
  'payment-failures': { minCount: 2, windowDays: 30 },
  downgrade: { windowDays: 30 },
  cancellation: { requireWinbackPermission: true, windowDays: 30 },
  'cancellation-request': { windowDays: 30 },
  'spend-drop': { recentDays: 90, baselineDays: 365, ratio: 0.5, minBaselineSpend: 200 },
  'order-stuck': { statuses: ['preparing'], days: 10 },
};

/** A bad value for each parameter (of the wrong kind or out of range), by name. */
const badParam: Record<string, unknown[]> = {
  reasons: [[], 'billing', ['sulking']],
  minCount: [0, 1.5, '2'],
  windowDays: [0, 367, 2.5],
  maxResolutionMinutes: [0, 'long'],
  unresolved: ['yes'],
  ratio: [0, 1, -0.5],
  baselineMonths: [0, 13],
  minBaseline: [-1],
  days: [0, 367],
  minActiveMonths: [0, 13],
  minValue: [-1],
  recentDays: [0],
  baselineDays: [0, 1096],
  minBaselineSpend: [-5],
  requireWinbackPermission: ['true'],
  statuses: [[], ['lost-in-the-post']],
};

/** Where a type takes other values than the others: a return's reasons are the producer's free text. */
const badParamOf: Partial<Record<SignalType, Record<string, unknown[]>>> = { returns: { reasons: [[], 'damaged', [''], ['x'.repeat(201)]] } };

const definition = (type: string, over: Record<string, unknown> = {}): Record<string, unknown> & { id: string; params: Record<string, unknown>; weight: number; events?: string[] } => ({
  id: `t-${type}`,
  description: `a ${type} trigger`,
  enabled: true,
  type,
  params: type === 'collective' ? collectiveParams() : structuredClone(paramsOf[type as SignalType]),
  weight: 0.2,
  cooldown: 'per-event',
  action: 'retention-save',
  ...over,
});
const collectiveParams = () => ({
  threshold: 2,
  signals: [
    { type: 'usage-stopped', params: structuredClone(paramsOf['usage-stopped']), weight: 1 },
    { type: 'support-calls', params: { reasons: ['network'], minCount: 1, windowDays: 30 }, weight: 1 },
  ],
});
/** A configuration of one trigger of each type, the collective last. */
const config = () => ({
  maxEventAgeDays: 14,
  routing: { outreachTiers: ['high'], outreachTasksPerDay: 50 },
  triggers: [...signalTypes.map((t) => definition(t)), definition('collective')],
});
type Config = ReturnType<typeof config>;
const COLLECTIVE = signalTypes.length;

const message = (mutate: (c: Config) => void): string => {
  const c = config();
  mutate(c);
  try {
    parseTriggerConfig(c, 'my-triggers.json');
  } catch (e) {
    expect(e).toBeInstanceOf(TriggerConfigError);
    return (e as Error).message;
  }
  throw new Error('accepted');
};
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The message names the trigger (id and position) and the field (or an element of it: `params.reasons.0`). */
const names = (i: number, id: string, field: string) => new RegExp(`^invalid trigger configuration in my-triggers\\.json:\\n  (.*\\n  )*trigger "${esc(id)}" \\(triggers\\[${i}\\]\\), field ${esc(field)}(\\.[\\w.]+)?: `);

describe('the trigger configuration', () => {
  it('accepts one trigger of every type with every parameter, and fills in the defaults', () => {
    const parsed = parseTriggerConfig(config());
    expect(parsed.triggers.map((t) => t.type)).toEqual([...signalTypes, 'collective']);
    const withoutOptional = config();
    delete (withoutOptional.triggers[1]!.params as Record<string, unknown>).windowDays;
    expect(parseTriggerConfig(withoutOptional).triggers[1]!.params.windowDays).toBe(30);
    expect(parseTriggerConfig(config()).triggers[COLLECTIVE]!.events).toEqual(['UsageRecorded', 'SupportCallLogged']);
  });

  it('every parameter of the test table is a parameter of its type, and every parameter of every type is in the table', () => {
    for (const t of signalTypes) expect(Object.keys(paramsOf[t]).sort()).toEqual(Object.keys(triggerParams[t].shape).sort());
  });

  describe.each(signalTypes.map((t, i) => [t, i] as const))('a %s trigger', (type, i) => {
    it.each(Object.keys(paramsOf[type]).flatMap((p) => (badParamOf[type]?.[p] ?? badParam[p]!).map((v) => [p, v] as const)))('refuses params.%s = %j, naming the trigger and the field', (param, value) => {
      expect(message((c) => ((c.triggers[i]!.params as Record<string, unknown>)[param] = value))).toMatch(names(i, `t-${type}`, `params.${param}`));
    });
    it('refuses a missing required parameter and an unknown one', () => {
      const required = Object.entries(triggerParams[type].shape).find(([, s]) => !(s as { safeParse(v: unknown): { success: boolean } }).safeParse(undefined).success)?.[0];
      if (required) expect(message((c) => delete (c.triggers[i]!.params as Record<string, unknown>)[required])).toMatch(names(i, `t-${type}`, `params.${required}`));
      expect(message((c) => ((c.triggers[i]!.params as Record<string, unknown>).windowdays = 3))).toMatch(/field params: Unrecognized key: "windowdays"/);
    });
    it('refuses events its type does not read', () => {
      expect(message((c) => (c.triggers[i]!.events = ['AccountClosed']))).toMatch(names(i, `t-${type}`, 'events'));
    });
  });

  it.each([
    ['id', 'Billing Complaint'],
    ['id', ''],
    ['description', ''],
    ['description', 'x'.repeat(501)],
    ['enabled', 'yes'],
    ['type', 'sulking'],
    ['events', []],
    ['events', ['NoSuchEvent']],
    ['weight', -0.1],
    ['weight', 1.5],
    ['weight', 'high'],
    ['cooldown', 'per-week'],
    ['cooldown', { days: 0 }],
    ['cooldown', { weeks: 2 }],
    ['action', 'send-flowers'],
  ])('refuses a trigger with %s = %j, naming it and the field', (field, value) => {
    const id = field === 'id' ? String(value) : 't-downgrade';
    const i = signalTypes.indexOf('downgrade');
    expect(message((c) => ((c.triggers[i] as Record<string, unknown>)[field] = value))).toMatch(names(i, id, field));
  });

  it.each(['id', 'description', 'enabled', 'type', 'params', 'weight', 'cooldown', 'action'])('refuses a trigger without %s', (field) => {
    const i = signalTypes.indexOf('returns');
    const text = message((c) => delete (c.triggers[i] as Record<string, unknown>)[field]);
    expect(text).toMatch(field === 'id' ? new RegExp(`triggers\\[${i}\\], field id: `) : names(i, 't-returns', field));
  });

  it('refuses an unknown field of a trigger and a duplicate id', () => {
    expect(message((c) => ((c.triggers[0] as Record<string, unknown>).priority = 1))).toMatch(names(0, 't-support-calls', '(the trigger)'));
    expect(message((c) => (c.triggers[2]!.id = 't-support-calls'))).toMatch(names(2, 't-support-calls', 'id'));
  });

  it('refuses a spend-drop baseline shorter than its recent period', () => {
    const i = signalTypes.indexOf('spend-drop');
    expect(message((c) => ((c.triggers[i]!.params as Record<string, unknown>).baselineDays = 60))).toMatch(names(i, 't-spend-drop', 'params.baselineDays'));
  });

  describe('a collective trigger', () => {
    const signals = (c: Config) => (c.triggers[COLLECTIVE]!.params as ReturnType<typeof collectiveParams>).signals as Record<string, unknown>[];
    it.each([
      ['a threshold of 0', (c: Config) => ((c.triggers[COLLECTIVE]!.params as Record<string, unknown>).threshold = 0), 'params.threshold'],
      ['a threshold the weights cannot reach', (c: Config) => ((c.triggers[COLLECTIVE]!.params as Record<string, unknown>).threshold = 2.5), 'params.threshold'],
      ['one signal', (c: Config) => signals(c).pop(), 'params.signals'],
      ['eleven signals', (c: Config) => signals(c).push(...Array.from({ length: 9 }, () => structuredClone(signals(c)[1]!))), 'params.signals'],
      ['a signal of an unknown type', (c: Config) => (signals(c)[0]!.type = 'sulking'), 'params.signals.0.type'],
      ['a collective signal', (c: Config) => (signals(c)[0]!.type = 'collective'), 'params.signals.0.type'],
      ['a signal with a bad parameter', (c: Config) => ((signals(c)[1]!.params as Record<string, unknown>).minCount = 0), 'params.signals.1.params.minCount'],
      ['a signal with an unknown parameter', (c: Config) => ((signals(c)[0]!.params as Record<string, unknown>).weeks = 2), 'params.signals.0.params'],
      ['a signal without a weight', (c: Config) => delete signals(c)[1]!.weight, 'params.signals.1.weight'],
      ['a signal weight of 0', (c: Config) => (signals(c)[1]!.weight = 0), 'params.signals.1.weight'],
      ['an unknown field', (c: Config) => ((c.triggers[COLLECTIVE]!.params as Record<string, unknown>).minimum = 1), 'params'],
      ['an event none of its signals reads', (c: Config) => (c.triggers[COLLECTIVE]!.events = ['PaymentFailed']), 'events'],
    ])('refuses %s', (_, mutate, field) => {
      expect(message(mutate)).toMatch(names(COLLECTIVE, 't-collective', field));
    });
  });

  it.each([
    ['maxEventAgeDays', (c: Config) => ((c as Record<string, unknown>).maxEventAgeDays = 0)],
    ['maxEventAgeDays', (c: Config) => delete (c as Record<string, unknown>).maxEventAgeDays],
    ['routing.outreachTasksPerDay', (c: Config) => ((c.routing as Record<string, unknown>).outreachTasksPerDay = -1)],
    ['routing.outreachTasksPerDay', (c: Config) => ((c.routing as Record<string, unknown>).outreachTasksPerDay = 2.5)],
    ['routing.outreachMinClv', (c: Config) => ((c.routing as Record<string, unknown>).outreachMinClv = -100)],
    ['routing.outreachTiers.0', (c: Config) => ((c.routing as Record<string, unknown>).outreachTiers = [''])],
    ['routing', (c: Config) => ((c.routing as Record<string, unknown>).outreachPerDay = 5)],
    ['triggers', (c: Config) => (c.triggers = [])],
    ['(the file)', (c: Config) => ((c as Record<string, unknown>).trigger = [])],
  ])('refuses a bad %s at the top level, naming the field', (field, mutate) => {
    expect(message(mutate)).toMatch(new RegExp(`^invalid trigger configuration in my-triggers\\.json:\\n  (.*\\n  )*field ${esc(field)}: `));
  });

  it('names at most five problems, each on its own line', () => {
    const text = message((c) => c.triggers.forEach((t) => (t.weight = 2)));
    expect(text.split('\n')).toHaveLength(6);
    expect(text).toMatch(names(4, 't-returns', 'weight'));
  });
});
