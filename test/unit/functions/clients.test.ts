/** The SES client and mailer the campaigns function sends with: adaptive retries, and pacing to the per-invocation send rate. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pacedMailer, sesClient } from '../../../functions/commons/clients.ts';
import type { Mailer } from '../../../shared/ports.ts';

afterEach(() => vi.useRealTimers());

const message = { subject: 's', html: 'h', text: 't', headers: [], tags: [] } as unknown as Parameters<Mailer['send']>[0]['message'];

describe('sesClient', () => {
  it('retries adaptively (client-side rate limiting on throttling)', async () => {
    const strategy = (await sesClient().config.retryStrategy()) as { mode?: string };
    expect(strategy.mode).toBe('adaptive');
  });
});

describe('pacedMailer', () => {
  it('starts at most one send per interval (2 a second: every 500 ms), in order, and passes results through', async () => {
    vi.useFakeTimers({ now: 0 });
    const started: [string, number][] = [];
    const inner: Mailer = {
      send: async ({ to }) => {
        started.push([to, Date.now()]);
        return { messageId: `id-${to}` };
      },
    };
    const paced = pacedMailer(inner, 2);
    const results = ['a', 'b', 'c', 'd'].map((to) => paced.send({ to, message }));

    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([['a', 0]]);
    await vi.advanceTimersByTimeAsync(499);
    expect(started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1001);
    expect(started).toEqual([['a', 0], ['b', 500], ['c', 1000], ['d', 1500]]);
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd'].map((to) => ({ messageId: `id-${to}` })));
  });

  it('passes a failed send through (the campaign releases its claim for the retry)', async () => {
    const paced = pacedMailer({ send: async () => Promise.reject(Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'TooManyRequestsException' })) }, 1000);
    await expect(paced.send({ to: 'x', message })).rejects.toThrow('Maximum sending rate exceeded.');
  });

  it('refuses a rate that is not positive', () => {
    expect(() => pacedMailer({ send: async () => ({ messageId: 'x' }) }, 0)).toThrow(/positive/);
  });
});
