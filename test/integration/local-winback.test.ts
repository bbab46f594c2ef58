/**
 * The winback sequence and erasure end to end through the local stack, with the real handlers:
 * events on the bus → ingest (the consent ledger) → table stream → churn-triggers arms the steps →
 * the clock moves forward (local/clock.ts) → the timer sweep fires a step → a winback-sequence
 * ChurnTriggerFired → campaigns → the counter-offer email of the leaving reason. A withdrawal in
 * the middle stops the sequence; an erasure event removes the customer and her pending steps,
 * and a late event for her stores nothing, nor does a re-import of her rows (--import, through the backfill).
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { advanceClock } from '../../local/clock.ts';
import { runBackfillStateMachine } from '../../local/backfill-run.ts';
import { readImportDirectory } from '../../local/import/import-csv.ts';
import { ERASED_ROW_REASON } from '../../shared/backfill/backfill.ts';
import { localDynamoDbClient } from '../../local/services.ts';
import { DynamoConsentLedger } from '../../shared/adapters/dynamodb-consent-ledger.ts';
import { localStackAtMidday } from '../support/local-stack-at-midday.ts';
import { emittedFor, putAndSettle } from '../support/local-stack-events.ts';

const DAY = 86_400_000;
const local = localStackAtMidday('clm-winback-');

/** A customer outside the control group of both winback campaigns. */
const customer = (prefix: string) => local.customerOutside(['winback-counter-offer', 'winback-sequence'], prefix);
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

const put = (entries: { type: string; detail: Record<string, unknown> }[]) => putAndSettle(local.stack, 'com.example.billing', entries);
const emitted = (type: string, customerId: string) => emittedFor(local.stack, type, customerId);
const leaving = (id: string, reasonCode: string) => [
  { type: 'CustomerProfileUpdated', detail: { eventId: `${id}-p`, customerId: id, occurredAt: ago(400 * DAY), email: `${id}@example.com`, firstName: 'Sam' } },
  { type: 'ConsentChanged', detail: { eventId: `${id}-c`, customerId: id, occurredAt: ago(400 * DAY), channel: 'email', purpose: 'marketing', granted: true } },
  { type: 'SubscriptionStarted', detail: { eventId: `${id}-s`, customerId: id, occurredAt: ago(400 * DAY), subscriptionId: 'sub-1', productId: 'broadband', plan: 'fibre', monthlyPrice: 39, currency: 'EUR' } },
  { type: 'SubscriptionCancelled', detail: { eventId: `${id}-x`, customerId: id, occurredAt: ago(3_600_000), subscriptionId: 'sub-1', productId: 'broadband', reasonCode, allowWinbackContact: true, wordingVersion: 'exit-v1' } },
];
const sweepAt = async (days: number) => {
  advanceClock(local.startedAt + days * DAY + 5 * 60_000 - Date.now());
  return (await local.stack.sweepTimers()).result;
};

describe('the winback sequence and erasure through the local stack', () => {
  it('emails the reason\'s counter-offers at 14 and 60 days; stops on a withdrawal; an erased customer gets nothing', async () => {
    const stays = customer('wb-stays');
    const withdraws = customer('wb-withdraws');
    const erased = customer('wb-erased');
    await put([...leaving(stays, 'network'), ...leaving(withdraws, 'price'), ...leaving(erased, 'competitor')]);
    // The counter-offer at cancellation, as before.
    expect(emitted('EmailSent', stays)).toEqual([expect.objectContaining({ campaign: 'winback-counter-offer' })]);
    // Her yes is in the consent ledger.
    const ddb = localDynamoDbClient(local.stack.endpoints.dynamodb);
    try {
      const history = await new DynamoConsentLedger(ddb, { tableName: local.stack.tableName }).history(stays);
      expect(history.map((r) => [r.purpose, r.action, r.wordingVersion])).toEqual([['marketing:email', 'granted', undefined], ['winback', 'granted', 'exit-v1']]);
    } finally {
      ddb.destroy();
    }

    await put([
      { type: 'ConsentChanged', detail: { eventId: `${withdraws}-w`, customerId: withdraws, occurredAt: ago(0), channel: 'email', purpose: 'winback', granted: false, source: 'customer-service', actor: 'agent-7' } },
      { type: 'CustomerErasureRequested', detail: { eventId: `${erased}-e`, customerId: erased, occurredAt: ago(0), requestedBy: 'privacy-desk' } },
    ]);
    expect(await local.stack.sweepTimers()).toMatchObject({ result: { due: 0 } });

    expect(await sweepAt(14)).toMatchObject({ fired: 1, byKind: { 'winback-step': 1 } });
    expect(emitted('ChurnTriggerFired', stays).map((t) => t.reasons)).toEqual([
      [expect.stringMatching(/^cancelled: network$/)],
      ['winback step 1: offer network-fix-news-1', 'left: network'],
    ]);
    expect(emitted('EmailSent', stays).map((e) => e.campaign)).toEqual(['winback-counter-offer', 'winback-sequence']);
    expect(await sweepAt(60)).toMatchObject({ fired: 1 });
    expect(emitted('EmailSent', stays).map((e) => e.campaign)).toEqual(['winback-counter-offer', 'winback-sequence', 'winback-sequence']);

    // The one who withdrew got only the offer at cancellation; the erased one nothing more, and a late event of hers is dropped.
    expect(emitted('ChurnTriggerFired', withdraws).map((t) => t.rule)).toEqual(['cancelled-with-winback-permission']);
    expect(emitted('ChurnTriggerFired', erased).map((t) => t.rule)).toEqual(['cancelled-with-winback-permission']);
    await put([{ type: 'OrderPlaced', detail: { eventId: `${erased}-late`, customerId: erased, occurredAt: ago(0), orderId: 'o-late', amount: 10, currency: 'EUR' } }]);
    const after = localDynamoDbClient(local.stack.endpoints.dynamodb);
    try {
      const items = await after.send(new QueryCommand({ TableName: local.stack.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `CUST#${erased}` } } }));
      expect(items.Items).toEqual([]);
      // A re-import of her (npm start -- --import: the CSV files backfilled through the state machine) stores nothing either.
      const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-reimport-'));
      writeFileSync(path.join(dir, 'customers.csv'), `customer_id,email,first_name,locale,time_zone,preferred_channel,preferred_hour,customer_type,updated_at\n${erased},${erased}@example.com,Sam,en-GB,Europe/London,email,9,subscription,2025-06-01T09:00:00Z\n`);
      const [file] = readImportDirectory(dir).files;
      const summary = await runBackfillStateMachine({ runId: 'reimport', file: file!, region: 'eu-west-1' });
      expect(summary).toMatchObject({ rowsRead: 1, rowsRejected: 1, eventsStored: 0, rejected: [{ line: 2, reason: ERASED_ROW_REASON }] });
      expect((await after.send(new QueryCommand({ TableName: local.stack.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `CUST#${erased}` } } }))).Items).toEqual([]);
    } finally {
      after.destroy();
    }
    const c = await local.stack.counters();
    expect(c.handlerErrors).toEqual([]);
    expect(Object.values(c.deadLetters).every((n) => n === 0)).toBe(true);
  }, 300_000);
});
