/** Putting business events on the local stack's bus and reading what the stack emitted, for end-to-end tests. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { expect } from 'vitest';
import type { LocalStack } from '../../local/local-stack.ts';

/** Puts the entries (10 a call, as PutEvents takes them), checks none failed, and waits until the stack is idle. */
export async function putAndSettle(stack: LocalStack, source: string, entries: { type: string; detail: Record<string, unknown> }[]): Promise<void> {
  const client = new EventBridgeClient({ endpoint: stack.endpoints.bus, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  try {
    for (let i = 0; i < entries.length; i += 10) {
      const res = await client.send(
        new PutEventsCommand({ Entries: entries.slice(i, i + 10).map((e) => ({ EventBusName: stack.busName, Source: source, DetailType: e.type, Detail: JSON.stringify(e.detail) })) }),
      );
      expect(res.FailedEntryCount).toBe(0);
    }
  } finally {
    client.destroy();
  }
  await stack.waitForIdle();
}

/** The details of one emitted detail-type for one customer, in the order they were put on the bus. */
export const emittedFor = (stack: LocalStack, type: string, customerId: string): Record<string, unknown>[] =>
  stack.bus.emitted.filter((e) => e['detail-type'] === type && (e.detail as { customerId?: string }).customerId === customerId).map((e) => e.detail as Record<string, unknown>);
