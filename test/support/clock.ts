/**
 * A fixed midday (UTC) for tests that email through the handlers or the local stack: outside the
 * default quiet hours (shared/defaults.ts, 21:00–08:00 in the customer's time zone, UTC when the
 * profile has none), so an email goes at once whatever the hour the tests run at. Handler tests
 * freeze `Date` at it (vi.useFakeTimers); local stack tests start the process clock at it
 * (local/clock.ts startClockAt), before the stack starts, and move it forward by whole days.
 * The middle of a month: a rule that compares calendar months (usage decline) sees the same
 * months on any day (from the last days of a month, 35 days on is two months later).
 */
export const MIDDAY_UTC = new Date('2026-11-15T12:00:00Z');
