/**
 * An in-memory CustomerStore for the unit tests of the domain services (and for mutation
 * testing, which needs them fast). It keeps the contract of the DynamoDB adapter that the
 * services rely on: events stored once by eventId, triggers recorded once, the send ledger's
 * claims with leases and the customer's ledger version. The adapter itself is tested against
 * DynamoDB Local (test/integration/customer-store.test.ts).
 */
import { applyEvent, emptyProfile, type CustomerProfile } from '../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../shared/events/catalog.ts';
import type { SendRecord } from '../../shared/campaigns/guardrails.ts';
import type { ClaimResult, CustomerStore, RecordEventResult } from '../../shared/ports.ts';
import type { TriggerDecision } from '../../shared/triggers/rules.ts';

type LedgerEntry = SendRecord & { leaseUntil?: number };

export class MemoryCustomerStore implements CustomerStore {
  readonly events = new Map<string, BusinessEvent>();
  readonly profiles = new Map<string, CustomerProfile>();
  readonly triggers = new Map<string, { decision: TriggerDecision; firedAt: string; publishedAt?: string }>();
  readonly sends = new Map<string, LedgerEntry>();
  readonly ledgerVersions = new Map<string, number>();
  readonly calls: { method: string; args: unknown[] }[] = [];

  private log(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  async recordEvent(event: BusinessEvent, receivedAt: Date): Promise<RecordEventResult> {
    return (await this.recordEvents(event.detail.customerId, [event], receivedAt))[0]!;
  }

  async recordEvents(customerId: string, events: BusinessEvent[], receivedAt: Date): Promise<RecordEventResult[]> {
    this.log('recordEvents', customerId, events, receivedAt);
    return events.map((e) => {
      if (e.detail.customerId !== customerId) throw new Error('recordEvents takes the events of one customer');
      const key = `${customerId}#${e.detail.eventId}`;
      if (this.events.has(key)) return { status: 'duplicate' } as const;
      this.events.set(key, e);
      const profile = applyEvent(this.profiles.get(customerId) ?? emptyProfile(customerId), e);
      this.profiles.set(customerId, profile);
      return { status: 'stored', profile: structuredClone(profile) } as const;
    });
  }

  async getProfile(customerId: string): Promise<CustomerProfile | undefined> {
    const p = this.profiles.get(customerId);
    return p && structuredClone(p);
  }

  async getTrigger(customerId: string, triggerId: string): Promise<{ firedAt: string; published: boolean } | undefined> {
    const t = this.triggers.get(`${customerId}#${triggerId}`);
    return t && { firedAt: t.firedAt, published: t.publishedAt !== undefined };
  }

  async recordTrigger(trigger: TriggerDecision, firedAt: Date): Promise<{ firedAt: string; published: boolean }> {
    this.log('recordTrigger', trigger, firedAt);
    const key = `${trigger.customerId}#${trigger.triggerId}`;
    if (!this.triggers.has(key)) this.triggers.set(key, { decision: trigger, firedAt: firedAt.toISOString() });
    return (await this.getTrigger(trigger.customerId, trigger.triggerId))!;
  }

  async markTriggerPublished(customerId: string, triggerId: string, at: Date): Promise<void> {
    this.log('markTriggerPublished', customerId, triggerId, at);
    const t = this.triggers.get(`${customerId}#${triggerId}`);
    if (!t) throw new Error(`no trigger ${triggerId}`);
    t.publishedAt ??= at.toISOString();
  }

  async recentSends(customerId: string, since: Date): Promise<{ records: SendRecord[]; ledgerVersion: number }> {
    this.log('recentSends', customerId, since);
    const records = [...this.sends.values()]
      .filter((s) => s.customerId === customerId && s.at >= since.toISOString())
      .map(({ leaseUntil: _, ...r }) => ({ ...r }));
    return { records, ledgerVersion: this.ledgerVersions.get(customerId) ?? 0 };
  }

  async claimSend(entry: { sendId: string; customerId: string; campaign: string }, now: Date, leaseSeconds: number, ledgerVersion: number): Promise<ClaimResult> {
    this.log('claimSend', entry, now, leaseSeconds, ledgerVersion);
    const key = `${entry.customerId}#${entry.sendId}`;
    const held = this.sends.get(key);
    if (held && !(held.status === 'sending' && held.leaseUntil! < now.getTime())) {
      if (held.status === 'sending') return { state: 'busy' };
      const { leaseUntil: _, ...record } = held;
      return { state: 'done', record };
    }
    if ((this.ledgerVersions.get(entry.customerId) ?? 0) !== ledgerVersion) return { state: 'stale' };
    this.sends.set(key, { ...entry, status: 'sending', at: now.toISOString(), leaseUntil: now.getTime() + leaseSeconds * 1000 });
    this.ledgerVersions.set(entry.customerId, ledgerVersion + 1);
    return { state: 'claimed' };
  }

  async completeSend(entry: SendRecord): Promise<void> {
    this.log('completeSend', entry);
    this.sends.set(`${entry.customerId}#${entry.sendId}`, { ...entry });
  }

  async markSendPublished(customerId: string, sendId: string, at: Date): Promise<void> {
    this.log('markSendPublished', customerId, sendId, at);
    const s = this.sends.get(`${customerId}#${sendId}`);
    if (!s) throw new Error(`no send ${sendId}`);
    s.publishedAt ??= at.toISOString();
  }

  async releaseSend(customerId: string, sendId: string): Promise<void> {
    this.log('releaseSend', customerId, sendId);
    const key = `${customerId}#${sendId}`;
    if (this.sends.get(key)?.status === 'sending') this.sends.delete(key);
  }
}
