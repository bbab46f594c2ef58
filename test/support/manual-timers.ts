/** Timers for the winback tests: kept in a map, swept by hand (due ones in due order; a fired one is not set again). */
import type { WinbackTimers } from '../../shared/winback/track.ts';

type Timer = { customerId: string; kind: string; key: string; dueAt: string; payload?: Record<string, unknown> };

export class ManualTimers implements WinbackTimers {
  readonly pending = new Map<string, Timer>();
  readonly fired = new Set<string>();
  async set(t: Timer) {
    const id = `${t.customerId}|${t.kind}|${t.key}`;
    if (!this.fired.has(id)) this.pending.set(id, t);
  }
  async cancel(t: { customerId: string; kind: string; key: string }) {
    this.pending.delete(`${t.customerId}|${t.kind}|${t.key}`);
  }
  due(now: Date): [string, Timer][] {
    return [...this.pending.entries()].filter(([, t]) => Date.parse(t.dueAt) <= now.getTime()).sort(([, a], [, b]) => a.dueAt.localeCompare(b.dueAt));
  }
  /** Fires every due timer with `handler`, then marks it fired. */
  async sweep(now: Date, handler: (t: Timer, now: Date) => Promise<void>): Promise<void> {
    for (const [id, t] of this.due(now)) {
      await handler(t, now);
      this.pending.delete(id);
      this.fired.add(id);
    }
  }
}
