/**
 * A collective trigger with a timer signal end to end through the local stack, run on a trigger
 * configuration of its own (CLM_TRIGGERS_FILE, as `npm start` takes it): the repository's, with
 * `usage-stopped-with-network-complaint` enabled (stopped usage, weight 1, plus a network
 * complaint within 30 days, weight 1; threshold 2) and the single `usage-stopped` trigger
 * disabled. Events in → ingest → table stream → churn-triggers arms the signal's timer → the
 * clock moves forward (local/clock.ts) → the sweep or the arriving complaint completes the
 * collective trigger → ChurnTriggerFired → campaigns → the retention email.
 */
import { vi } from 'vitest';

const triggersFile = vi.hoisted(() => {
  // Before any module reads the configuration (imports are evaluated after this).
  const fs = process.getBuiltinModule('node:fs');
  const os = process.getBuiltinModule('node:os');
  const path = process.getBuiltinModule('node:path');
  const config = JSON.parse(fs.readFileSync(new URL('../../config/triggers.json', import.meta.url), 'utf8')) as { triggers: { id: string; enabled: boolean }[] };
  for (const t of config.triggers) {
    if (t.id === 'usage-stopped-with-network-complaint') t.enabled = true;
    if (t.id === 'usage-stopped') t.enabled = false;
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'clm-collective-')), 'triggers.json');
  fs.writeFileSync(file, JSON.stringify(config));
  process.env.CLM_TRIGGERS_FILE = file;
  return file;
});

import { describe, expect, it } from 'vitest';
import { advanceClock } from '../../local/clock.ts';
import { triggerConfig, triggerConfigSource } from '../../shared/triggers/config.ts';
import { localStackAtMidday } from '../support/local-stack-at-midday.ts';
import { emittedFor, putAndSettle } from '../support/local-stack-events.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const ID = 'usage-stopped-with-network-complaint';
const local = localStackAtMidday('clm-collective-', { afterStop: () => delete process.env.CLM_TRIGGERS_FILE });

/** A customer outside the retention campaign's control group (so the email is not held back). */
const customer = (prefix: string) => local.customerOutside(['retention-save'], prefix);
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const put = (entries: { type: string; detail: Record<string, unknown> }[]) => putAndSettle(local.stack, 'com.example.telco', entries);
const onboarding = (customerId: string) => [
  { type: 'CustomerProfileUpdated', detail: { eventId: `${customerId}-p`, customerId, occurredAt: ago(70 * DAY), email: `${customerId}@example.com`, firstName: 'Sam' } },
  { type: 'ConsentChanged', detail: { eventId: `${customerId}-c`, customerId, occurredAt: ago(70 * DAY), channel: 'email', purpose: 'marketing', granted: true } },
];
/** Usage of fibre 62 and 31 days ago and an hour ago: used in three months, so its stop is watched. */
const usage = (customerId: string) =>
  [62 * DAY, 31 * DAY, HOUR].map((a, i) => ({ type: 'UsageRecorded', detail: { eventId: `${customerId}-u${i}`, customerId, occurredAt: ago(a), productId: 'fibre', quantity: 40, unit: 'GB' } }));
const networkCall = (customerId: string, n: number) => ({ type: 'SupportCallLogged', detail: { eventId: `${customerId}-n${n}`, customerId, occurredAt: ago(60_000), callId: `k-${customerId}-${n}`, reason: 'network' } });
const triggers = (customerId: string) => emittedFor(local.stack, 'ChurnTriggerFired', customerId);

describe('a collective trigger over stopped usage and a network complaint, through the local stack', () => {
  it('runs on the configuration CLM_TRIGGERS_FILE names', () => {
    expect(triggerConfigSource).toBe(triggersFile);
    expect(triggerConfig.triggers.find((t) => t.id === ID)?.enabled).toBe(true);
  });

  it('the complaint first, the stop after: the sweep fires it once, 30 days after the last use and not before, and it is emailed; the stop first, the complaint after: the complaint fires it', async () => {
    const complainsFirst = customer('first');
    const stopsFirst = customer('stops');
    const start = Date.now();
    await put([...onboarding(complainsFirst), ...usage(complainsFirst), ...onboarding(stopsFirst), ...usage(stopsFirst)]);
    const noTriggers = { complainsFirst: triggers(complainsFirst), stopsFirst: triggers(stopsFirst) };
    expect(noTriggers).toEqual({ complainsFirst: [], stopsFirst: [] });

    // 20 days on, one complains about the network: one signal of two, nothing fires.
    advanceClock(start + 20 * DAY - Date.now());
    await put([networkCall(complainsFirst, 1)]);
    expect(triggers(complainsFirst)).toEqual([]);

    // 30 days after the last use, less a sweep interval: not yet.
    advanceClock(start + 30 * DAY - HOUR - 5 * 60_000 - Date.now());
    await local.stack.sweepTimers();
    expect(triggers(complainsFirst)).toEqual([]);

    // 30 days after the last use: the signal's timer completes the collective trigger; the other customer's fires nothing alone.
    advanceClock(start + 30 * DAY - HOUR + 5 * 60_000 - Date.now());
    const { result } = await local.stack.sweepTimers();
    expect(result).toMatchObject({ byKind: { 'churn-trigger': 2 } });
    expect(triggers(complainsFirst)).toEqual([
      expect.objectContaining({ rule: ID, kind: 'collective', action: 'retention-save', route: 'email', reasons: ['no usage of fibre for 30 days', '1 network complaint(s) in 30 days'] }),
    ]);
    expect(emittedFor(local.stack, 'EmailSent', complainsFirst)).toEqual([expect.objectContaining({ campaign: 'retention-save' })]);
    expect(triggers(stopsFirst)).toEqual([]);
    // Swept again: nothing more.
    expect((await local.stack.sweepTimers()).result).toMatchObject({ due: 0 });

    // Five days later the other customer complains, her usage still stopped: the complaint completes it.
    advanceClock(start + 35 * DAY - Date.now());
    await put([networkCall(stopsFirst, 1)]);
    expect(triggers(stopsFirst)).toEqual([expect.objectContaining({ rule: ID, kind: 'collective', sourceEventIds: [`${stopsFirst}-n1`] })]);
    expect(emittedFor(local.stack, 'EmailSent', stopsFirst)).toEqual([expect.objectContaining({ campaign: 'retention-save' })]);

    // Each once; no handler failed, nothing dead-lettered.
    expect(triggers(complainsFirst)).toHaveLength(1);
    const c = await local.stack.counters();
    expect(c.handlerErrors).toEqual([]);
    expect(Object.values(c.deadLetters).every((n) => n === 0)).toBe(true);
  }, 240_000);
});
