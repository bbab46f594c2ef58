/**
 * The timer kinds the sweep fires, and their handlers: each feature that sets timers registers
 * its kinds here (a kind the sweep finds without a handler is retried, then given up).
 * Handlers get the adapters from functions/commons/clients.ts, built on first use.
 */
import { triggerTimerHandler } from '../../shared/triggers/fire-triggers.ts';
import { TRIGGER_TIMER_KIND } from '../../shared/triggers/rules.ts';
import type { TimerHandlers } from '../../shared/timers/sweep.ts';
import { customerStore, eventPublisher, outreachDesk, timerStore } from '../commons/clients.ts';

export const timerHandlers = (): TimerHandlers => ({
  /** Churn triggers that fire from a timer: an order stuck in a status, usage that stopped (config/triggers.json). */
  [TRIGGER_TIMER_KIND]: triggerTimerHandler({ store: customerStore(), publisher: eventPublisher(), timers: timerStore(), desk: outreachDesk(), now: () => new Date() }),
});
