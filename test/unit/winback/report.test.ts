import { describe, expect, it } from 'vitest';
import { winbackReport, type LeaverFact } from '../../../shared/winback/report.ts';

const fact = (over: Partial<LeaverFact>): LeaverFact => ({ factId: 'f', leftOn: '2026-01-10', reasonCode: 'price', inSequence: true, offers: [], ...over });

describe('winbackReport', () => {
  const facts: LeaverFact[] = [
    fact({ factId: 'a', offers: [{ step: 1, offer: 'price-discount-1', on: '2026-01-24', via: 'email' }, { step: 2, offer: 'price-discount-2', on: '2026-03-11', via: 'email' }], outcome: { kind: 'returned', on: '2026-03-20' } }),
    fact({ factId: 'b', offers: [{ step: 1, offer: 'price-discount-1', on: '2026-01-24', via: 'email' }], outcome: { kind: 'stopped', why: 'no-winback-permission', on: '2026-02-01' } }),
    fact({ factId: 'c', leftOn: '2026-02-03', reasonCode: 'network', offers: [{ step: 1, offer: 'network-fix-news-1', on: '2026-02-17', via: 'email' }], outcome: { kind: 'returned', on: '2026-02-20' } }),
    fact({ factId: 'd', leftOn: '2026-02-05', reasonCode: 'network', inSequence: false, outcome: { kind: 'returned', on: '2026-04-01' } }),
    fact({ factId: 'e', leftOn: '2026-02-28', reasonCode: 'unknown', inSequence: false }),
  ];

  it('gives the winback rate by reason (in and out of a sequence), by offer, and the reasons by month', () => {
    expect(winbackReport(facts)).toEqual({
      leavers: 5,
      byReason: {
        network: { all: { leavers: 2, returned: 2, rate: 1 }, inSequence: { leavers: 1, returned: 1, rate: 1 }, notInSequence: { leavers: 1, returned: 1, rate: 1 } },
        price: { all: { leavers: 2, returned: 1, rate: 0.5 }, inSequence: { leavers: 2, returned: 1, rate: 0.5 }, notInSequence: { leavers: 0, returned: 0, rate: null } },
        unknown: { all: { leavers: 1, returned: 0, rate: 0 }, inSequence: { leavers: 0, returned: 0, rate: null }, notInSequence: { leavers: 1, returned: 0, rate: 0 } },
      },
      // a's return is credited to its latest offer before it (step 2), not to step 1
      byOffer: {
        'network-fix-news-1': { leavers: 1, returned: 1, rate: 1 },
        'price-discount-1': { leavers: 2, returned: 0, rate: 0 },
        'price-discount-2': { leavers: 1, returned: 1, rate: 1 },
      },
      reasonsByMonth: { '2026-01': { price: 2 }, '2026-02': { network: 2, unknown: 1 } },
    });
  });

  it('keeps to the range of leaving days; an empty range is an empty report', () => {
    expect(winbackReport(facts, { from: '2026-02-01', to: '2026-02-04' })).toMatchObject({ leavers: 1, reasonsByMonth: { '2026-02': { network: 1 } } });
    expect(winbackReport([], {})).toEqual({ leavers: 0, byReason: {}, byOffer: {}, reasonsByMonth: {} });
  });

  it('does not credit an offer made after the return', () => {
    const late = fact({ offers: [{ step: 1, offer: 'x-1', on: '2026-02-10', via: 'task' }], outcome: { kind: 'returned', on: '2026-02-01' } });
    expect(winbackReport([late]).byOffer).toEqual({ 'x-1': { leavers: 1, returned: 0, rate: 0 } });
  });
});
