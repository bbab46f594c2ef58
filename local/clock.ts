/**
 * A fixed clock for a reproducible local run (`npm start -- --now <ISO time>`): the process's
 * `Date` starts at the given time and advances in real time from there, so the handlers,
 * which read `new Date()` as they do in Lambda, judge freshness, cooldowns and caps against
 * the same instant the synthetic data was generated for, on any day the run happens.
 * Local only: nothing under functions/ or shared/ knows about it.
 */
export function startClockAt(at: Date): void {
  const clock = installedClock();
  clock.offset = at.getTime() - clock.RealDate.now();
}

/**
 * Moves the process clock forward (or back, with a negative amount) by `ms`: what a test does
 * to "jump ten days" and have the timer sweep (shared/timers/) find the timers due by then.
 * Starts a shifted clock at the real time first if none is running.
 */
export function advanceClock(ms: number): void {
  installedClock().offset += ms;
}

/**
 * The real time (ms), whatever the process clock was moved to: for comparisons with times the
 * local services stamp themselves (DynamoDB Local's stream records carry its own, real, time).
 */
export function realNow(): number {
  return clock && globalThis.Date === clock.cls ? clock.RealDate.now() : Date.now();
}

type ShiftedClock = { cls: DateConstructor; RealDate: DateConstructor; offset: number };
let clock: ShiftedClock | undefined;

/** The shifted `Date` in place, installing it (over the real one) if it is not. */
function installedClock(): ShiftedClock {
  if (clock && globalThis.Date === clock.cls) return clock;
  const RealDate = globalThis.Date;
  const state: ShiftedClock = { cls: RealDate, RealDate, offset: 0 };
  class ShiftedDate extends RealDate {
    constructor(...args: ConstructorParameters<DateConstructor> | []) {
      if (args.length === 0) super(RealDate.now() + state.offset);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return RealDate.now() + state.offset;
    }
  }
  state.cls = ShiftedDate as DateConstructor;
  globalThis.Date = state.cls;
  clock = state;
  return state;
}

/** Parses `--now`: an ISO 8601 time with an offset (e.g. 2026-11-23T00:00:00Z). */
export function parseNow(value: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new Error(`--now must be an ISO 8601 time with an offset, e.g. 2026-11-23T00:00:00Z, got "${value}"`);
  }
  return new Date(value);
}
