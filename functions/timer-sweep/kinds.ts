/**
 * The timer kinds the sweep fires, and their handlers: each feature that sets timers registers
 * its kinds here (a kind the sweep finds without a handler is retried, then given up).
 * Handlers get the adapters from functions/commons/clients.ts, built on first use.
 */
import { triggerTimerHandler } from '../../shared/triggers/fire-triggers.ts';
import { TRIGGER_TIMER_KIND } from '../../shared/triggers/rules.ts';
import type { TimerHandlers } from '../../shared/timers/sweep.ts';
import { CAMPAIGN_SEND_TIMER_KIND, campaignSendTimerHandler } from '../../shared/campaigns/deferred-sends.ts';
import { customerStore, eventPublisher, outreachDesk, settings, timerStore, winbackStore } from '../commons/clients.ts';
import { WINBACK_TIMER_KIND } from '../../shared/winback/sequence.ts';
import { winbackStepHandler } from '../../shared/winback/track.ts';

export const timerHandlers = (): TimerHandlers => ({
  /** Churn triggers that fire from a timer: an order stuck in a status, usage that stopped (config/triggers.json). */
  [TRIGGER_TIMER_KIND]: triggerTimerHandler({ store: customerStore(), publisher: eventPublisher(), timers: timerStore(), desk: outreachDesk(), now: () => new Date() }),
  /** Sends deferred to the customer's hour (or paused): the request back to campaigns as CampaignSendDue (shared/campaigns/deferred-sends.ts). */
  [CAMPAIGN_SEND_TIMER_KIND]: campaignSendTimerHandler({ publisher: eventPublisher() }),
  /** The winback sequence's steps: a counter-offer (trigger and/or outreach task), or the sequence stops (shared/winback/). */
  [WINBACK_TIMER_KIND]: winbackStepHandler({
    store: customerStore(),
    publisher: eventPublisher(),
    winback: winbackStore(),
    timers: timerStore(),
    now: () => new Date(),
    policy: settings.winbackPolicy(),
    clvOf: (customerId) => winbackStore().formerClv(customerId),
  }),
});
