/**
 * Test support: the JSON documents the Powertools logger and metrics write (log lines and EMF
 * metric documents). Tests run with POWERTOOLS_DEV (vitest.config.ts), so both write through the
 * global console; `capturePowertoolsOutput()` spies on it around each test of the file.
 */
import { afterEach, beforeEach, vi } from 'vitest';

export function capturePowertoolsOutput(): { lines: () => Record<string, any>[] } {
  let lines: Record<string, any>[] = [];
  beforeEach(() => {
    lines = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((first?: unknown) => {
        if (typeof first === 'string' && first.trim().startsWith('{')) lines.push(JSON.parse(first));
      });
    }
  });
  afterEach(() => vi.restoreAllMocks());
  return { lines: () => lines };
}

/** Sum of a metric's values in the EMF documents written (Powertools lists repeated values). */
export function metricSum(lines: Record<string, any>[], name: string): number {
  return lines
    .filter((l) => l._aws?.CloudWatchMetrics?.[0]?.Metrics?.some((m: { Name: string }) => m.Name === name))
    .flatMap((l) => [l[name]].flat() as number[])
    .reduce((a, b) => a + b, 0);
}
