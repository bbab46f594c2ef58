/**
 * EventPublisher on an EventBridge bus: PutEvents in chunks of 10 (its limit), up to
 * `CHUNKS_AT_ONCE` chunks in flight, failing loudly on any failed entry (after the chunks in
 * flight have returned: a caller retries the whole list, so an entry may go out twice, never zero times).
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { emittedSource } from '../events/catalog.ts';
import type { EventPublisher } from '../ports.ts';

/** PutEvents calls in flight for one publish (a nightly page's CustomerRescored: ten chunks at most). */
const CHUNKS_AT_ONCE = 5;

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: Parameters<EventPublisher['publish']>[0]): Promise<void> {
    const chunks: (typeof events)[] = [];
    for (let i = 0; i < events.length; i += 10) chunks.push(events.slice(i, i + 10));
    for (let i = 0; i < chunks.length; i += CHUNKS_AT_ONCE) {
      const failures = (await Promise.all(chunks.slice(i, i + CHUNKS_AT_ONCE).map((chunk) => this.put(chunk)))).filter((f) => f !== undefined);
      if (failures.length > 0) throw new Error(failures.join(' | '));
    }
  }

  /** One PutEvents; what failed, if anything. */
  private async put(chunk: Parameters<EventPublisher['publish']>[0]): Promise<string | undefined> {
    const out = await this.client.send(
      new PutEventsCommand({
        Entries: chunk.map((e) => ({
          EventBusName: this.busName,
          Source: emittedSource[e.detailType],
          DetailType: e.detailType,
          Detail: JSON.stringify(e.detail),
        })),
      }),
    );
    if (!out.FailedEntryCount) return undefined;
    const errors = (out.Entries ?? []).filter((x) => x.ErrorCode).map((x) => `${x.ErrorCode}: ${x.ErrorMessage}`);
    return `PutEvents failed for ${out.FailedEntryCount} of ${chunk.length} entries: ${errors.join('; ')}`;
  }
}
