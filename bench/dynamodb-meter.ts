/**
 * What a benchmark asks of DynamoDB Local: the requests a client sends, by kind (a middleware
 * counts them and their errors), and the CPU the DynamoDB Local JVM spends (/proc/<pid>/stat,
 * the process and its children). DynamoDB Local runs every SQLite statement on one thread, so
 * its CPU per request is what bounds its rate.
 */
import { readFileSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const CLOCK_TICKS = 100; // USER_HZ on Linux

function processTree(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...kids.flatMap(processTree)];
  } catch {
    return [pid];
  }
}

/** CPU seconds (user + system) of a process and its children so far; 0 where /proc cannot tell (not Linux). */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone, or no /proc
    }
  }
  return ticks / CLOCK_TICKS;
}

export type RequestCounts = Map<string, { calls: number; errors: number }>;

/** Counts every request the client sends, by command (`PutItem`, `BatchWriteItem`, …), and the ones that failed. */
export function countRequests(client: DynamoDBClient): RequestCounts {
  const counts: RequestCounts = new Map();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? '?').replace(/Command$/, '');
      const c = counts.get(name) ?? { calls: 0, errors: 0 };
      counts.set(name, c);
      c.calls++;
      try {
        return await next(args);
      } catch (e) {
        c.errors++;
        throw e;
      }
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  return counts;
}

/** "PutItem 2,575 (81 failed), BatchWriteItem 771, …", most calls first. */
export function formatCounts(counts: RequestCounts, per = 1): string {
  return [...counts]
    .sort((a, b) => b[1].calls - a[1].calls)
    .map(([name, c]) => `${name} ${(c.calls / per).toLocaleString('en-US', { maximumFractionDigits: 1 })}${c.errors ? ` (${(c.errors / per).toLocaleString('en-US', { maximumFractionDigits: 1 })} failed)` : ''}`)
    .join(', ');
}
