import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextActions } from '../../../shared/events/catalog.ts';
import { defaultScoringConfig } from '../../../shared/scoring/config.ts';
import { valueTiers } from '../../../shared/scoring/next-best-action.ts';
import { riskBand, riskBands } from '../../../shared/scoring/risk.ts';
import { type StoredScore, type WriteThresholds, diffScore, keptRiskBand, keptValueTier } from '../../../shared/scoring/score-diff.ts';
import { valueTierOf } from '../../../shared/scoring/value-tiers.ts';

const t = defaultScoringConfig.writeThresholds;
const base: StoredScore = { kind: 'adhoc', clv: 100, pAlive: 0.8, churnRisk: 0.4, riskBand: 'low', valueTier: 'high', nextBestAction: 'up-sell', potentialSpend: 200 };

describe('write only what changed (default thresholds)', () => {
  it('the same score writes nothing', () => {
    expect(diffScore(base, { ...base }, t)).toEqual({ write: false, emit: false, changed: [] });
  });

  it('CLV: moves of up to max(1, 5 % of the stored value) are ignored', () => {
    expect(diffScore(base, { ...base, clv: 104.99 }, t).write).toBe(false);
    expect(diffScore(base, { ...base, clv: 105.01 }, t)).toEqual({ write: true, emit: false, changed: ['clv'] });
    // small values: the absolute floor of 1
    expect(diffScore({ ...base, clv: 3 }, { ...base, clv: 3.9 }, t).write).toBe(false);
    expect(diffScore({ ...base, clv: 3 }, { ...base, clv: 4.1 }, t).changed).toEqual(['clv']);
  });

  it('probabilities: moves above 0.02 count', () => {
    expect(diffScore(base, { ...base, pAlive: 0.815, churnRisk: 0.385 }, t).write).toBe(false);
    expect(diffScore(base, { ...base, pAlive: 0.83, churnRisk: 0.43 }, t).changed).toEqual(['pAlive', 'churnRisk']);
  });

  it('a tier or band change always writes and emits; an action change writes without emitting', () => {
    const huge = { absolute: 1e9, relative: 1e9 };
    const lax: WriteThresholds = { ...t, clv: huge, pAlive: huge, churnRisk: huge, potentialSpend: huge };
    expect(diffScore(base, { ...base, valueTier: 'top' }, lax)).toEqual({ write: true, emit: true, changed: ['valueTier'] });
    expect(diffScore(base, { ...base, riskBand: 'medium' }, lax)).toEqual({ write: true, emit: true, changed: ['riskBand'] });
    expect(diffScore(base, { ...base, nextBestAction: 'reward' }, lax)).toEqual({ write: true, emit: false, changed: ['nextBestAction'] });
  });

  it('a potential spend that appears or disappears counts', () => {
    const { potentialSpend: _p, ...without } = base;
    expect(diffScore(base, without, t).changed).toEqual(['potentialSpend']);
    expect(diffScore(without, base, t).changed).toEqual(['potentialSpend']);
  });

  it('a first score writes and emits (unless configured off)', () => {
    expect(diffScore(undefined, base, t)).toMatchObject({ write: true, emit: true });
    expect(diffScore(undefined, base, { ...t, emitOnFirstScore: false })).toMatchObject({ write: true, emit: false });
  });
});

describe('diff properties', () => {
  const score = fc.record({
    kind: fc.constantFrom('adhoc' as const, 'subscription' as const),
    clv: fc.double({ min: 0, max: 1e5, noNaN: true }),
    pAlive: fc.double({ min: 0, max: 1, noNaN: true }),
    churnRisk: fc.double({ min: 0, max: 1, noNaN: true }),
    riskBand: fc.constantFrom(...riskBands),
    valueTier: fc.constantFrom(...valueTiers),
    nextBestAction: fc.constantFrom(...nextActions),
    potentialSpend: fc.option(fc.double({ min: 0, max: 1e5, noNaN: true }), { nil: undefined }),
  }) as fc.Arbitrary<StoredScore>;
  const th = fc.record({ absolute: fc.double({ min: 0, max: 50, noNaN: true }), relative: fc.double({ min: 0, max: 1, noNaN: true }) });
  const thresholds = fc.record({ clv: th, pAlive: th, churnRisk: th, potentialSpend: th, emitOnFirstScore: fc.boolean() });
  const scale = fc.record({ absolute: fc.double({ min: 1, max: 10, noNaN: true }), relative: fc.double({ min: 1, max: 10, noNaN: true }) });

  it('raising the thresholds never adds a changed field (monotonic)', () => {
    fc.assert(
      fc.property(score, score, thresholds, scale, (a, b, lo, k) => {
        const up = (x: { absolute: number; relative: number }) => ({ absolute: x.absolute * k.absolute, relative: x.relative * k.relative });
        const hi: WriteThresholds = { ...lo, clv: up(lo.clv), pAlive: up(lo.pAlive), churnRisk: up(lo.churnRisk), potentialSpend: up(lo.potentialSpend) };
        const loose = diffScore(a, b, lo);
        const strict = diffScore(a, b, hi);
        for (const f of strict.changed) expect(loose.changed).toContain(f);
        if (strict.write) expect(loose.write).toBe(true);
        expect(strict.emit).toBe(loose.emit);
      }),
    );
  });

  it('emitting implies writing; an unchanged score never writes; emitting is exactly a tier or band change', () => {
    fc.assert(
      fc.property(score, score, thresholds, (a, b, th2) => {
        const d = diffScore(a, b, th2);
        if (d.emit) expect(d.write).toBe(true);
        expect(d.emit).toBe(a.valueTier !== b.valueTier || a.riskBand !== b.riskBand);
        expect(diffScore(a, { ...a }, th2).write).toBe(false);
      }),
    );
  });
});

describe('a stored tier or band is kept while the value is within its threshold of it', () => {
  const cuts = { top: 400, high: 200, medium: 80, lapsedBelow: 0.2 };
  const bands = { medium: 0.5, high: 0.8 };

  it('tiers: the CLV must be past the cut by more than max(1, 5 % of the cut); P(alive) past the lapsed line by more than 0.02', () => {
    // the medium cut is 80: its margin is 4
    expect(keptValueTier('low', 'medium', 83.9, 0.5, cuts, t)).toBe('low');
    expect(keptValueTier('low', 'medium', 84.1, 0.5, cuts, t)).toBe('medium');
    expect(keptValueTier('medium', 'low', 76.1, 0.5, cuts, t)).toBe('medium');
    expect(keptValueTier('medium', 'low', 75.9, 0.5, cuts, t)).toBe('low');
    // the top cut is 400: margin 20
    expect(keptValueTier('top', 'high', 381, 0.5, cuts, t)).toBe('top');
    expect(keptValueTier('high', 'top', 419, 0.5, cuts, t)).toBe('high');
    // a jump over a whole tier is never kept
    expect(keptValueTier('low', 'high', 250, 0.5, cuts, t)).toBe('high');
    // lapsed below P(alive) 0.2: kept up to 0.22, left for lapsed from 0.18 down
    expect(keptValueTier('lapsed', 'medium', 100, 0.21, cuts, t)).toBe('lapsed');
    expect(keptValueTier('lapsed', 'medium', 100, 0.23, cuts, t)).toBe('medium');
    expect(keptValueTier('medium', 'lapsed', 100, 0.19, cuts, t)).toBe('medium');
    expect(keptValueTier('medium', 'lapsed', 100, 0.17, cuts, t)).toBe('lapsed');
    // no stored tier, or the same: tonight's
    expect(keptValueTier(undefined, 'medium', 83.9, 0.5, cuts, t)).toBe('medium');
    // an infinite cut (no customer in the top share) has no margin
    expect(keptValueTier('top', 'high', 300, 0.5, { ...cuts, top: Infinity }, t)).toBe('high');
  });

  it('bands: the risk must be past the band line by more than 0.02', () => {
    expect(keptRiskBand('low', 'medium', 0.515, bands, t)).toBe('low');
    expect(keptRiskBand('low', 'medium', 0.525, bands, t)).toBe('medium');
    expect(keptRiskBand('high', 'medium', 0.785, bands, t)).toBe('high');
    expect(keptRiskBand('high', 'medium', 0.775, bands, t)).toBe('medium');
    expect(keptRiskBand('low', 'high', 0.81, bands, t)).toBe('high');
  });

  const value = fc.record({ clv: fc.double({ min: 0, max: 1000, noNaN: true }), pAlive: fc.double({ min: 0, max: 1, noNaN: true }), risk: fc.double({ min: 0, max: 1, noNaN: true }) });
  const th = fc.record({ absolute: fc.double({ min: 0, max: 50, noNaN: true }), relative: fc.double({ min: 0, max: 1, noNaN: true }) });
  const thresholds = fc.record({ clv: th, pAlive: th, churnRisk: th, potentialSpend: th, emitOnFirstScore: fc.boolean() });
  const scale = fc.double({ min: 1, max: 10, noNaN: true });
  const up = (x: WriteThresholds, k: number): WriteThresholds => {
    const m = (y: { absolute: number; relative: number }) => ({ absolute: y.absolute * k, relative: y.relative * k });
    return { ...x, clv: m(x.clv), pAlive: m(x.pAlive), churnRisk: m(x.churnRisk) };
  };

  it('the result is the stored category or tonight\'s; zero thresholds give tonight\'s; raising a threshold never changes a kept one', () => {
    fc.assert(
      fc.property(fc.constantFrom(...valueTiers), fc.constantFrom(...riskBands), value, thresholds, scale, (tier, band, v, lo, k) => {
        const freshTier = valueTierOf(v.clv, v.pAlive, cuts);
        const freshBand = riskBand(v.risk, bands);
        const keptT = keptValueTier(tier, freshTier, v.clv, v.pAlive, cuts, lo);
        const keptB = keptRiskBand(band, freshBand, v.risk, bands, lo);
        expect([tier, freshTier]).toContain(keptT);
        expect([band, freshBand]).toContain(keptB);
        const zero = { absolute: 0, relative: 0 };
        const none: WriteThresholds = { ...lo, clv: zero, pAlive: zero, churnRisk: zero };
        expect(keptValueTier(tier, freshTier, v.clv, v.pAlive, cuts, none)).toBe(freshTier);
        expect(keptRiskBand(band, freshBand, v.risk, bands, none)).toBe(freshBand);
        if (keptT === tier) expect(keptValueTier(tier, freshTier, v.clv, v.pAlive, cuts, up(lo, k))).toBe(tier);
        if (keptB === band) expect(keptRiskBand(band, freshBand, v.risk, bands, up(lo, k))).toBe(band);
      }),
    );
  });
});
