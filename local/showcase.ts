/**
 * A few producer events, put on the bus after the synthetic history, so that one local run
 * shows the campaign types that need something to happen now: a new customer's first order
 * (the welcome, asking to confirm marketing permission) and a subscriber's failed payment (a
 * collection notice with its right-sizing or payment-plan option). They go through the same
 * path as any producer's events (validated, stored, folded), two customers of their own
 * (`SHOWCASE-…`), so the generated history and its figures are untouched by them.
 */
import type { GeneratedEntry } from './synthetic/generate.ts';

const SOURCE = 'local.showcase';
const HOUR = 3_600_000;

export function showcaseEntries(now: Date): GeneratedEntry[] {
  const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * HOUR).toISOString();
  const entry = (type: string, detail: Record<string, unknown>): GeneratedEntry => ({
    Source: SOURCE,
    DetailType: type,
    Detail: JSON.stringify({ eventId: `showcase-${type}-${String(detail.customerId)}`, ...detail }),
  });
  const welcome = 'SHOWCASE-WELCOME';
  const payer = 'SHOWCASE-PAYMENT';
  return [
    entry('CustomerProfileUpdated', { customerId: welcome, occurredAt: at(3), email: 'new.customer@example.com', firstName: 'Nova', locale: 'en-GB', timeZone: 'Europe/London', customerType: 'adhoc' }),
    entry('OrderPlaced', { customerId: welcome, occurredAt: at(2), orderId: 'showcase-order-1', amount: 42, currency: 'EUR' }),
    entry('CustomerProfileUpdated', { customerId: payer, occurredAt: at(24 * 90), email: 'sam.subscriber@example.com', firstName: 'Sam', locale: 'de-DE', timeZone: 'Europe/Berlin', customerType: 'subscription' }),
    entry('ConsentChanged', { customerId: payer, occurredAt: at(24 * 90), channel: 'email', purpose: 'marketing', granted: true }),
    entry('SubscriptionStarted', { customerId: payer, occurredAt: at(24 * 80), subscriptionId: 'showcase-sub-1', productId: 'broadband', plan: 'max', monthlyPrice: 59, currency: 'EUR' }),
    entry('PaymentFailed', { customerId: payer, occurredAt: at(2), paymentId: 'showcase-payment-1', amount: 59, currency: 'EUR', reason: 'insufficient funds' }),
  ];
}
