import { describe, expect, it } from 'vitest';
import { generate } from '../../local/synthetic/generate.ts';
import { createRandom } from '../../local/synthetic/random.ts';
import { inboundDetailTypes } from '../../shared/events/catalog.ts';
import { validateInbound } from '../../shared/events/validate.ts';
import { inControlGroup } from '../../shared/campaigns/guardrails.ts';
import type { GeneratedEntry } from '../../local/synthetic/generate.ts';

const now = new Date('2026-11-01T00:00:00Z');
const DAY = 86_400_000;

/**
 * Billing complaints of the last 12 days from customers a retention email reaches:
 * an email address, email marketing consent (last change granted), preferred channel
 * email or none, not in the 10 % retention-save control group, and no other
 * complaint, failed payment, downgrade or poor resolution in the 30 days before.
 */
function deliverableFromEntries(entries: GeneratedEntry[]) {
  // The events ingest stores (the deliberately malformed ones are rejected).
  const events = entries.flatMap((e) => {
    try {
      const d = JSON.parse(e.Detail) as Record<string, unknown>;
      return validateInbound({ source: e.Source, 'detail-type': e.DetailType, detail: d }).ok ? [{ type: e.DetailType, d }] : [];
    } catch {
      return [];
    }
  });
  const at = (d: Record<string, unknown>) => Date.parse(String(d.occurredAt));
  const last = new Map<string, { at: number; value: unknown }>();
  const set = (key: string, t: number, value: unknown) => {
    const cur = last.get(key);
    if (!cur || t >= cur.at) last.set(key, { at: t, value });
  };
  for (const { type, d } of events) {
    const c = String(d.customerId);
    if (type === 'ConsentChanged' && d.channel === 'email' && d.purpose === 'marketing') set(`consent:${c}`, at(d), d.granted);
    if (type === 'CustomerProfileUpdated' && d.email !== undefined) set(`email:${c}`, at(d), d.email);
    if (type === 'CustomerProfileUpdated' && d.preferredChannel !== undefined) set(`channel:${c}`, at(d), d.preferredChannel);
  }
  const blocks = ({ type, d }: { type: string; d: Record<string, unknown> }) =>
    (type === 'SupportCallLogged' && ['billing', 'network', 'technical', 'product', 'delivery'].includes(String(d.reason))) ||
    (type === 'SupportCallResolved' && (d.resolved === false || Number(d.resolutionMinutes) > 48 * 60)) ||
    (type === 'SubscriptionChanged' && d.change === 'downgrade') ||
    type === 'PaymentFailed';
  return events.filter(({ type, d }) => {
    if (type !== 'SupportCallLogged' || d.reason !== 'billing' || at(d) < now.getTime() - 12 * DAY) return false;
    const c = String(d.customerId);
    const channel = last.get(`channel:${c}`)?.value;
    if (last.get(`consent:${c}`)?.value !== true || !last.get(`email:${c}`)?.value || (channel !== undefined && channel !== 'email')) return false;
    if (inControlGroup(c, 'retention-save', 10)) return false;
    return !events.some((o) => o.d.customerId === c && o.d.eventId !== d.eventId && at(o.d) >= at(d) - 30 * DAY && at(o.d) < at(d) && blocks(o));
  });
}

describe('seeded random', () => {
  it('is deterministic and roughly uniform', () => {
    const a = createRandom(7);
    const b = createRandom(7);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    const r = createRandom(1);
    const gammas = Array.from({ length: 4000 }, () => r.gamma(2, 3));
    expect(gammas.reduce((s, x) => s + x, 0) / gammas.length).toBeCloseTo(6, 0);
    const betas = Array.from({ length: 4000 }, () => r.beta(2, 6));
    expect(betas.reduce((s, x) => s + x, 0) / betas.length).toBeCloseTo(0.25, 1);
  });
});

describe('synthetic generator', () => {
  const data = generate({ customers: 600, seed: 11, now });

  it('is deterministic for a seed and differs across seeds', () => {
    const again = generate({ customers: 600, seed: 11, now });
    expect(again.entries.map((e) => e.Detail)).toEqual(data.entries.map((e) => e.Detail));
    expect(again.stats).toEqual(data.stats);
    const other = generate({ customers: 600, seed: 12, now });
    expect(other.entries.map((e) => e.Detail)).not.toEqual(data.entries.map((e) => e.Detail));
  });

  it('produces a realistic mix of customers and every inbound event type', () => {
    const s = data.stats;
    expect(s.subscriptionCustomers + s.adhocCustomers).toBe(600);
    expect(s.subscriptionCustomers / 600).toBeGreaterThan(0.3);
    expect(s.subscriptionCustomers / 600).toBeLessThan(0.5);
    expect(s.emailConsent / 600).toBeGreaterThan(0.65);
    expect(s.emailConsent / 600).toBeLessThan(0.9);
    for (const t of inboundDetailTypes) expect(s.byType[t], t).toBeGreaterThan(0);
    expect(s.events / 600).toBeGreaterThan(8);
  });

  it('has billing complaints from consenting customers, recent enough to act on', () => {
    expect(data.stats.recentBillingComplaints).toBeGreaterThan(0);
    expect(data.stats.deliverableBillingComplaints).toBeGreaterThan(0);
    expect(data.stats.deliverableBillingComplaints).toBeLessThanOrEqual(data.stats.recentBillingComplaints);
    expect(deliverableFromEntries(data.entries).length).toBeGreaterThan(0);
  });

  it('has a fully deliverable recent billing complaint for every seed, even with 20 customers (seed 2 had none)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const small = generate({ customers: 20, seed, now });
      expect(small.stats.deliverableBillingComplaints, `seed ${seed}`).toBeGreaterThanOrEqual(1);
      // Checked from the events themselves, as the campaigns handler would see them.
      expect(deliverableFromEntries(small.entries).length, `seed ${seed}`).toBeGreaterThanOrEqual(1);
      // Still deterministic after the adjustment.
      expect(generate({ customers: 20, seed, now }).entries.map((e) => e.Detail)).toEqual(small.entries.map((e) => e.Detail));
    }
    for (const customers of [1, 2, 3]) {
      for (let seed = 0; seed < 10; seed++) expect(generate({ customers, seed, now }).stats.deliverableBillingComplaints, `${customers}/${seed}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('counts only deliverable complaints: none when everyone is in the control group', () => {
    const all = generate({ customers: 50, seed: 5, now, controlGroupPercent: 100 });
    expect(all.stats.recentBillingComplaints).toBeGreaterThan(0);
    expect(all.stats.deliverableBillingComplaints).toBe(0);
  });

  it('predicts the control group of the experiment the stack uses: another experiment holds out other customers', () => {
    const v1 = generate({ customers: 400, seed: 3, now, controlGroupPercent: 50 });
    const same = generate({ customers: 400, seed: 3, now, controlGroupPercent: 50, controlGroupExperiment: 'v1' });
    const other = generate({ customers: 400, seed: 3, now, controlGroupPercent: 50, controlGroupExperiment: 'v2' });
    expect(same.stats).toEqual(v1.stats);
    expect(other.stats.recentBillingComplaints).toBe(v1.stats.recentBillingComplaints);
    expect(other.stats.deliverableBillingComplaints).not.toBe(v1.stats.deliverableBillingComplaints);
  });

  it('writes emails as first.last.<n>@example.com and stays within the history window', () => {
    const profiles = data.entries.filter((e) => e.DetailType === 'CustomerProfileUpdated').map((e) => JSON.parse(e.Detail));
    expect(profiles.find((p) => p.email)?.email).toMatch(/^[a-z]+\.[a-z]+\.\d+@example\.com$/);
    const start = now.getTime() - 549 * 86_400_000;
    for (const e of data.entries) {
      if (!e.Time) continue;
      expect(e.Time.getTime()).toBeLessThanOrEqual(now.getTime());
      expect(e.Time.getTime()).toBeGreaterThanOrEqual(start);
    }
  });

  it('loads history customer by customer, then the live window mostly in time order, with some out of order and a few duplicates', () => {
    const parsed = data.entries
      .filter((e) => e.Time)
      .map((e) => ({ t: e.Time!.getTime(), customer: (JSON.parse(e.Detail) as { customerId?: string }).customerId }));
    const liveFrom = Math.max(...parsed.map((p) => p.t)) - 14 * 86_400_000;
    const firstLive = parsed.findLastIndex((p) => p.t < liveFrom - 86_400_000) + 1;
    const history = parsed.slice(0, firstLive);
    const live = parsed.slice(firstLive);
    // history: each customer's events together (a switch of customer is rare), each customer's mostly in time order
    const switches = history.filter((p, i) => i > 0 && p.customer !== history[i - 1]!.customer).length;
    expect(switches / history.length).toBeLessThan(0.2);
    let inversions = 0;
    for (let i = 1; i < live.length; i++) if (live[i]!.t < live[i - 1]!.t) inversions++;
    expect(inversions).toBeGreaterThan(0);
    expect(inversions / live.length).toBeLessThan(0.15); // 3% of events are moved, each making up to two inversions
    const ids = data.entries.map((e) => {
      try {
        return JSON.parse(e.Detail).eventId;
      } catch {
        return undefined;
      }
    }).filter((id) => id !== undefined);
    const dupes = ids.length - new Set(ids).size;
    expect(dupes).toBe(data.stats.duplicates);
    expect(dupes).toBeGreaterThan(0);
  });

  it('all events validate except the deliberately malformed ones, which fail for their reason', () => {
    const failures: string[] = [];
    for (const e of data.entries) {
      let detail: unknown;
      try {
        detail = JSON.parse(e.Detail);
      } catch {
        failures.push('not-json');
        continue;
      }
      const v = validateInbound({ source: e.Source, 'detail-type': e.DetailType, detail });
      if (!v.ok) failures.push(v.code);
    }
    const m = data.stats.malformed;
    const total = Object.values(m).reduce((a, b) => a + b, 0);
    expect(failures).toHaveLength(total);
    expect(failures.filter((f) => f === 'not-json')).toHaveLength(m['not-json']);
    expect(failures.filter((f) => f === 'too-large')).toHaveLength(m.oversized);
    expect(failures.filter((f) => f === 'unknown-detail-type')).toHaveLength(m['unknown-detail-type']);
    expect(failures.filter((f) => f === 'invalid-detail')).toHaveLength(m['missing-field'] + m['wrong-type'] + m['bad-enum'] + m['bad-timestamp']);
  });

  it('can leave the malformed entries out', () => {
    const clean = generate({ customers: 50, seed: 3, now, malformed: false });
    expect(Object.values(clean.stats.malformed).every((n) => n === 0)).toBe(true);
  });
});
