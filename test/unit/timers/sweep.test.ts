/** The timer sweep (shared/timers/sweep.ts) over the in-memory TimerStore: due, moved, cancelled, redelivered, failing timers. */
import { describe, expect, it } from 'vitest';
import type { PendingTimer } from '../../../shared/ports.ts';
import { InMemoryTimerStore } from '../../../shared/timers/in-memory-timer-store.ts';
import { sweepTimers, type TimerHandlers } from '../../../shared/timers/sweep.ts';

const T0 = new Date('2026-11-20T10:00:00Z');
const at = (days: number, base = T0) => new Date(base.getTime() + days * 86_400_000);

function recorder(handlers: Record<string, (t: PendingTimer) => void> = {}) {
  const fired: string[] = [];
  const all: TimerHandlers = Object.fromEntries(
    ['stuck', 'stopped', ...Object.keys(handlers)].map((kind) => [
      kind,
      async (t: PendingTimer) => {
        handlers[kind]?.(t);
        fired.push(`${kind}:${t.key}`);
      },
    ]),
  );
  return { fired, handlers: all };
}

describe('sweepTimers', () => {
  it('fires a timer once when due, not before, and a second sweep or a redelivered set does nothing', async () => {
    const timers = new InMemoryTimerStore();
    const { fired, handlers } = recorder();
    expect(await timers.set({ customerId: 'c1', kind: 'stuck', key: 'o1', dueAt: at(10).toISOString(), payload: { orderId: 'o1' } }, T0)).toBe('set');
    // one millisecond before: nothing
    expect(await sweepTimers({ timers, handlers, now: () => new Date(at(10).getTime() - 1) })).toMatchObject({ due: 0, fired: 0 });
    expect(fired).toEqual([]);
    const r = await sweepTimers({ timers, handlers, now: () => at(10) });
    expect(r).toMatchObject({ due: 1, fired: 1, byKind: { stuck: 1 }, retried: 0, gaveUp: 0 });
    expect(fired).toEqual(['stuck:o1']);
    // the same state seen again (a redelivered stream record): not re-armed
    expect(await timers.set({ customerId: 'c1', kind: 'stuck', key: 'o1', dueAt: at(10).toISOString(), payload: { orderId: 'o1' } }, at(10))).toBe('already-fired');
    expect(await sweepTimers({ timers, handlers, now: () => at(20) })).toMatchObject({ due: 0, fired: 0 });
    expect(fired).toEqual(['stuck:o1']);
  });

  it('a moved timer fires at its new time only; a cancelled one never', async () => {
    const timers = new InMemoryTimerStore();
    const { fired, handlers } = recorder();
    await timers.set({ customerId: 'c1', kind: 'stopped', key: 'p1', dueAt: at(5).toISOString() }, T0);
    expect(await timers.set({ customerId: 'c1', kind: 'stopped', key: 'p1', dueAt: at(8).toISOString() }, at(2))).toBe('moved');
    expect(await timers.set({ customerId: 'c1', kind: 'stopped', key: 'p1', dueAt: at(8).toISOString() }, at(2))).toBe('unchanged');
    await timers.set({ customerId: 'c2', kind: 'stuck', key: 'o2', dueAt: at(3).toISOString() }, T0);
    await timers.cancel({ customerId: 'c2', kind: 'stuck', key: 'o2' });
    expect((await sweepTimers({ timers, handlers, now: () => at(6) })).fired).toBe(0);
    expect((await sweepTimers({ timers, handlers, now: () => at(8) })).fired).toBe(1);
    expect(fired).toEqual(['stopped:p1']);
    // a fired timer set for a later time is armed again (a new occurrence of the state)
    expect(await timers.set({ customerId: 'c1', kind: 'stopped', key: 'p1', dueAt: at(30).toISOString() }, at(9))).toBe('set');
    expect((await sweepTimers({ timers, handlers, now: () => at(30) })).fired).toBe(1);
    expect(fired).toEqual(['stopped:p1', 'stopped:p1']);
    // cancel leaves a fired timer as the record that it fired
    await timers.cancel({ customerId: 'c1', kind: 'stopped', key: 'p1' });
    expect(timers.all().find((t) => t.key === 'p1')?.firedAt).toBe(at(30).toISOString());
  });

  it('isolates a failing timer: the others fire, it is retried on later sweeps, then given up with its error', async () => {
    const timers = new InMemoryTimerStore();
    const { fired, handlers } = recorder({ poison: () => { throw new Error('boom'); } });
    await timers.set({ customerId: 'c1', kind: 'poison', key: 'x', dueAt: at(1).toISOString() }, T0);
    await timers.set({ customerId: 'c2', kind: 'stuck', key: 'o2', dueAt: at(1).toISOString() }, T0);
    await timers.set({ customerId: 'c3', kind: 'nobody-handles-this', key: 'y', dueAt: at(1).toISOString() }, T0);
    const failures: string[] = [];
    const sweep = () => sweepTimers({ timers, handlers, now: () => at(2), options: { maxAttempts: 3 }, onFailure: (t, e, o) => failures.push(`${t.kind} ${o} ${e}`) });
    expect(await sweep()).toMatchObject({ due: 3, fired: 1, retried: 2, gaveUp: 0 });
    expect(fired).toEqual(['stuck:o2']);
    expect(await sweep()).toMatchObject({ due: 2, fired: 0, retried: 2, gaveUp: 0 });
    expect(await sweep()).toMatchObject({ due: 2, fired: 0, retried: 0, gaveUp: 2 });
    expect(await sweep()).toMatchObject({ due: 0 });
    expect(failures.slice(-2).sort()).toEqual(['nobody-handles-this gave-up Error: no handler is registered for timer kind "nobody-handles-this"', 'poison gave-up Error: boom']);
    expect(timers.all().find((t) => t.kind === 'poison')).toMatchObject({ attempts: 3, lastError: 'Error: boom', gaveUpAt: at(2).toISOString() });
  });

  it('a timer moved while its handler runs is not marked fired: it fires again at its new time', async () => {
    const timers = new InMemoryTimerStore();
    const { fired, handlers } = recorder({
      racing: (t) => void timers.set({ customerId: t.customerId, kind: t.kind, key: t.key, dueAt: at(9).toISOString() }, at(2)),
    });
    await timers.set({ customerId: 'c1', kind: 'racing', key: 'r', dueAt: at(1).toISOString() }, T0);
    expect(await sweepTimers({ timers, handlers, now: () => at(2) })).toMatchObject({ due: 1, fired: 0, superseded: 1 });
    expect(await sweepTimers({ timers, handlers, now: () => at(9) })).toMatchObject({ due: 1 });
    expect(fired).toEqual(['racing:r', 'racing:r']);
  });

  it('pages through many due timers, earliest first, and stops when the time budget runs out', async () => {
    const timers = new InMemoryTimerStore();
    const { fired, handlers } = recorder();
    for (let i = 0; i < 25; i++) await timers.set({ customerId: `c${i}`, kind: 'stuck', key: String(i).padStart(2, '0'), dueAt: at(1 + i / 100).toISOString() }, T0);
    let pages = 0;
    const r = await sweepTimers({ timers, handlers, now: () => at(2), options: { pageSize: 10, concurrency: 3 }, hasTime: () => pages++ < 2 });
    expect(r).toMatchObject({ due: 20, fired: 20, truncated: true });
    expect(fired.slice(0, 10).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `stuck:${String(i).padStart(2, '0')}`));
    expect(await sweepTimers({ timers, handlers, now: () => at(2), options: { pageSize: 10 } })).toMatchObject({ due: 5, fired: 5, truncated: false });
    expect(new Set(fired).size).toBe(25);
  });
});
