/** The send pacer: calls start by the actual start of the previous one, weighted by recipients, in order. */
import { describe, expect, it } from 'vitest';
import { startPacer } from '../../../shared/campaigns/pacer.ts';

function fakeClock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms) };
}

describe('startPacer', () => {
  it('spaces calls by their weight at the rate (14/s: a call of 14 a second, of 7 half a second), with a 0.5% margin', async () => {
    const clock = fakeClock();
    const pacer = startPacer(14, clock);
    const starts: number[] = [];
    for (const w of [14, 14, 7, 7, 14]) {
      await pacer.pace(w);
      starts.push(clock.now());
    }
    expect(starts).toEqual([0, 1005, 2010, 2513, 3016]);
  });

  it('a late start never lets the next call catch up: it waits a full spacing from the actual start', async () => {
    const clock = fakeClock();
    const pacer = startPacer(5, clock);
    await pacer.pace(5);
    clock.advance(1800); // the event loop was busy: the second call starts late
    await pacer.pace(5);
    const second = clock.now();
    await pacer.pace(5);
    expect(second).toBe(1800);
    expect(clock.now() - second).toBe(1005);
  });

  it('queues concurrent calls in order, and refuses a rate that is not positive', async () => {
    const clock = fakeClock();
    const pacer = startPacer(2, clock);
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => pacer.pace(2).then(() => order.push(i))));
    expect(order).toEqual([1, 2, 3]);
    expect(clock.now()).toBe(2010);
    expect(() => startPacer(0)).toThrow('the rate must be positive');
  });
});
