/** Reads a stored business event back from a table stream image. */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { inboundSchemas, type BusinessEvent, type InboundDetailType } from '../events/catalog.ts';
import { describeIssues } from '../events/validate.ts';

export function storedEventFromImage(image: Record<string, unknown>): BusinessEvent {
  const item = unmarshall(image as Parameters<typeof unmarshall>[0]);
  const type = item.type as string;
  if (!Object.hasOwn(inboundSchemas, type)) throw new Error(`stored item has unknown event type "${type}"`);
  const parsed = inboundSchemas[type as InboundDetailType].safeParse(item.detail);
  if (!parsed.success) throw new Error(`stored ${type} does not match its schema: ${describeIssues(parsed.error)}`);
  return { type, source: String(item.source), detail: parsed.data } as BusinessEvent;
}
