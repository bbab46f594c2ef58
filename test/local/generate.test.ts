import { describe, expect, it } from 'vitest';
import { generate } from '../../local/synthetic/generate.ts';
import { createRandom } from '../../local/synthetic/random.ts';
import { inboundDetailTypes } from '../../shared/events/catalog.ts';
import { validateInbound } from '../../shared/events/validate.ts';
import { defaultSendPolicy, inControlGroup } from '../../shared/campaigns/guardrails.ts';
import { busEnvelope, createPipeline } from '../../shared/pipeline/run-pipeline.ts';
import type { GeneratedEntry } from '../../local/synthetic/generate.ts';

const now = new Date('2026-11-01T00:00:00Z');
/**
 * The billing complaints whose retention email goes out when the entries are replayed,
 * judged by the pure pipeline (the real validation, rules and guardrails, in memory) on
 * every entry the bus accepts, in the generated order.
 */
async function emailedComplaints(entries: GeneratedEntry[], controlGroupPercent = 10) {
  const p = createPipeline({ now: () => now, sendPolicy: { ...defaultSendPolicy, controlGroupPercent } });
  await p.run(entries.flatMap((e, i) => busEnvelope(e, `g-${i}`) ?? []));
  return p.campaignResults.filter((r) => r.trigger.rule === 'billing-complaint' && r.outcome.outcome === 'sent');
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

describe('synthetic generator', async () => {
  const data = await generate({ customers: 600, seed: 11, now });

  it('is deterministic for a seed and differs across seeds', async () => {
    const again = await generate({ customers: 600, seed: 11, now });
    expect(again.entries.map((e) => e.Detail)).toEqual(data.entries.map((e) => e.Detail));
    expect(again.stats).toEqual(data.stats);
    const other = await generate({ customers: 600, seed: 12, now });
    expect(other.entries.map((e) => e.Detail)).not.toEqual(data.entries.map((e) => e.Detail));
  });

  it('produces a realistic mix of customers and every inbound event type', () => {
    const s = data.stats;
    expect(s.subscriptionCustomers + s.adhocCustomers).toBe(600);
    expect(s.subscriptionCustomers / 600).toBeGreaterThan(0.3);
    expect(s.subscriptionCustomers / 600).toBeLessThan(0.5);
    expect(s.emailConsent / 600).toBeGreaterThan(0.65);
    expect(s.emailConsent / 600).toBeLessThan(0.9);
    // Not drawn by the synthetic base: EmailFeedback only SES can send (docs/email-feedback.md); cancellation
    // requests, account closures, exit-survey answers (the exit-survey page, docs/pages.md) and erasures (issue 11)
    // are tested on their own (test/unit/winback, test/integration/erasure, local-winback and pages-browser);
    // drawing them would move the fixed-seed local-run figures.
    const notGenerated: string[] = ['EmailFeedback', 'CancellationRequested', 'AccountClosed', 'ExitSurveyAnswered', 'CustomerErasureRequested'];
    for (const t of inboundDetailTypes) {
      if (notGenerated.includes(t)) expect(s.byType[t] ?? 0, t).toBe(0);
      else expect(s.byType[t], t).toBeGreaterThan(0);
    }
    expect(s.events / 600).toBeGreaterThan(8);
  });

  it('has billing complaints from consenting customers, recent enough to act on, and counts the emailed ones as the pipeline does', async () => {
    expect(data.stats.recentBillingComplaints).toBeGreaterThan(0);
    expect(data.stats.deliverableBillingComplaints).toBeGreaterThan(0);
    expect(data.stats.deliverableBillingComplaints).toBeLessThanOrEqual(data.stats.recentBillingComplaints);
    const emailed = await emailedComplaints(data.entries);
    expect(emailed.length).toBe(data.stats.deliverableBillingComplaints);
    for (const r of emailed) expect(inControlGroup(r.trigger.customerId, 'retention-save', 10)).toBe(false);
  });

  it('has a fully deliverable recent billing complaint for every seed, even with 20 customers (seed 2 had none)', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const small = await generate({ customers: 20, seed, now });
      expect(small.stats.deliverableBillingComplaints, `seed ${seed}`).toBeGreaterThanOrEqual(1);
      // Checked from the entries themselves, replayed through the pipeline.
      expect((await emailedComplaints(small.entries)).length, `seed ${seed}`).toBeGreaterThanOrEqual(1);
      // Still deterministic after the adjustment.
      expect((await generate({ customers: 20, seed, now })).entries.map((e) => e.Detail)).toEqual(small.entries.map((e) => e.Detail));
    }
    for (const customers of [1, 2, 3]) {
      for (let seed = 0; seed < 10; seed++) expect((await generate({ customers, seed, now })).stats.deliverableBillingComplaints, `${customers}/${seed}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('counts only deliverable complaints: none when everyone is in the control group', async () => {
    const all = await generate({ customers: 50, seed: 5, now, controlGroupPercent: 100 });
    expect(all.stats.recentBillingComplaints).toBeGreaterThan(0);
    expect(all.stats.deliverableBillingComplaints).toBe(0);
  });

  it('predicts the control group of the experiment the stack uses: another experiment holds out other customers', async () => {
    const v1 = await generate({ customers: 400, seed: 3, now, controlGroupPercent: 50 });
    const same = await generate({ customers: 400, seed: 3, now, controlGroupPercent: 50, controlGroupExperiment: 'v1' });
    const other = await generate({ customers: 400, seed: 3, now, controlGroupPercent: 50, controlGroupExperiment: 'v2' });
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

  it('can leave the malformed entries out', async () => {
    const clean = await generate({ customers: 50, seed: 3, now, malformed: false });
    expect(Object.values(clean.stats.malformed).every((n) => n === 0)).toBe(true);
  });
});
