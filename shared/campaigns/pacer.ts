/**
 * Paces calls to a send rate by when they actually start: a call may start `weight ÷ rate`
 * seconds after the previous one started, never sooner. p-throttle (which paces single sends)
 * plans its slots ahead, so a timer that fires late lets the next call catch up inside the
 * same second; SES counts the emails as they arrive, so a bulk call of many recipients must
 * never follow the previous one early. Calls queue in order. Pure: clock and sleep injected.
 */
export type Pacer = { pace(weight: number): Promise<void> };

export function startPacer(perSecond: number, clock: { now: () => number; sleep: (ms: number) => Promise<void> } = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) }): Pacer {
  if (!(perSecond > 0)) throw new Error(`the rate must be positive, got ${perSecond}`);
  let last = -Infinity;
  let lastWeight = 0;
  let queue: Promise<void> = Promise.resolve();
  return {
    pace(weight: number): Promise<void> {
      const turn = queue.then(async () => {
        for (;;) {
          // 0.5% over the exact spacing: the call starts a moment after the pacer lets it go, by a varying amount.
          const wait = last + (lastWeight * 1000 * 1.005) / perSecond - clock.now();
          if (wait <= 0) break;
          await clock.sleep(Math.ceil(wait));
        }
        last = clock.now();
        lastWeight = weight;
      });
      queue = turn;
      return turn;
    },
  };
}
