/**
 * The TimerStore contract, on DynamoDB Local (the byTimerDue index) and in memory: the same
 * scenario, the same answers. Plus what only the table has: hour buckets and the look-back.
 */
import { describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoTimerStore, TIMER_INDEX } from '../../shared/adapters/dynamodb-timer-store.ts';
import { InMemoryTimerStore } from '../../shared/timers/in-memory-timer-store.ts';
import { sweepTimers } from '../../shared/timers/sweep.ts';
import type { PendingTimer, TimerStore } from '../../shared/ports.ts';
import { timerBuckets } from '../../shared/data-model/keys.ts';
import { freshTable, useLocalDynamoDb } from '../support/local-aws.ts';

const local = useLocalDynamoDb();
const T0 = new Date('2026-11-20T10:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * 86_400_000);

async function dynamo(lookbackHours?: number): Promise<TimerStore & { tableName: string }> {
  const { tableName } = await freshTable(local.aws().dynamodb.endpoint);
  return Object.assign(new DynamoTimerStore(local.client(), { tableName, lookbackHours }), { tableName });
}

const stores: [string, () => Promise<TimerStore>][] = [
  ['DynamoDB Local', () => dynamo()],
  ['in memory', async () => new InMemoryTimerStore()],
];

describe.each(stores)('TimerStore contract (%s)', (_, make) => {
  it('set, move, cancel, due in order, fire once, fail and give up', async () => {
    const timers = await make();
    expect(await timers.set({ customerId: 'c1', kind: 'stuck', key: 'o1', dueAt: at(10).toISOString(), payload: { orderId: 'o1', status: 'preparing' } }, T0)).toBe('set');
    expect(await timers.set({ customerId: 'c1', kind: 'stuck', key: 'o1', dueAt: at(10).toISOString(), payload: { orderId: 'o1', status: 'preparing' } }, T0)).toBe('unchanged');
    expect(await timers.set({ customerId: 'c1', kind: 'stuck', key: 'o1', dueAt: at(4).toISOString(), payload: { orderId: 'o1', status: 'preparing' } }, T0)).toBe('moved');
    expect(await timers.set({ customerId: 'c2', kind: 'stopped', key: 'p1', dueAt: at(3).toISOString() }, T0)).toBe('set');
    expect(await timers.set({ customerId: 'c3', kind: 'stuck', key: 'o3', dueAt: at(2).toISOString() }, T0)).toBe('set');
    await timers.cancel({ customerId: 'c3', kind: 'stuck', key: 'o3' });
    await timers.cancel({ customerId: 'c9', kind: 'stuck', key: 'none' }); // nothing there: no error

    expect(await timers.due(at(2.5), 10)).toEqual([]);
    const due = await timers.due(at(5), 10);
    expect(due.map((t) => [t.customerId, t.kind, t.key, t.dueAt, t.attempts])).toEqual([
      ['c2', 'stopped', 'p1', at(3).toISOString(), 0],
      ['c1', 'stuck', 'o1', at(4).toISOString(), 0],
    ]);
    expect(due[1]!.payload).toEqual({ orderId: 'o1', status: 'preparing' });
    expect(await timers.due(at(5), 1)).toHaveLength(1);

    expect(await timers.markFired(due[0]!, at(5))).toBe(true);
    expect(await timers.markFired(due[0]!, at(5))).toBe(false); // a second sweep of the same timer
    expect(await timers.set({ customerId: 'c2', kind: 'stopped', key: 'p1', dueAt: at(3).toISOString() }, at(6))).toBe('already-fired');
    // moved after it was read: not marked
    await timers.set({ customerId: 'c1', kind: 'stuck', key: 'o1', dueAt: at(7).toISOString(), payload: { orderId: 'o1', status: 'preparing' } }, at(5));
    expect(await timers.markFired(due[1]!, at(5))).toBe(false);
    expect(await timers.due(at(6), 10)).toEqual([]);

    const [o1] = await timers.due(at(8), 10);
    expect(await timers.markFailed(o1!, 'Error: boom', at(8), 2)).toBe('retry');
    const [again] = await timers.due(at(8), 10);
    expect(again).toMatchObject({ attempts: 1, lastError: 'Error: boom' });
    expect(await timers.markFailed(again!, 'Error: boom', at(8), 2)).toBe('gave-up');
    expect(await timers.due(at(30), 10)).toEqual([]);
    // given up: setting it for the same time does not re-arm it; a new time does
    expect(await timers.set({ customerId: 'c1', kind: 'stuck', key: 'o1', dueAt: at(7).toISOString(), payload: { orderId: 'o1', status: 'preparing' } }, at(9))).toBe('already-fired');
    expect(await timers.set({ customerId: 'c1', kind: 'stuck', key: 'o1', dueAt: at(12).toISOString() }, at(9))).toBe('set');
    expect((await timers.due(at(12), 10)).map((t) => t.key)).toEqual(['o1']);
  });

  it('keepEarlier keeps a pending timer due sooner (a lazy timer), moves one due later, and arms a fired one again', async () => {
    const timers = await make();
    const t = (days: number) => ({ customerId: 'c1', kind: 'stopped', key: 'p1', dueAt: at(days).toISOString() });
    expect(await timers.set(t(30), T0, { keepEarlier: true })).toBe('set');
    expect(await timers.set(t(31), at(1), { keepEarlier: true })).toBe('unchanged');
    expect((await timers.due(at(30), 10)).map((x) => x.dueAt)).toEqual([at(30).toISOString()]);
    expect(await timers.set(t(20), at(1), { keepEarlier: true })).toBe('moved');
    const [due] = await timers.due(at(20), 10);
    await timers.markFired(due!, at(20));
    expect(await timers.set(t(45), at(21), { keepEarlier: true })).toBe('set');
  });

  it('the sweep fires many timers across hours exactly once', async () => {
    const timers = await make();
    const fired: string[] = [];
    const handlers = { k: async (t: PendingTimer) => void fired.push(t.key) };
    for (let i = 0; i < 30; i++) await timers.set({ customerId: `c${i % 7}`, kind: 'k', key: `t${i}`, dueAt: new Date(T0.getTime() + i * 37 * 60_000).toISOString() }, T0);
    const r1 = await sweepTimers({ timers, handlers, now: () => at(0.5), options: { pageSize: 4 } });
    expect(r1.fired).toBe(fired.length);
    expect(fired.length).toBe(Math.floor((12 * 60) / 37) + 1);
    const r2 = await sweepTimers({ timers, handlers, now: () => at(2), options: { pageSize: 4 } });
    expect(r1.fired + r2.fired).toBe(30);
    expect(new Set(fired).size).toBe(30);
    expect((await sweepTimers({ timers, handlers, now: () => at(3) })).due).toBe(0);
  });
});

describe('DynamoTimerStore buckets', () => {
  it('indexes a pending timer in its due hour, one set when already due in the current hour, and drops fired ones from the index', async () => {
    const timers = await dynamo();
    await timers.set({ customerId: 'c1', kind: 'k', key: 'future', dueAt: '2026-11-25T07:30:00.000Z' }, T0);
    await timers.set({ customerId: 'c1', kind: 'k', key: 'past', dueAt: '2026-11-01T00:00:00.000Z' }, T0);
    const inBuckets = async (hour: string) => {
      const keys: string[] = [];
      for (const b of timerBuckets(hour)) {
        const out = await local.client().send(new QueryCommand({ TableName: timers.tableName, IndexName: TIMER_INDEX, KeyConditionExpression: 'timerBucket = :b', ExpressionAttributeValues: { ':b': { S: b } } }));
        keys.push(...(out.Items ?? []).map((i) => i.key!.S!));
      }
      return keys;
    };
    expect(await inBuckets('2026-11-25T07')).toEqual(['future']);
    expect(await inBuckets('2026-11-20T10')).toEqual(['past']); // already due: the hour it was set in
    const [past] = await timers.due(T0, 10);
    await timers.markFired(past!, T0);
    expect(await inBuckets('2026-11-20T10')).toEqual([]);
  });

  it('reads back `lookbackHours`: a timer older than that waits for a sweep that looks further back', async () => {
    const { tableName } = await freshTable(local.aws().dynamodb.endpoint);
    const short = new DynamoTimerStore(local.client(), { tableName, lookbackHours: 24 });
    await short.set({ customerId: 'c1', kind: 'k', key: 'old', dueAt: at(1).toISOString() }, T0);
    expect(await short.due(at(1.5), 10)).toHaveLength(1);
    expect(await short.due(at(3), 10)).toEqual([]); // the sweeper was down for two days
    const long = new DynamoTimerStore(local.client(), { tableName, lookbackHours: 72 });
    expect((await long.due(at(3), 10)).map((t) => t.key)).toEqual(['old']);
  });
});
