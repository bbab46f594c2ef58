/**
 * The customer's own time: when an email may go out, in the customer's time
 * zone. Quiet hours (e.g. 21:00–08:00 local) hold every email; a preferred
 * hour (0–23, local) holds a marketing email until that hour. A send outside
 * them is deferred to the next allowed time, never dropped. Pure (Intl's time
 * zone data, no clock of its own).
 */

/** Local hours in which no email goes: from `startHour` (inclusive) to `endHour` (exclusive), across midnight when start > end. */
export type QuietHours = { startHour: number; endHour: number };

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A usable IANA time zone, or UTC when the profile's is absent or unknown. */
export function timeZoneOrUtc(timeZone: string | undefined): string {
  if (!timeZone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return timeZone;
  } catch {
    return 'UTC';
  }
}

/** The hour (0–23) at `at` in the time zone. */
export function localHour(at: Date, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return Number(f.formatToParts(at).find((p) => p.type === 'hour')!.value);
}

export function inQuietHours(hour: number, quiet: QuietHours | undefined): boolean {
  if (!quiet || quiet.startHour === quiet.endHour) return false;
  return quiet.startHour < quiet.endHour ? hour >= quiet.startHour && hour < quiet.endHour : hour >= quiet.startHour || hour < quiet.endHour;
}

const QUARTER_MS = 15 * 60_000;
/** Far enough to reach any local hour whatever DST does (two days of quarter hours). */
const HORIZON_STEPS = 4 * 49;

/**
 * `now` when an email may go now; otherwise the start of the next local hour in which it may
 * (every UTC offset is a whole number of quarter hours, so local hours start on quarter hours).
 * The preferred hour wins over quiet hours (the customer chose it). A preferred hour that a DST
 * change skips that day is taken on the next day it exists.
 */
export function nextAllowedTime(input: { now: Date; timeZone?: string; quietHours?: QuietHours; preferredHour?: number }): Date {
  const zone = timeZoneOrUtc(input.timeZone);
  const preferred = input.preferredHour !== undefined && Number.isInteger(input.preferredHour) && input.preferredHour >= 0 && input.preferredHour <= 23 ? input.preferredHour : undefined;
  const allowed = (at: Date): boolean => {
    const hour = localHour(at, zone);
    return preferred !== undefined ? hour === preferred : !inQuietHours(hour, input.quietHours);
  };
  if (allowed(input.now)) return input.now;
  const first = Math.ceil(input.now.getTime() / QUARTER_MS) * QUARTER_MS;
  for (let i = 0; i < HORIZON_STEPS; i++) {
    const at = new Date(first + i * QUARTER_MS);
    if (allowed(at)) return at;
  }
  return input.now; // unreachable for a valid zone and hours: send rather than hold forever
}
