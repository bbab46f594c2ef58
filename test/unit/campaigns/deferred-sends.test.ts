/**
 * A send deferred to the customer's hour, end to end on the in-memory ports: recorded
 * `deferred` with a campaign-send timer; the sweep before its time fires nothing; at its time
 * the timer puts CampaignSendDue on the bus, which becomes the same request, planned again
 * (consent as it is then) and sent once.
 */
import { describe, expect, it } from 'vitest';
import { CAMPAIGN_SEND_TIMER_KIND, campaignSendTimerHandler, requestFromSendDue, timerDeferredSends } from '../../../shared/campaigns/deferred-sends.ts';
import { handleRequest } from '../../../shared/campaigns/send-campaign.ts';
import type { CampaignRequest } from '../../../shared/campaigns/requests.ts';
import { emittedSchemas, type EmittedDetail } from '../../../shared/events/catalog.ts';
import { InMemoryTimerStore } from '../../../shared/timers/in-memory-timer-store.ts';
import { sweepTimers } from '../../../shared/timers/sweep.ts';
import type { EventPublisher, Mailer } from '../../../shared/ports.ts';
import { businessEvent } from '../../support/events.ts';
import { MemoryCustomerStore } from '../../support/memory-store.ts';

const request: CampaignRequest = { requestId: 'nba#up-sell#2026-11-02', customerId: 'c-1', campaign: 'up-sell', source: 'next-best-action', rule: '', nextBestAction: 'up-sell' };

async function setup(consent: boolean) {
  const store = new MemoryCustomerStore();
  const timers = new InMemoryTimerStore();
  let now = new Date('2026-11-02T09:00:00.000Z');
  await store.recordEvents('c-1', [
    businessEvent('CustomerProfileUpdated', { customerId: 'c-1', email: 'ada@example.com', firstName: 'Ada', timeZone: 'Europe/London', preferredHour: 18, occurredAt: '2026-10-01T00:00:00Z' }),
    businessEvent('ConsentChanged', { customerId: 'c-1', granted: consent, occurredAt: '2026-10-02T00:00:00Z' }),
  ], now);
  const due: EmittedDetail<'CampaignSendDue'>[] = [];
  const publisher: EventPublisher = {
    publish: async (events) => {
      for (const e of events) if (e.detailType === 'CampaignSendDue') due.push(emittedSchemas.CampaignSendDue.parse(e.detail));
    },
  };
  const sent: string[] = [];
  const mailer: Mailer = { send: async ({ to }) => (sent.push(`${to}@${now.toISOString()}`), { messageId: `m-${sent.length}` }) };
  const deps = () => ({
    store, mailer, publisher, now: () => now,
    links: { unsubscribeBaseUrl: 'https://x.test/u', helpBaseUrl: 'https://x.test/learn' },
    policy: { controlGroupPercent: 0, controlGroupExperiment: 'v1', frequencyCapPerWeek: 2, cooldownDays: {}, holdoutPercent: 0 },
    deferred: timerDeferredSends(timers, () => now),
  });
  const sweep = () => sweepTimers({ timers, handlers: { [CAMPAIGN_SEND_TIMER_KIND]: campaignSendTimerHandler({ publisher }) }, now: () => now });
  return { store, timers, due, sent, deps, sweep, at: (iso: string) => (now = new Date(iso)) };
}

describe('deferred sends on durable timers', () => {
  it('waits for 18:00 London, then goes once', async () => {
    const t = await setup(true);
    expect(await handleRequest(request, t.deps())).toEqual({ outcome: 'deferred', sendId: 'up-sell#nba#up-sell#2026-11-02', reason: 'preferred-hour', until: '2026-11-02T18:00:00.000Z' });
    // Redelivered before its time: the same timer, not a second one.
    expect((await handleRequest(request, t.deps())).outcome).toBe('deferred');
    t.at('2026-11-02T17:59:00.000Z');
    expect((await t.sweep()).fired).toBe(0);
    t.at('2026-11-02T18:02:00.000Z');
    expect((await t.sweep()).fired).toBe(1);
    expect(t.due).toHaveLength(1);
    const back = requestFromSendDue(t.due[0]!)!;
    expect(back).toEqual(request);
    expect(await handleRequest(back, t.deps())).toMatchObject({ outcome: 'sent' });
    expect(await handleRequest(back, t.deps())).toMatchObject({ outcome: 'already-done' });
    expect(t.sent).toEqual(['ada@example.com@2026-11-02T18:02:00.000Z']);
    expect((await t.sweep()).fired).toBe(0);
  });

  it('consent withdrawn while it waited: planned again, skipped, not sent', async () => {
    const t = await setup(true);
    await handleRequest(request, t.deps());
    await t.store.recordEvents('c-1', [businessEvent('ConsentChanged', { customerId: 'c-1', granted: false, occurredAt: '2026-11-02T10:00:00Z' })], new Date());
    t.at('2026-11-02T18:01:00.000Z');
    await t.sweep();
    expect(await handleRequest(requestFromSendDue(t.due[0]!)!, t.deps())).toMatchObject({ outcome: 'skipped', reason: 'no-marketing-consent' });
    expect(t.sent).toEqual([]);
  });

  it('a CampaignSendDue naming no campaign of this stack asks for nothing', () => {
    expect(requestFromSendDue({ ...request, campaign: 'loyalty', dueAt: '2026-11-02T18:00:00.000Z', schemaVersion: 1 })).toBeUndefined();
  });
});
