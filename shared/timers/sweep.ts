/**
 * Durable timers for what did NOT happen (an order stuck in a status, usage that stopped, a
 * send deferred to the customer's hour, a winback step days later): a feature sets a timer
 * when a state begins and moves or cancels it when the state ends; a scheduled sweep fires
 * the timers that are due by calling the handler registered for their `kind`.
 *
 * Delivery is at least once: the handler runs first and the timer is marked fired after, so
 * a sweep that dies in between fires it again on the next sweep. Handlers are therefore
 * idempotent (a churn trigger's id is deterministic, a send is claimed in the send ledger)
 * and check that the state still holds (a timer that could not be cancelled in time fires
 * into a state that has moved on, and does nothing). A handler that keeps failing is given
 * up after `maxAttempts` sweeps and kept with its error, so it does not block the others.
 *
 * The mechanism (docs/triggers.md): timer items in the table with a sparse due-time index
 * keyed by hour bucket and shard, swept every few minutes (functions/timer-sweep).
 */
import type { PendingTimer, TimerStore } from '../ports.ts';

/** Fires one due timer. Throws to have it retried on a later sweep. */
export type TimerHandler = (timer: PendingTimer, now: Date) => Promise<void>;

/** Handlers by timer kind: each feature registers its own kinds (functions/timer-sweep/kinds.ts). */
export type TimerHandlers = Readonly<Record<string, TimerHandler>>;

export type SweepOptions = {
  /** Timers read per page of due timers. */
  pageSize: number;
  /** Handlers run at once. */
  concurrency: number;
  /** Sweeps a failing timer is tried in before it is given up. */
  maxAttempts: number;
};

export const defaultSweepOptions: SweepOptions = { pageSize: 200, concurrency: 8, maxAttempts: 5 };

export type SweepResult = {
  /** Due timers read. */
  due: number;
  /** Handled and marked fired. */
  fired: number;
  /** Handled, but moved or cancelled meanwhile: not marked (a moved one fires at its new time). */
  superseded: number;
  /** Failed this time, to be retried on a later sweep. */
  retried: number;
  /** Failed for the last time: out of the index, kept with the error. */
  gaveUp: number;
  /** Fired per kind. */
  byKind: Record<string, number>;
  /** Stopped before every due timer was handled (time budget); the next sweep goes on. */
  truncated: boolean;
};

/** Runs `task` over the items with at most `limit` at once. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const message = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 500);

/**
 * Fires every timer due at `now()`: page by page, each page's handlers `concurrency` at a time,
 * until no due timer is left or `hasTime()` says the invocation's time is running out.
 * A kind without a handler counts as a failure (a deploy may add the handler; given up after
 * `maxAttempts`).
 */
export async function sweepTimers(deps: {
  timers: TimerStore;
  handlers: TimerHandlers;
  now: () => Date;
  options?: Partial<SweepOptions>;
  hasTime?: () => boolean;
  onFailure?: (timer: PendingTimer, error: string, outcome: 'retry' | 'gave-up') => void;
}): Promise<SweepResult> {
  const o = { ...defaultSweepOptions, ...deps.options };
  const result: SweepResult = { due: 0, fired: 0, superseded: 0, retried: 0, gaveUp: 0, byKind: {}, truncated: false };
  const hasTime = deps.hasTime ?? (() => true);
  // Timers that failed in this sweep are not tried again in it (they stay due until marked).
  const failedNow = new Set<string>();
  const id = (t: PendingTimer) => `${t.customerId}\n${t.kind}\n${t.key}`;
  for (;;) {
    if (!hasTime()) {
      result.truncated = true;
      break;
    }
    const sweepAt = deps.now();
    const page = (await deps.timers.due(sweepAt, o.pageSize + failedNow.size)).filter((t) => !failedNow.has(id(t)));
    if (page.length === 0) break;
    const batch = page.slice(0, o.pageSize);
    result.due += batch.length;
    await eachLimited(batch, o.concurrency, async (timer) => {
      try {
        const handler = deps.handlers[timer.kind];
        if (!handler) throw new Error(`no handler is registered for timer kind "${timer.kind}"`);
        await handler(timer, deps.now());
      } catch (e) {
        failedNow.add(id(timer));
        const error = message(e);
        const outcome = await deps.timers.markFailed(timer, error, deps.now(), o.maxAttempts);
        if (outcome === 'retry') result.retried++;
        else result.gaveUp++;
        deps.onFailure?.(timer, error, outcome);
        return;
      }
      if (await deps.timers.markFired(timer, deps.now())) {
        result.fired++;
        result.byKind[timer.kind] = (result.byKind[timer.kind] ?? 0) + 1;
      } else {
        // Moved (or cancelled) while its handler ran: not this timer any more. Not retried in this sweep.
        failedNow.add(id(timer));
        result.superseded++;
      }
    });
    if (page.length < o.pageSize) break;
  }
  return result;
}
