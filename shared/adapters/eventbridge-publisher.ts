/** EventPublisher on an EventBridge bus: PutEvents in chunks of 10, failing loudly on any failed entry. */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { emittedSource } from '../events/catalog.ts';
import type { EventPublisher } from '../ports.ts';

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: Parameters<EventPublisher['publish']>[0]): Promise<void> {
    for (let i = 0; i < events.length; i += 10) {
      const chunk = events.slice(i, i + 10);
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
      if (out.FailedEntryCount) {
        const errors = (out.Entries ?? []).filter((x) => x.ErrorCode).map((x) => `${x.ErrorCode}: ${x.ErrorMessage}`);
        throw new Error(`PutEvents failed for ${out.FailedEntryCount} of ${chunk.length} entries: ${errors.join('; ')}`);
      }
    }
  }
}
