/**
 * The whole path (ingest → churn triggers → campaigns) on the in-memory ports:
 * the real domain functions, rules and guardrails, no Java and no emulators.
 */
import { describe, expect, it, vi } from 'vitest';
import { defaultSendPolicy } from '../../../shared/campaigns/guardrails.ts';
import { createPipeline } from '../../../shared/pipeline/run-pipeline.ts';
import { validateInbound } from '../../../shared/events/validate.ts';
import { raw, customer, scenario, scenarioNow } from '../../support/pipeline-scenario.ts';

const now = () => scenarioNow;
const noControl = { ...defaultSendPolicy, controlGroupPercent: 0 };
const DAY = 86_400_000;
const ago = (days: number) => new Date(scenarioNow.getTime() - days * DAY).toISOString();

/** Campaign outcome per trigger rule of a customer, in the order the triggers were handled. */
const outcomes = (p: ReturnType<typeof createPipeline>, customerId: string) =>
  p.campaignResults
    .filter((r) => r.trigger.customerId === customerId)
    .map((r) => `${r.trigger.rule}: ${r.outcome.outcome}${'reason' in r.outcome ? ` (${r.outcome.reason})` : ''}`);

describe('pure pipeline: ingest → triggers → campaigns in memory', () => {
  it('takes a handful of customers through the real rules and guardrails', async () => {
    const { bodies } = scenario();
    const p = createPipeline({ now, sendPolicy: noControl });
    await p.run(bodies);

    expect(outcomes(p, 'ada')).toEqual(['billing-complaint: sent']);
    expect(outcomes(p, 'bob')).toEqual(['billing-complaint: skipped (no-marketing-consent)']);
    expect(outcomes(p, 'cy')).toEqual([]); // 40 days old: history fires nothing
    expect(outcomes(p, 'dee')).toEqual([
      'billing-complaint: sent',
      'downgrade: skipped (cooldown)',
      'cancelled-with-winback-permission: sent',
      'repeated-payment-failures: skipped (cooldown)',
    ]);
    expect(outcomes(p, 'eve')).toEqual(['billing-complaint: skipped (prefers-sms)']);

    expect(p.mailer.sent.map((m) => m.to)).toEqual(['ada@example.com', 'dee@example.com', 'dee@example.com']);
    expect(p.publisher.ofType('EmailSent')).toHaveLength(3);
    expect(p.publisher.ofType('EmailSkipped').map((e) => e.reason).sort()).toEqual(['cooldown', 'cooldown', 'no-marketing-consent', 'prefers-sms']);
    expect(p.rejected.rejected.map((r) => r.rejection.code)).toEqual(['invalid-detail']);
    // Every trigger is recorded once and marked published; every ledger entry completed and published.
    for (const t of p.publisher.ofType('ChurnTriggerFired')) {
      expect(await p.store.getTrigger(t.customerId, t.triggerId)).toEqual({ firedAt: scenarioNow.toISOString(), published: true });
    }
    const ledger = await p.store.recentSends('dee', new Date(0));
    expect(ledger.ledgerVersion).toBe(4);
    expect(ledger.records.map((r) => [r.status, Boolean(r.publishedAt)])).toEqual([
      ['sent', true], // retention-save#billing-complaint#…
      ['skipped', true], // retention-save#downgrade#…
      ['skipped', true], // retention-save#repeated-payment-failures#…
      ['sent', true], // winback-counter-offer#…
    ]);
  });

  it('stores a duplicate once and sends one email for it, in the same batch or a later one', async () => {
    const { bodies, adaComplaintId } = scenario();
    const p = createPipeline({ now, sendPolicy: noControl });
    const [first] = [await p.ingest(bodies.slice(0, 3))];
    expect(first.map((r) => r.outcome)).toEqual(['stored', 'stored', 'stored']);
    const again = await p.ingest([bodies[2]!, bodies[2]!]);
    expect(again.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);
    expect((await p.store.getProfile('ada'))?.supportCallCount).toBe(1);
    expect(p.publisher.ofType('ChurnTriggerFired').map((t) => t.sourceEventIds)).toEqual([[adaComplaintId]]);
    expect(p.mailer.sent).toHaveLength(1);
  });

  it('gives the same profiles, triggers and emails when a batch arrives out of order', async () => {
    const { bodies } = scenario();
    const inOrder = createPipeline({ now, sendPolicy: noControl });
    await inOrder.ingest(bodies);
    const reversed = createPipeline({ now, sendPolicy: noControl });
    await reversed.ingest([...bodies].reverse());
    for (const id of ['ada', 'bob', 'cy', 'dee', 'eve']) expect(await reversed.store.getProfile(id), id).toEqual(await inOrder.store.getProfile(id));
    const ids = (p: typeof inOrder) => p.publisher.ofType('ChurnTriggerFired').map((t) => t.triggerId).sort();
    expect(ids(reversed)).toEqual(ids(inOrder));
    expect(reversed.mailer.sent.map((m) => m.to).sort()).toEqual(inOrder.mailer.sent.map((m) => m.to).sort());
  });

  it('skips a trigger that arrives before the customer is known (the documented limit), and emails once it is', async () => {
    const p = createPipeline({ now, sendPolicy: noControl });
    await p.ingest([raw('SupportCallLogged', { customerId: 'fay', occurredAt: ago(1), reason: 'billing' })]);
    await p.ingest(customer('fay'));
    await p.ingest([raw('SupportCallLogged', { customerId: 'fay', occurredAt: ago(0.5), reason: 'billing' })]);
    expect(outcomes(p, 'fay')).toEqual(['billing-complaint: skipped (no-email-address)', 'billing-complaint: sent']);
  });

  it('fires a collective trigger once, whichever of its signals arrives last', async () => {
    const usage = (id: string) =>
      ['2026-07-15', '2026-08-15', '2026-09-15', '2026-10-15'].map((d, i) =>
        raw('UsageRecorded', { customerId: id, occurredAt: `${d}T10:00:00Z`, productId: 'tv', quantity: i === 3 ? 5 : 100 }),
      );
    const network = (id: string) => raw('SupportCallLogged', { customerId: id, occurredAt: ago(1), reason: 'network' });
    const recent = (id: string) => raw('UsageRecorded', { customerId: id, occurredAt: ago(0.2), productId: 'tv', quantity: 1 });
    const p = createPipeline({ now, sendPolicy: noControl });
    await p.ingest([...customer('u1'), ...usage('u1')]);
    await p.ingest([network('u1')]);
    await p.ingest([recent('u1')]);
    await p.ingest([...customer('u2'), network('u2')]);
    await p.ingest(usage('u2'));
    await p.ingest([recent('u2')]);
    const fired = p.publisher.ofType('ChurnTriggerFired').filter((t) => t.rule === 'usage-decline-with-network-complaint');
    expect(fired.map((t) => t.customerId).sort()).toEqual(['u1', 'u2']);
  });

  it('makes redelivery harmless: a stream record or a trigger delivered again sends nothing new', async () => {
    const { bodies } = scenario();
    const p = createPipeline({ now, sendPolicy: noControl });
    await p.run(bodies);
    const published = p.publisher.published.length;
    for (const { event } of [...p.triggerResults]) expect(await p.deliverStoredEvent(event)).toEqual([]);
    for (const t of p.publisher.ofType('ChurnTriggerFired')) expect((await p.deliverTrigger(t)).outcome).toBe('already-done');
    expect(p.publisher.published).toHaveLength(published);
    expect(p.mailer.sent).toHaveLength(3);
  });

  it('publishes on redelivery what a failed PutEvents missed, and retries a failed send once', async () => {
    const p = createPipeline({ now, sendPolicy: noControl });
    await p.ingest(customer('gus'));
    const complaint = raw('SupportCallLogged', { customerId: 'gus', occurredAt: ago(1), reason: 'billing' });
    const stored = validateInbound(complaint);
    if (!stored.ok) throw new Error(stored.reason);
    // The ChurnTriggerFired publish fails: the stream record is retried, and the trigger published then.
    const publish = p.publisher.publish.bind(p.publisher);
    const failing = new Set(['ChurnTriggerFired', 'EmailSent']);
    vi.spyOn(p.publisher, 'publish').mockImplementation(async (events) => {
      if (failing.delete(events[0]!.detailType)) throw new Error(`PutEvents of ${events[0]!.detailType} throttled`);
      return publish(events);
    });
    await expect(p.ingest([complaint])).rejects.toThrow(/ChurnTriggerFired throttled/);
    expect(p.publisher.ofType('ChurnTriggerFired')).toHaveLength(0);
    // SES fails once: the claim is released and the redelivery sends.
    vi.spyOn(p.mailer, 'send').mockRejectedValueOnce(new Error('SES throttled'));
    await expect(p.deliverStoredEvent(stored.event).then(p.drain)).rejects.toThrow(/SES throttled/);
    const [trigger] = p.publisher.ofType('ChurnTriggerFired');
    expect(p.mailer.sent).toHaveLength(0);
    // The EmailSent publish fails after the send: the redelivery publishes it and sends nothing.
    await expect(p.deliverTrigger(trigger!)).rejects.toThrow(/EmailSent throttled/);
    expect(p.mailer.sent).toHaveLength(1);
    expect(p.publisher.ofType('EmailSent')).toHaveLength(0);
    expect((await p.deliverTrigger(trigger!)).outcome).toBe('already-done');
    expect((await p.deliverTrigger(trigger!)).outcome).toBe('already-done');
    expect(p.publisher.ofType('EmailSent')).toHaveLength(1);
    expect(p.mailer.sent).toHaveLength(1);
  });

  it('holds out the control group and keeps the weekly cap', async () => {
    const { bodies } = scenario();
    const all = createPipeline({ now, sendPolicy: { ...defaultSendPolicy, controlGroupPercent: 100 } });
    await all.run(bodies);
    expect(all.mailer.sent).toHaveLength(0);
    expect(outcomes(all, 'ada')).toEqual(['billing-complaint: control (control group (100%))']);
    const capped = createPipeline({ now, sendPolicy: { ...noControl, frequencyCapPerWeek: 1 } });
    await capped.run(bodies);
    expect(outcomes(capped, 'dee')).toContain('cancelled-with-winback-permission: skipped (frequency-cap)');
  });
});
