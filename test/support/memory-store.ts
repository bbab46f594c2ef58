/**
 * The in-memory CustomerStore of the pure pipeline (shared/pipeline/in-memory-ports.ts), with
 * a log of the calls made to it and a read of a customer's whole send ledger, for the unit
 * tests of the domain services that use a store (sendCampaign, fireTriggers, ingestBatch).
 */
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../shared/events/catalog.ts';
import { InMemoryCustomerStore } from '../../shared/pipeline/in-memory-ports.ts';
import type { ClaimOptions, ClaimResult, PublishedItem, RecordedTrigger, RecordEventResult, RecordEventsOptions, SendClaim, SendRecord, TriggerDecision } from '../../shared/ports.ts';

export class MemoryCustomerStore extends InMemoryCustomerStore {
  readonly calls: { method: string; args: unknown[] }[] = [];

  constructor() {
    super({ empty: emptyProfile, apply: applyEvent });
  }

  /** Every ledger entry of the customer, with the ledger's version. */
  async ledger(customerId: string): Promise<{ records: SendRecord[]; ledgerVersion: number }> {
    return super.recentSends(customerId, new Date(0));
  }

  override async recordEvents(customerId: string, events: BusinessEvent[], receivedAt: Date, options?: RecordEventsOptions): Promise<RecordEventResult[]> {
    this.calls.push({ method: 'recordEvents', args: options ? [customerId, events, receivedAt, options] : [customerId, events, receivedAt] });
    return super.recordEvents(customerId, events, receivedAt, options);
  }

  override async recordTrigger(trigger: TriggerDecision, firedAt: Date): Promise<RecordedTrigger> {
    this.calls.push({ method: 'recordTrigger', args: [trigger, firedAt] });
    return super.recordTrigger(trigger, firedAt);
  }

  override async markPublished(customerId: string, item: PublishedItem, at: Date): Promise<void> {
    this.calls.push({ method: 'markPublished', args: [customerId, item, at] });
    return super.markPublished(customerId, item, at);
  }

  override async recentSends(customerId: string, since: Date): Promise<{ records: SendRecord[]; ledgerVersion: number }> {
    this.calls.push({ method: 'recentSends', args: [customerId, since] });
    return super.recentSends(customerId, since);
  }

  override async claimSend(entry: SendClaim, now: Date, leaseSeconds: number, ledgerVersion: number, options?: ClaimOptions): Promise<ClaimResult> {
    this.calls.push({ method: 'claimSend', args: options ? [entry, now, leaseSeconds, ledgerVersion, options] : [entry, now, leaseSeconds, ledgerVersion] });
    return super.claimSend(entry, now, leaseSeconds, ledgerVersion, options);
  }
}
