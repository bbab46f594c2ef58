/**
 * Campaign response (docs/report.md, section 2): which ledger entries count, the attribution
 * window, the merge, and the figures, against hand-computed values.
 */
import { describe, expect, it } from 'vitest';
import { type CustomerProfile, emptyProfile } from '../../../shared/customers/profile.ts';
import type { SendRecord } from '../../../shared/ports.ts';
import {
  type ResponsePart,
  addResponses,
  campaignResponseFigures,
  decisionDays,
  emptyResponsePart,
  mergeResponseParts,
  responseGroup,
  responseSendsSince,
} from '../../../shared/report/response.ts';
import { wilsonInterval } from '../../../shared/stats/proportions.ts';

const RUN_DATE = '2026-11-30';
const window = { attributionDays: 7, decisionDays: 28 };
const ctx = { runDate: RUN_DATE, window };

const send = (sendId: string, campaign: string, status: SendRecord['status'], at: string, over: Partial<SendRecord> = {}): SendRecord => ({ sendId, customerId: 'x', campaign, status, at, ...over });

function profile(id: string, purchaseDays: Record<string, number>, responses: CustomerProfile['emailResponses'] = undefined): CustomerProfile {
  return { ...emptyProfile(id), purchaseDays, ...(responses && { emailResponses: responses }) };
}

describe('wilsonInterval', () => {
  // Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven
  // methods", Statistics in Medicine 17 (1998) 857–872, Table II, method 3 (the Wilson score interval).
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
    [29, 29, 0.883, 1],
  ])('%i of %i: (%f, %f)', (x, n, low, high) => {
    const i = wilsonInterval(x, n);
    expect(i.low).toBeCloseTo(low, 4);
    expect(i.high).toBeCloseTo(high, 4);
  });

  it('refuses counts that are not a proportion', () => {
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(0, 0)).toThrow(RangeError);
  });
});

describe('the decisions a night counts', () => {
  it('are those of the decision days whose window has closed by the run date', () => {
    // W = 7: the last day counted is the run date − 7, whose window (its 7 days after) ends on the run date
    expect(decisionDays(RUN_DATE, window)).toEqual({ from: '2026-10-27', to: '2026-11-23' });
    expect(decisionDays('2026-03-01', { attributionDays: 1, decisionDays: 1 })).toEqual({ from: '2026-02-28', to: '2026-02-28' });
    expect(responseSendsSince(RUN_DATE, window).toISOString()).toBe('2026-10-27T00:00:00.000Z');
  });

  it('sort sent emails, the global holdout and the control groups apart, and nothing else', () => {
    expect(responseGroup({ status: 'sent' })).toBe('sent');
    expect(responseGroup({ status: 'control', reason: 'global holdout (5%)' })).toBe('holdout');
    expect(responseGroup({ status: 'control', reason: 'control group (10%)' })).toBe('control');
    for (const status of ['skipped', 'deferred', 'sending', 'submitted', 'parked'] as const) expect(responseGroup({ status })).toBeUndefined();
  });
});

describe('addResponses', () => {
  it('counts opens, clicks, purchases and spend in the W days after each decision (hand-computed)', () => {
    const part = emptyResponsePart();
    // A: sent on 11-10; opened that day, clicked on 11-18 (after the window); bought on 11-10 (the decision's
    // own day: left out), 11-12 and 11-17 (D + 7: in), 11-18 (D + 8: out).
    addResponses(
      part,
      {
        profile: profile('A', { '2026-11-10': 30, '2026-11-12': 20, '2026-11-17': 15, '2026-11-18': 99 }, { m1: { messageId: 'm1', sendId: 's1', opens: 2, clicks: 1, firstOpenAt: '2026-11-10T10:00:00.000Z', firstClickAt: '2026-11-18T08:00:00.000Z' } }),
        kind: 'adhoc',
        tier: 'top',
        sends: [
          send('s1', 'cross-sell', 'sent', '2026-11-10T09:00:00.000Z', { messageId: 'm1' }),
          send('s2', 'cross-sell', 'skipped', '2026-11-11T09:00:00.000Z', { reason: 'frequency-cap' }),
          send('s3', 'cross-sell', 'sent', '2026-11-24T09:00:00.000Z'), // its window is still open
          send('s4', 'cross-sell', 'sent', '2026-10-26T23:00:00.000Z'), // before the first decision day
        ],
      },
      ctx,
    );
    // B: in the campaign's control group on 11-01, bought on 11-05.
    addResponses(part, { profile: profile('B', { '2026-11-05': 12 }), kind: 'subscription', tier: 'low', sends: [send('b1', 'cross-sell', 'control', '2026-11-01T12:00:00.000Z', { reason: 'control group (10%)' })] }, ctx);
    // C: in the global holdout on 11-23 (the last day counted), bought nothing.
    addResponses(part, { profile: profile('C', {}), kind: 'adhoc', tier: 'top', sends: [send('c1', 'cross-sell', 'control', '2026-11-23T00:00:00.000Z', { reason: 'global holdout (5%)' })] }, ctx);
    // D: welcome sent on 10-27 (the first day counted); the response found by its SES message id, opened at
    // the last instant of the window and clicked; bought on 11-03 (D + 7).
    addResponses(
      part,
      {
        profile: profile('D', { '2026-11-03': 50 }, { m9: { messageId: 'm9', opens: 1, clicks: 1, firstOpenAt: '2026-11-03T23:59:59.999Z', firstClickAt: '2026-10-27T00:30:00.000Z' } }),
        kind: 'subscription',
        tier: 'medium',
        sends: [send('d1', 'welcome', 'sent', '2026-10-27T00:00:00.000Z', { messageId: 'm9' })],
      },
      ctx,
    );
    const m = (n: number, sum: number, sumSq: number) => ({ n, sum, sumSq });
    expect(part).toEqual({
      attributionDays: 7,
      decidedFrom: '2026-10-27',
      decidedTo: '2026-11-23',
      cells: {
        'cross-sell': {
          'sent|adhoc|top': { decisions: 1, opened: 1, clicked: 0, purchased: 1, spend: m(1, 35, 1225) },
          'control|subscription|low': { decisions: 1, opened: 0, clicked: 0, purchased: 1, spend: m(1, 12, 144) },
          'holdout|adhoc|top': { decisions: 1, opened: 0, clicked: 0, purchased: 0, spend: m(1, 0, 0) },
        },
        welcome: { 'sent|subscription|medium': { decisions: 1, opened: 1, clicked: 1, purchased: 1, spend: m(1, 50, 2500) } },
      },
    });
  });

  it('counts a campaign the catalog does not have under "(other)"', () => {
    const part = emptyResponsePart();
    addResponses(part, { profile: profile('E', {}), kind: 'adhoc', tier: 'low', sends: [send('e1', '<b>x</b>', 'sent', '2026-11-01T00:00:00.000Z')] }, ctx);
    expect(Object.keys(part.cells)).toEqual(['(other)']);
  });
});

describe('mergeResponseParts', () => {
  const parts: ResponsePart[] = ['A', 'B', 'C'].map((id, k) => {
    const part = emptyResponsePart();
    addResponses(part, { profile: profile(id, { '2026-11-02': 10 * (k + 1) }), kind: k ? 'adhoc' : 'subscription', tier: 'top', sends: [send(`${id}1`, 'reward', k === 2 ? 'control' : 'sent', '2026-11-01T08:00:00.000Z')] }, ctx);
    return part;
  });
  it('is associative and commutative, with the empty part as identity', () => {
    const [a, b, c] = parts as [ResponsePart, ResponsePart, ResponsePart];
    const left = mergeResponseParts(mergeResponseParts(a, b), c);
    expect(mergeResponseParts(a, mergeResponseParts(b, c))).toEqual(left);
    expect(mergeResponseParts(c, mergeResponseParts(b, a))).toEqual(left);
    expect(mergeResponseParts(emptyResponsePart(), a)).toEqual(a);
    expect(mergeResponseParts(a, undefined)).toEqual(a);
    expect(left.cells.reward!['sent|adhoc|top']).toEqual({ decisions: 1, opened: 0, clicked: 0, purchased: 1, spend: { n: 1, sum: 20, sumSq: 400 } });
  });
});

describe('campaignResponseFigures', () => {
  const moments = (values: number[]) => ({ n: values.length, sum: values.reduce((s, x) => s + x, 0), sumSq: values.reduce((s, x) => s + x * x, 0) });
  // Sent: 40 emails, 16 opened, 4 clicked, 10 bought (25 € each); held back: 12 in the holdout (1 bought) and
  // 8 in the control group (1 bought), 20 € each.
  const part: ResponsePart = {
    attributionDays: 7,
    decidedFrom: '2026-10-27',
    decidedTo: '2026-11-23',
    cells: {
      'retention-save': {
        'sent|subscription|top': { decisions: 30, opened: 12, clicked: 3, purchased: 8, spend: moments([...Array(8).fill(25), ...Array(22).fill(0)]) },
        'sent|adhoc|high': { decisions: 10, opened: 4, clicked: 1, purchased: 2, spend: moments([25, 25, ...Array(8).fill(0)]) },
        'holdout|subscription|top': { decisions: 12, opened: 0, clicked: 0, purchased: 1, spend: moments([20, ...Array(11).fill(0)]) },
        'control|adhoc|high': { decisions: 8, opened: 0, clicked: 0, purchased: 1, spend: moments([20, ...Array(7).fill(0)]) },
      },
    },
  };
  const f = campaignResponseFigures(part, 0.95);

  it('gives each campaign over all its decisions, then by kind and by tier', () => {
    expect(f.status).toBe('recorded');
    expect(f.rows.map((r) => `${r.campaign} ${r.slice}`)).toEqual(['retention-save all', 'retention-save kind:adhoc', 'retention-save kind:subscription', 'retention-save tier:top', 'retention-save tier:high']);
    expect(f.note).toContain('2026-10-27 to 2026-11-23');
  });

  it('gives rates with Wilson intervals and the purchase lift against the held back (hand-computed)', () => {
    const all = f.rows[0]!;
    expect(all.sent.decisions).toBe(40);
    expect(all.heldBack).toMatchObject({ decisions: 20, holdout: 12, control: 8 });
    expect(all.sent.opened!.rate).toBe(0.4);
    expect(all.sent.clicked!.rate).toBe(0.1);
    // 10 of 40: p = 0.25, z²/n = 0.0960365, centre 0.271905, half-width 0.130034
    expect(all.sent.purchased).toMatchObject({ count: 10, rate: 0.25 });
    expect(all.sent.purchased!.low).toBeCloseTo(0.14187, 5);
    expect(all.sent.purchased!.high).toBeCloseTo(0.40194, 5);
    // 2 of 20: (0.02787, 0.30103)
    expect(all.heldBack.purchased!.rate).toBe(0.1);
    expect(all.heldBack.purchased!.low).toBeCloseTo(0.02787, 5);
    expect(all.heldBack.purchased!.high).toBeCloseTo(0.30103, 5);
    expect(all.heldBack.opened).toBeUndefined();
    // lift 0.15, SE = √(0.25·0.75/40 + 0.1·0.9/20) = 0.0958514, ± 1.959964 SE
    expect(all.purchaseLift!.estimate).toBeCloseTo(0.15, 10);
    expect(all.purchaseLift!.low).toBeCloseTo(-0.037865, 5);
    expect(all.purchaseLift!.high).toBeCloseTo(0.337865, 5);
    // pooled: p = 12/60 = 0.2, SE = √(0.2·0.8·(1/40 + 1/20)) = 0.109545, z = 1.369306, p = 0.170904
    expect(all.purchaseLift!.pValue).toBeCloseTo(0.170904, 5);
    // mean spend 250/40 = 6.25 against 40/20 = 2
    expect(all.sent.meanSpend).toBe(6.25);
    expect(all.heldBack.meanSpend).toBe(2);
    expect(all.spendLift!.estimate).toBeCloseTo(4.25, 10);
  });

  it('compares each slice with the held back of the same slice', () => {
    const top = f.rows.find((r) => r.slice === 'tier:top')!;
    expect(top.sent.purchased!.count).toBe(8);
    expect(top.heldBack).toMatchObject({ decisions: 12, holdout: 12, control: 0 });
    expect(top.purchaseLift!.estimate).toBeCloseTo(8 / 30 - 1 / 12, 10);
  });

  it('says so when nothing was counted', () => {
    expect(campaignResponseFigures(undefined, 0.95)).toMatchObject({ status: 'no responses recorded yet', rows: [] });
    expect(campaignResponseFigures({ attributionDays: 7, decidedFrom: '2026-10-27', decidedTo: '2026-11-23', cells: {} }, 0.95).note).toContain('No email was sent or held back on the decision days 2026-10-27 to 2026-11-23');
  });
});
