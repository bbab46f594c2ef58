/**
 * The timer kinds the sweep fires, and their handlers: each feature that sets timers registers
 * its kinds here (a kind the sweep finds without a handler is retried, then given up).
 * Handlers get the adapters from functions/commons/clients.ts, built on first use.
 */
import type { TimerHandlers } from '../../shared/timers/sweep.ts';

export const timerHandlers = (): TimerHandlers => ({});
