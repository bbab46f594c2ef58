/**
 * The TimerStore in memory, with the DynamoDB adapter's semantics
 * (shared/adapters/dynamodb-timer-store.ts): setting a timer to the due time it already has
 * does nothing (pending or fired); a set with another due time moves it (a fired or given-up
 * one is armed again for the new time); cancel removes a pending timer only; markFired and
 * markFailed apply only to a timer still pending for the same due time. For the pure
 * pipeline and the unit tests; a contract test runs the same scenario on both stores.
 */
import { isDeepStrictEqual } from 'node:util';
import type { PendingTimer, TimerKey, TimerSpec, TimerStore } from '../ports.ts';

type Item = PendingTimer & { firedAt?: string; gaveUpAt?: string };

export class InMemoryTimerStore implements TimerStore {
  private readonly items = new Map<string, Item>();

  private id(t: TimerKey): string {
    return `${t.customerId}\n${t.kind}\n${t.key}`;
  }

  async set(timer: TimerSpec, now: Date, options: { keepEarlier?: boolean } = {}): Promise<'set' | 'moved' | 'unchanged' | 'already-fired'> {
    const dueAt = new Date(timer.dueAt);
    if (Number.isNaN(dueAt.getTime())) throw new Error(`timer ${timer.kind} has an invalid due time`);
    const due = dueAt.toISOString();
    const held = this.items.get(this.id(timer));
    if (held && held.dueAt === due) {
      if (held.firedAt !== undefined || held.gaveUpAt !== undefined) return 'already-fired';
      if (isDeepStrictEqual(held.payload ?? null, timer.payload ?? null)) return 'unchanged';
    }
    const pending = held !== undefined && held.firedAt === undefined && held.gaveUpAt === undefined;
    if (options.keepEarlier && pending && held.dueAt <= due) return 'unchanged';
    this.items.set(this.id(timer), structuredClone({ customerId: timer.customerId, kind: timer.kind, key: timer.key, dueAt: due, ...(timer.payload ? { payload: timer.payload } : {}), setAt: now.toISOString(), attempts: 0 }));
    return pending ? 'moved' : 'set';
  }

  async pendingAmong(timers: readonly TimerKey[]): Promise<TimerKey[]> {
    return timers.filter((t) => {
      const held = this.items.get(this.id(t));
      return held !== undefined && held.firedAt === undefined && held.gaveUpAt === undefined;
    });
  }

  async cancel(timer: TimerKey): Promise<void> {
    const held = this.items.get(this.id(timer));
    if (held && held.firedAt === undefined && held.gaveUpAt === undefined) this.items.delete(this.id(timer));
  }

  async due(now: Date, limit: number): Promise<PendingTimer[]> {
    const at = now.toISOString();
    return [...this.items.values()]
      .filter((t) => t.firedAt === undefined && t.gaveUpAt === undefined && t.dueAt <= at)
      .sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0))
      .slice(0, limit)
      .map(({ firedAt: _f, gaveUpAt: _g, ...t }) => structuredClone(t));
  }

  private pendingFor(timer: PendingTimer): Item | undefined {
    const held = this.items.get(this.id(timer));
    return held && held.dueAt === timer.dueAt && held.firedAt === undefined && held.gaveUpAt === undefined ? held : undefined;
  }

  async markFired(timer: PendingTimer, at: Date): Promise<boolean> {
    const held = this.pendingFor(timer);
    if (!held) return false;
    held.firedAt = at.toISOString();
    return true;
  }

  async markFailed(timer: PendingTimer, error: string, at: Date, maxAttempts: number): Promise<'retry' | 'gave-up'> {
    const held = this.pendingFor(timer);
    if (!held) return 'retry';
    held.attempts = timer.attempts + 1;
    held.lastError = error;
    if (held.attempts >= maxAttempts) {
      held.gaveUpAt = at.toISOString();
      return 'gave-up';
    }
    return 'retry';
  }

  /** Every timer held, pending or not (tests). */
  all(): (PendingTimer & { firedAt?: string; gaveUpAt?: string })[] {
    return [...this.items.values()].map((t) => structuredClone(t));
  }
}
