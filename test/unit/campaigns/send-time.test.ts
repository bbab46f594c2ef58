/**
 * The customer's own time: quiet hours and the preferred hour in the customer's time zone,
 * across midnight, half-hour zones and DST changes. Expected instants are written by hand.
 */
import { describe, expect, it } from 'vitest';
import { inQuietHours, localHour, nextAllowedTime, timeZoneOrUtc } from '../../../shared/campaigns/send-time.ts';

const quiet = { startHour: 21, endHour: 8 };
const at = (iso: string) => new Date(iso);
const next = (now: string, timeZone: string | undefined, preferredHour?: number) =>
  nextAllowedTime({ now: at(now), timeZone, quietHours: quiet, preferredHour }).toISOString();

describe('quiet hours', () => {
  it('span midnight: 21:00 up to 08:00 is quiet', () => {
    expect([20, 21, 23, 0, 7, 8].map((h) => inQuietHours(h, quiet))).toEqual([false, true, true, true, true, false]);
    expect([1, 2, 3].map((h) => inQuietHours(h, { startHour: 2, endHour: 3 }))).toEqual([false, true, false]);
    expect(inQuietHours(5, { startHour: 4, endHour: 4 })).toBe(false);
    expect(inQuietHours(5, undefined)).toBe(false);
  });

  it('an email at 22:00 in Berlin waits for 08:00 Berlin (07:00 UTC in winter)', () => {
    expect(next('2026-11-30T21:00:00.000Z', 'Europe/Berlin')).toBe('2026-12-01T07:00:00.000Z');
  });

  it('goes at once inside the allowed hours (noon in New York)', () => {
    expect(next('2026-11-30T17:00:00.000Z', 'America/New_York')).toBe('2026-11-30T17:00:00.000Z');
  });

  it('in a half-hour zone, waits for the local hour start (08:00 in Kolkata is 02:30 UTC)', () => {
    expect(next('2026-11-30T20:10:00.000Z', 'Asia/Kolkata')).toBe('2026-12-01T02:30:00.000Z');
  });

  it('an unknown or absent time zone is taken as UTC', () => {
    expect(timeZoneOrUtc('Mars/Olympus')).toBe('UTC');
    expect(timeZoneOrUtc(undefined)).toBe('UTC');
    expect(next('2026-11-30T23:00:00.000Z', 'Mars/Olympus')).toBe('2026-12-01T08:00:00.000Z');
  });
});

describe('the preferred hour', () => {
  it('waits for the hour in the customer zone, later today or tomorrow', () => {
    expect(next('2026-11-30T10:00:00.000Z', 'Europe/London', 18)).toBe('2026-11-30T18:00:00.000Z');
    expect(next('2026-11-30T19:00:00.000Z', 'Europe/London', 18)).toBe('2026-12-01T18:00:00.000Z');
    expect(next('2026-11-30T18:40:00.000Z', 'Europe/London', 18)).toBe('2026-11-30T18:40:00.000Z');
  });

  it('wins over the quiet hours (the customer asked for 22:00)', () => {
    expect(next('2026-11-30T12:00:00.000Z', 'UTC', 22)).toBe('2026-11-30T22:00:00.000Z');
  });

  it('follows DST: 09:00 in Berlin is 07:00 UTC in summer, 08:00 UTC in winter', () => {
    expect(next('2026-03-28T12:00:00.000Z', 'Europe/Berlin', 9)).toBe('2026-03-29T07:00:00.000Z');
    expect(next('2026-10-24T12:00:00.000Z', 'Europe/Berlin', 9)).toBe('2026-10-25T08:00:00.000Z');
  });

  it('a preferred hour skipped by the spring change (02:00 Berlin on 29 March) is taken the next day', () => {
    expect(next('2026-03-28T12:00:00.000Z', 'Europe/Berlin', 2)).toBe('2026-03-30T00:00:00.000Z');
    expect(localHour(at('2026-03-30T00:00:00.000Z'), 'Europe/Berlin')).toBe(2);
  });
});
