/**
 * A producer's event that asks for an email (shared/campaigns/requests.ts) while the profile does not
 * hold it yet: waited for (the handler retries the record), unless the customer was erased, whose
 * events ingest drops: then it asks for nothing at once instead of retrying into the dead-letter queue.
 */
import { describe, expect, it } from 'vitest';
import { decideStoredEventRequest } from '../../../shared/campaigns/requests.ts';
import { InMemoryPrivacyStore } from '../../../shared/pipeline/in-memory-ports.ts';
import { saltedHash } from '../../../shared/privacy/erasure.ts';
import type { CustomerProfile } from '../../../shared/customers/profile.ts';
import { emptyProfile } from '../../../shared/customers/profile.ts';
import { businessEvent } from '../../support/events.ts';

const now = new Date();
const invoice = (customerId: string) => businessEvent('InvoiceIssued', { customerId, invoiceId: `inv-${customerId}`, amount: 12, currency: 'EUR', occurredAt: new Date(now.getTime() - 60_000).toISOString() });

function deps(profiles: Record<string, CustomerProfile>, erased: string[]) {
  const privacy = new InMemoryPrivacyStore();
  let tombstoneReads = 0;
  const read = privacy.hasTombstone.bind(privacy);
  privacy.hasTombstone = (h) => (tombstoneReads++, read(h));
  for (const id of erased) privacy.tombstones.add(saltedHash('in-memory-salt', 'customer', id));
  return { d: { store: { getProfile: async (id: string) => profiles[id] }, privacy, now: () => now, freshnessDays: 3 }, reads: () => tombstoneReads };
}

describe('decideStoredEventRequest', () => {
  it("an erased customer's event asks for nothing (erased); one whose profile is not there yet is waited for", async () => {
    const { d } = deps({}, ['gone']);
    expect(await decideStoredEventRequest(invoice('gone'), d)).toEqual({ kind: 'none', reason: 'erased' });
    expect(await decideStoredEventRequest(invoice('soon'), d)).toEqual({ kind: 'wait', reason: 'no profile with an address yet' });
  });

  it('reads the tombstone only when it would wait', async () => {
    const profile = { ...emptyProfile('here'), email: { value: 'here@example.com', at: now.toISOString(), by: 'x' } } as CustomerProfile;
    const { d, reads } = deps({ here: profile }, []);
    expect(await decideStoredEventRequest(invoice('here'), d)).toMatchObject({ kind: 'request', request: { campaign: 'invoice' } });
    expect(reads()).toBe(0);
  });
});
