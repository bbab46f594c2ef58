import { afterEach, describe, expect, it } from 'vitest';
import { parseNow, startClockAt } from '../../local/clock.ts';

const RealDate = Date;
afterEach(() => {
  globalThis.Date = RealDate;
});

describe('the fixed clock of a local run (--now)', () => {
  it('starts the process clock at the given time and lets it advance', async () => {
    startClockAt(new RealDate('2026-11-23T00:00:00Z'));
    const first = Date.now();
    expect(first - RealDate.parse('2026-11-23T00:00:00Z')).toBeGreaterThanOrEqual(0);
    expect(first - RealDate.parse('2026-11-23T00:00:00Z')).toBeLessThan(1000);
    expect(new Date().toISOString().slice(0, 16)).toBe('2026-11-23T00:00');
    await new Promise((r) => setTimeout(r, 20));
    expect(Date.now()).toBeGreaterThan(first);
    // explicit dates are untouched
    expect(new Date('2020-01-01T00:00:00Z').toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(new Date(0).getTime()).toBe(0);
    expect(Date.parse('2020-01-01T00:00:00Z')).toBe(1577836800000);
    expect(new Date() instanceof RealDate).toBe(true);
  });

  it('accepts ISO times with an offset only', () => {
    expect(parseNow('2026-11-23T00:00:00Z').toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(parseNow('2026-11-23T01:30+01:00').toISOString()).toBe('2026-11-23T00:30:00.000Z');
    for (const bad of ['2026-11-23', '2026-11-23T00:00:00', 'yesterday', '2026-13-45T00:00:00Z']) expect(() => parseNow(bad), bad).toThrow(/--now must be an ISO 8601 time/);
  });
});
